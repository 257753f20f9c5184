/**
 * `bthost scan`: classic inquiry and LE scan at the same time, shown as a table of devices
 * (address, type, RSSI, class of device, name). On a terminal the table is redrawn in place as
 * devices appear; otherwise a line is printed per device found or updated, then the table.
 * Classic devices without a name in their inquiry response are asked with Remote Name Request
 * once the inquiry is over, as BTstack's gap_inquiry example does.
 */
import { bd_addr_to_str, type BdAddr } from '../../src/core/bytes.js';
import { CliHost } from './host.js';
import { Flags, type CliOptions } from './options.js';
import { usage_error } from './common.js';
import { status_text } from './format.js';

interface Device {
  key: string;
  address: BdAddr;
  type: 'BR/EDR' | 'LE public' | 'LE random';
  rssi: number | null;
  class_of_device: number | null;
  name: string | null;
  /** Classic: page scan repetition mode and clock offset for the Remote Name Request. */
  psrm: number;
  clock_offset: number;
  name_state: 'none' | 'asked' | 'done';
}

/** The name in LE advertising data (AD types 0x09 complete, 0x08 shortened), or null. */
export function ad_name(data: Uint8Array): string | null {
  let short: string | null = null;
  for (let i = 0; i + 1 < data.length;) {
    const len = data[i]!;
    if (len === 0 || i + 1 + len > data.length) break;
    const type = data[i + 1]!;
    const v = data.subarray(i + 2, i + 1 + len);
    if (type === 0x09) return new TextDecoder().decode(v);
    if (type === 0x08) short = new TextDecoder().decode(v);
    i += 1 + len;
  }
  return short;
}

function row(d: Device): string {
  const rssi = d.rssi === null ? '' : `${d.rssi}`;
  const cod = d.class_of_device === null ? '' : `0x${d.class_of_device.toString(16).padStart(6, '0')}`;
  return `${bd_addr_to_str(d.address)}  ${d.type.padEnd(9)}  ${rssi.padStart(4)}  ${cod.padEnd(8)}  ${d.name ?? ''}`;
}

const HEADER = `ADDRESS            TYPE       RSSI  CLASS     NAME`;

export async function scan_main(options: CliOptions): Promise<number> {
  const flags = new Flags(options.rest, ['--time'], ['--classic', '--le']);
  const time = flags.get('--time') === undefined ? 5 : Number(flags.get('--time'));
  const problem =
    flags.errors[0] ??
    (flags.positional.length ? `unexpected argument '${flags.positional[0]}'` : undefined) ??
    (!Number.isFinite(time) || time <= 0 || time > 61
      ? `--time: expected seconds (0 < s <= 61), got '${flags.get('--time')}'`
      : undefined);
  if (problem) {
    return usage_error('scan', problem);
  }
  let classic = !flags.has('--le') || flags.has('--classic');
  let le = !flags.has('--classic') || flags.has('--le');
  const live = !!process.stdout.isTTY;

  const host = new CliHost(options, 'scan');
  if (!(await host.open())) return host.exit_code;
  const codes = host.stack.codes;
  const gap = host.stack.gap;
  const devices: Device[] = [];
  let drawn = 0;
  let inquiryDone = !classic;
  let scanDone = !le;
  let namesAsked = false;

  const draw = (d: Device, what: 'found' | 'update') => {
    if (!live) {
      process.stdout.write(`${what === 'found' ? 'found ' : 'update'}  ${row(d)}\n`);
      return;
    }
    // redraw the table in place
    if (drawn) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
    const lines = [HEADER, ...devices.map(row)];
    process.stdout.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };

  const upsert = (key: string, make: () => Device, update: (d: Device) => boolean) => {
    let d = devices.find((x) => x.key === key);
    if (!d) {
      d = make();
      devices.push(d);
      update(d);
      draw(d, 'found');
    } else if (update(d)) draw(d, 'update');
  };

  const nextName = (): boolean => {
    const d = devices.find((x) => x.type === 'BR/EDR' && x.name === null && x.name_state === 'none');
    if (!d) return false;
    d.name_state = 'asked';
    gap.gap_remote_name_request(d.address, d.psrm, d.clock_offset | 0x8000);
    return true;
  };

  const maybeDone = () => {
    if (!inquiryDone || !scanDone) return;
    if (!namesAsked) {
      namesAsked = true;
      if (nextName()) return;
    }
    if (devices.some((d) => d.name_state === 'asked')) return;
    if (!live) {
      process.stdout.write(`\n${HEADER}\n`);
      for (const d of devices) process.stdout.write(`${row(d)}\n`);
    }
    process.stdout.write(`${devices.length} device(s) found\n`);
    host.finish(0);
  };

  host.add_event_handler((packet) => {
    switch (packet[0]) {
      case codes.GAP_EVENT_INQUIRY_RESULT: {
        const addr = codes.gap_event_inquiry_result_get_bd_addr(packet);
        upsert(
          `c:${bd_addr_to_str(addr)}`,
          () => ({
            key: `c:${bd_addr_to_str(addr)}`,
            address: addr,
            type: 'BR/EDR',
            rssi: null,
            class_of_device: codes.gap_event_inquiry_result_get_class_of_device(packet),
            name: null,
            psrm: codes.gap_event_inquiry_result_get_page_scan_repetition_mode(packet),
            clock_offset: codes.gap_event_inquiry_result_get_clock_offset(packet),
            name_state: 'none',
          }),
          (d) => {
            let changed = false;
            if (codes.gap_event_inquiry_result_get_rssi_available(packet)) {
              const rssi = (codes.gap_event_inquiry_result_get_rssi(packet) << 24) >> 24;
              changed ||= rssi !== d.rssi;
              d.rssi = rssi;
            }
            if (d.name === null && codes.gap_event_inquiry_result_get_name_available(packet)) {
              d.name = new TextDecoder().decode(codes.gap_event_inquiry_result_get_name(packet));
              d.name_state = 'done';
              changed = true;
            }
            return changed;
          },
        );
        break;
      }
      case codes.GAP_EVENT_INQUIRY_COMPLETE:
        inquiryDone = true;
        maybeDone();
        break;
      case codes.HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE: {
        const addr = codes.hci_event_remote_name_request_complete_get_bd_addr(packet);
        const d = devices.find((x) => x.key === `c:${bd_addr_to_str(addr)}`);
        if (!d || d.name_state !== 'asked') break;
        d.name_state = 'done';
        if (codes.hci_event_remote_name_request_complete_get_status(packet) === 0) {
          d.name = codes.hci_event_remote_name_request_complete_get_remote_name(packet);
          draw(d, 'update');
        }
        if (!nextName()) maybeDone();
        break;
      }
      case codes.GAP_EVENT_ADVERTISING_REPORT: {
        const addr = codes.gap_event_advertising_report_get_address(packet);
        const addrType = codes.gap_event_advertising_report_get_address_type(packet);
        const type = addrType === 0 || addrType === 2 ? 'LE public' : 'LE random';
        const key = `l:${addrType & 1}:${bd_addr_to_str(addr)}`;
        upsert(
          key,
          () => ({
            key,
            address: addr,
            type,
            rssi: null,
            class_of_device: null,
            name: null,
            psrm: 0,
            clock_offset: 0,
            name_state: 'done',
          }),
          (d) => {
            const rssi = (codes.gap_event_advertising_report_get_rssi(packet) << 24) >> 24;
            let changed = rssi !== d.rssi && d.rssi === null;
            d.rssi = rssi;
            const name = ad_name(codes.gap_event_advertising_report_get_data(packet));
            if (name !== null && name !== d.name) {
              d.name = name;
              changed = true;
            }
            return changed;
          },
        );
        break;
      }
    }
  });

  host.power_on(() => {
    const hci = host.stack.hci;
    if (classic && !hci.hci_classic_supported()) {
      host.say('the controller has no BR/EDR (classic): LE scan only');
      classic = false;
      inquiryDone = true;
    }
    if (le && !hci.hci_le_supported()) {
      host.say('the controller has no LE: classic inquiry only');
      le = false;
      scanDone = true;
    }
    if (!classic && !le) return host.finish(1, 'the controller supports neither the requested classic inquiry nor LE scanning');
    const parts = [classic ? 'classic inquiry' : '', le ? 'LE scan' : ''].filter(Boolean).join(' + ');
    host.say(`scanning on ${host.where} for ${time} s (${parts}) ...`);
    if (classic) {
      const units = Math.max(1, Math.min(0x30, Math.round(time / 1.28)));
      const st = gap.gap_inquiry_start(units);
      if (st !== 0) return host.finish(1, `cannot start the inquiry: ${status_text(st)}`);
    }
    if (le) {
      gap.gap_set_scan_params(1, 0x0030, 0x0030, 0);
      gap.gap_start_scan();
      host.after(time * 1000, () => {
        gap.gap_stop_scan();
        scanDone = true;
        maybeDone();
      });
    }
  });
  host.on_interrupt = () => {
    process.stdout.write(`${devices.length} device(s) found (interrupted)\n`);
    host.finish(130);
  };
  return host.run();
}
