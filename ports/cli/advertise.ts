/**
 * `bthost advertise [--name NAME] [--connectable] [--time SECONDS]`: LE advertising with the
 * flags and the complete local name. --connectable advertises ADV_IND and serves a GATT database
 * with the GAP service (Device Name = NAME) on our ATT server, printing each central that
 * connects (ATT_EVENT_CONNECTED) and leaves; without it ADV_NONCONN_IND. Runs --time seconds
 * (default: until Ctrl-C) and exits 0 then; 1 with one line when the controller refuses.
 * Rides through faults (a framing error, a Hardware Error, the port unplugged and back:
 * host.recover): one line each, advertising again once the stack is up; --once: the first fault
 * ends it with exit 1.
 */
import { bd_addr_to_str } from '../../src/core/bytes.js';
import { gatt_compile } from '../../src/att/gatt-compiler.js';
import { HCI_EVENT_PACKET } from '../../src/codes/v1.4.js';
import { CliHost } from './host.js';
import { status_text } from './format.js';
import { Flags, type CliOptions } from './options.js';
import { usage_error } from './common.js';

/** Advertising interval: 100 ms (0x00A0 x 0.625 ms), allowed for every advertising type. */
const INTERVAL = 0x00a0;

/** Flags (LE General Discoverable, BR/EDR not supported) and the Complete Local Name, as much as fits in 31 octets. */
export function advertising_data(name: string): Uint8Array {
  const n = new TextEncoder().encode(name).subarray(0, 31 - 5);
  const adv = new Uint8Array(5 + n.length);
  adv.set([0x02, 0x01, 0x06, n.length + 1, 0x09]);
  adv.set(n, 5);
  return adv;
}

export async function advertise_main(options: CliOptions): Promise<number> {
  const flags = new Flags(options.rest, ['--name', '--time'], ['--connectable']);
  const name = flags.get('--name') ?? 'bthost';
  const time = flags.get('--time') === undefined ? 0 : Number(flags.get('--time'));
  const connectable = flags.has('--connectable');
  const problem =
    flags.errors[0] ??
    (flags.positional.length ? `unexpected argument '${flags.positional[0]}'` : undefined) ??
    (name.length === 0 || name.includes('"') || /[\r\n]/.test(name)
      ? `--name: expected a name without quotes or newlines`
      : undefined) ??
    (!Number.isFinite(time) || time < 0 ? `--time: expected seconds, got '${flags.get('--time')}'` : undefined);
  if (problem) return usage_error('advertise', problem);

  const host = new CliHost(options, 'advertise');
  if (!(await host.open())) return host.exit_code;
  const stack = host.stack;
  const codes = stack.codes;
  let connections = 0;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const end = (): void => {
    out(`advertising stopped, ${connections} connection${connections === 1 ? '' : 's'}`);
    host.finish(0);
  };
  host.on_interrupt = end;
  host.recover = true;
  let timer: ReturnType<CliHost['after']> | null = null;

  if (connectable) {
    const db = gatt_compile(`PRIMARY_SERVICE, GAP_SERVICE\nCHARACTERISTIC, GAP_DEVICE_NAME, READ, "${name}"\n`);
    if (!db.profile_data) return usage_error('advertise', `--name: cannot serve '${name}' as the device name`);
    stack.att_server.att_server_init(db.profile_data);
    stack.att_server.att_server_register_packet_handler((type, _ch, p) => {
      if (type !== HCI_EVENT_PACKET) return;
      if (p[0] === codes.ATT_EVENT_CONNECTED) {
        connections++;
        const kind = codes.att_event_connected_get_address_type(p) === 0 ? 'public' : 'random';
        out(`connected: ${bd_addr_to_str(codes.att_event_connected_get_address(p))} (${kind})`);
      } else if (p[0] === codes.ATT_EVENT_DISCONNECTED) {
        // (GAP turns advertising on again after the link, as BTstack)
        out(`disconnected (handle 0x${codes.att_event_disconnected_get_handle(p).toString(16).padStart(4, '0')})`);
      }
    });
  }

  host.add_event_handler((p) => {
    // LE Set Advertising Enable refused (Command Complete with a status)
    if (p[0] === codes.HCI_EVENT_COMMAND_COMPLETE && p[3] === 0x0a && p[4] === 0x20 && p[5] !== 0)
      host.finish(1, `the controller refused to advertise: ${status_text(p[5]!)}`);
  });

  host.power_on(() => {
    const gap = stack.gap;
    const adv = advertising_data(name);
    gap.gap_advertisements_set_params(INTERVAL, INTERVAL, connectable ? 0x00 : 0x03, 0, new Uint8Array(6), 0x07, 0);
    gap.gap_advertisements_set_data(adv.length, adv);
    gap.gap_advertisements_enable(1);
    out(`advertising as "${name}" at ${host.local_address} (${connectable ? 'connectable' : 'non-connectable'})`);
    // (again after a fault: --time counts from the start)
    if (time > 0) timer ??= host.after(time * 1000, end);
  });
  return host.run();
}
