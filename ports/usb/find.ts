/**
 * Which USB device a port names (sans-I/O): `usb` the first Bluetooth controller, `usb:VID:PID`
 * (hex, as lsusb prints them), `usb:BUS-PORTS` (the Linux sysfs name: bus 1, ports 1.2 -> `usb:1-1.2`).
 * A Bluetooth controller is a device or interface of class 0xE0 (wireless controller), subclass
 * 0x01 (RF controller), protocol 0x01 (Bluetooth programming interface): USB device class codes,
 * and the Core spec Vol 4 Part B 3.1.
 */
import type { UsbDeviceLike } from './binding.js';

export type UsbSelector =
  { kind: 'first' } | { kind: 'id'; vid: number; pid: number } | { kind: 'path'; bus: number; ports: number[] };

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

/** `usb`, `usb:0a12:0001`, `usb:1-1.2` -> a selector; else a problem (one line). */
export function parse_usb_spec(spec: string): UsbSelector | { problem: string } {
  if (spec === 'usb') return { kind: 'first' };
  let m = /^usb:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$/.exec(spec);
  if (m) return { kind: 'id', vid: parseInt(m[1]!, 16), pid: parseInt(m[2]!, 16) };
  m = /^usb:(\d{1,3})-(\d{1,3}(?:\.\d{1,3}){0,6})$/.exec(spec);
  if (m) return { kind: 'path', bus: Number(m[1]), ports: m[2]!.split('.').map(Number) };
  return { problem: `a USB port is usb, usb:VID:PID (hex, e.g. usb:0a12:0001) or usb:BUS-PORTS (e.g. usb:1-1.2), got '${spec}'` };
}

/** Whether the device is a Bluetooth controller (class E0/01/01 on the device or one of its interfaces). */
export function usb_is_bluetooth(d: UsbDeviceLike): boolean {
  const dd = d.deviceDescriptor;
  if (dd.bDeviceClass === 0xe0 && dd.bDeviceSubClass === 0x01 && dd.bDeviceProtocol === 0x01) return true;
  for (const alts of d.configDescriptor?.interfaces ?? [])
    for (const i of alts)
      if (i.bInterfaceClass === 0xe0 && i.bInterfaceSubClass === 0x01 && i.bInterfaceProtocol === 0x01) return true;
  return false;
}

/** `usb:1-1.2` (what --port takes to choose this device), or `usb:VID:PID` when the ports are unknown. */
export function usb_port_name(d: UsbDeviceLike): string {
  const ports = d.portNumbers ?? [];
  if (ports.length) return `usb:${d.busNumber}-${ports.join('.')}`;
  return usb_id_name(d);
}

/** `usb:0a12:0001`. */
export function usb_id_name(d: UsbDeviceLike): string {
  return `usb:${hex4(d.deviceDescriptor.idVendor)}:${hex4(d.deviceDescriptor.idProduct)}`;
}

/** The device a selector names, or one line saying there is none. */
export function usb_select(devices: readonly UsbDeviceLike[], sel: UsbSelector): { device: UsbDeviceLike } | { error: string } {
  let found: UsbDeviceLike | undefined;
  if (sel.kind === 'first') found = devices.find(usb_is_bluetooth);
  else if (sel.kind === 'id')
    found = devices.find((d) => d.deviceDescriptor.idVendor === sel.vid && d.deviceDescriptor.idProduct === sel.pid);
  else found = devices.find((d) => d.busNumber === sel.bus && (d.portNumbers ?? []).join('.') === sel.ports.join('.'));
  if (found) return { device: found };
  const what =
    sel.kind === 'first'
      ? 'no USB Bluetooth controller found'
      : sel.kind === 'id'
        ? `no USB device ${hex4(sel.vid)}:${hex4(sel.pid)}`
        : `no USB device at ${sel.bus}-${sel.ports.join('.')}`;
  return { error: `${what} (bthost list shows the controllers there are)` };
}
