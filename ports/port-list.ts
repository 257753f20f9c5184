/**
 * What controllers this machine has, and what to pass to `--port` for each (`bthost list`,
 * `--port auto`): serial ports (serialport's list), USB Bluetooth controllers (the optional `usb`
 * package, when installed) and the kernel's HCI devices (/sys/class/bluetooth). Each source is a
 * function, so the listing is tested with made-up ones.
 */
import { readdir } from 'node:fs/promises';
import { load_usb_binding, type UsbModuleLike } from './usb/binding.js';
import { usb_id_name, usb_is_bluetooth, usb_port_name } from './usb/find.js';

export interface PortCandidate {
  kind: 'serial' | 'usb' | 'hci';
  /** What --port takes: /dev/ttyACM0, usb:1-1.2, hci0. */
  port: string;
  /** What it is (manufacturer, VID:PID, ...). */
  detail: string;
}

/** One source's answer: its candidates, or why it could not look (a line). */
export interface PortSourceResult {
  kind: PortCandidate['kind'];
  found: PortCandidate[];
  note?: string;
}

export type PortSource = () => Promise<PortSourceResult>;

/** Serial ports, from serialport's list (USB ones with their VID:PID and manufacturer). */
export const serial_source: PortSource = async () => {
  try {
    const { SerialPort } = await import('serialport');
    const ports = await SerialPort.list();
    return {
      kind: 'serial',
      found: ports.map((p) => ({
        kind: 'serial' as const,
        port: p.path,
        detail:
          [p.manufacturer, p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : ''].filter(Boolean).join(' ') ||
          'serial port',
      })),
    };
  } catch (err) {
    return { kind: 'serial', found: [], note: `cannot list serial ports: ${(err as Error).message}` };
  }
};

/** USB Bluetooth controllers (class E0/01/01), through the usb package when it is installed. */
export function usb_source(
  load: () => Promise<{ ok: true; usb: UsbModuleLike } | { ok: false; error: string }> = () => load_usb_binding(),
): PortSource {
  return async () => {
    const l = await load();
    if (!l.ok) return { kind: 'usb', found: [], note: l.error };
    try {
      return {
        kind: 'usb',
        found: l.usb
          .getDeviceList()
          .filter(usb_is_bluetooth)
          .map((d) => ({
            kind: 'usb' as const,
            port: usb_port_name(d),
            detail: `USB Bluetooth controller ${usb_id_name(d).slice(4)}`,
          })),
      };
    } catch (err) {
      return { kind: 'usb', found: [], note: `cannot list USB devices: ${(err as Error).message}` };
    }
  };
}

/** The kernel's HCI devices (for the user channel). */
export function hci_source(dir = '/sys/class/bluetooth'): PortSource {
  return async () => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return { kind: 'hci', found: [] };
    }
    return {
      kind: 'hci',
      found: names
        .filter((n) => /^hci\d+$/.test(n))
        .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))
        .map((n) => ({ kind: 'hci' as const, port: n, detail: 'kernel HCI device (HCI user channel)' })),
    };
  };
}

export const DEFAULT_PORT_SOURCES: readonly PortSource[] = [hci_source(), usb_source(), serial_source];

/** Every source's answer, in order. */
export async function list_ports(sources: readonly PortSource[] = DEFAULT_PORT_SOURCES): Promise<PortSourceResult[]> {
  return Promise.all(sources.map((s) => s()));
}

/** `--port auto`: the one controller there is, or one line saying there is none (exit 1) or which to choose (exit 2). */
export function choose_auto_port(results: readonly PortSourceResult[]): { port: string } | { error: string; exit: 1 | 2 } {
  const all = results.flatMap((r) => r.found);
  if (all.length === 1) return { port: all[0]!.port };
  if (all.length === 0) return { error: '--port auto: no controller found (bthost list shows what was looked at)', exit: 1 };
  return {
    error: `--port auto: ${all.length} controllers, choose one: ${all.map((c) => `--port ${c.port}`).join(' | ')}`,
    exit: 2,
  };
}

/** The `bthost list` table: one line per controller, then a line per source that could not look. */
export function format_port_list(results: readonly PortSourceResult[]): string[] {
  const all = results.flatMap((r) => r.found);
  const lines: string[] = [];
  if (all.length === 0) lines.push('no controllers found');
  else {
    const w = Math.max(...all.map((c) => c.port.length)) + 8;
    for (const c of all) lines.push(`${c.kind.padEnd(7)} ${`--port ${c.port}`.padEnd(w)} ${c.detail}`);
  }
  for (const r of results) if (r.note) lines.push(`(${r.kind}: ${r.note})`);
  return lines;
}
