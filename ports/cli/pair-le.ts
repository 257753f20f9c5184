/**
 * `bthost pair ADDR --le` / `bthost pair --le --listen`: bond with an LE device through the
 * Security Manager (src/sm/), as `bthost pair` does over BR/EDR.
 *
 * The initiator (LE central) drops any bond it holds for ADDR, connects (gap_connect; --random for
 * a random address) and sends a Pairing Request (sm_request_pairing). `--listen` is the responder
 * (LE peripheral): it advertises connectable as "bthost pair" and answers the central's Pairing
 * Request; once bonded (the responder completes last: the initiator's keys end phase 3) it
 * disconnects and exits, and the initiator exits on that disconnection (or disconnects itself
 * after INITIATOR_LINGER_MS when the peer stays connected). Both sides use the pairing
 * flags of every command: --io (IO capability; with a display or keyboard we ask for MITM, so the
 * IO capabilities pick Numeric Comparison or Passkey Entry over Just Works, Vol 3 Part H 2.3.5.1),
 * --sc off or --legacy (LE legacy pairing instead of LE Secure Connections), --yes (accept a
 * Numeric Comparison without asking). Prompts and results go to stderr:
 *
 *   confirm value for ADDR: NNNNNN      (Numeric Comparison; --yes or y/n on stdin)
 *   passkey for ADDR: NNNNNN (type it on the other device)
 *   passkey shown by ADDR:              (six digits read from stdin)
 *   bonded with ADDR: MODEL, LE Secure Connections|LE legacy pairing, security level N, key size K, stored in WHERE
 *
 * Exit 0 only when the bond is in the LE device db; otherwise one line says why (the SMP reason).
 */
import { bd_addr_to_str, type BdAddr } from '../../src/core/bytes.js';
import {
  SM_AUTHREQ_BONDING,
  SM_AUTHREQ_MITM_PROTECTION,
  SM_AUTHREQ_SECURE_CONNECTION,
  SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
} from '../../src/codes/v1.4.js';
import type { Timer } from '../../src/core/run-loop.js';
import { CliHost } from './host.js';
import { status_text } from './format.js';
import type { CliOptions } from './options.js';
import type { Flags } from './options.js';
import { parse_addr, usage_error } from './common.js';
import { stdin_lines } from './agent.js';

/** SMP Pairing Failed reasons (Vol 3 Part H 3.5.5) in words. */
const SM_REASONS: Record<number, string> = {
  0x01: 'passkey entry failed',
  0x02: 'OOB not available',
  0x03: 'authentication requirements (MITM or Secure Connections asked for and not possible)',
  0x04: 'confirm value failed (wrong passkey?)',
  0x05: 'pairing not supported',
  0x06: 'encryption key size',
  0x07: 'command not supported',
  0x08: 'unspecified reason',
  0x09: 'repeated attempts',
  0x0a: 'invalid parameters',
  0x0b: 'DHKey check failed',
  0x0c: 'numeric comparison failed',
};

/** The initiator, bonded, waits this long for the responder to disconnect before it does (a peer that stays connected). */
const INITIATOR_LINGER_MS = 3000;

export function sm_reason_text(reason: number): string {
  return `${SM_REASONS[reason] ?? 'reason'} (0x${reason.toString(16).padStart(2, '0')})`;
}

export async function pair_le_main(options: CliOptions, flags: Flags): Promise<number> {
  const listen = flags.has('--listen');
  const args = flags.positional;
  let addr: BdAddr | null = null;
  if (listen) {
    if (args.length) return usage_error('pair', `--listen takes no address, got '${args[0]}'`);
  } else {
    const a = parse_addr(args[0] ?? (options.port.addr ? bd_addr_to_str(options.port.addr) : undefined));
    if (typeof a === 'string') return usage_error('pair', a);
    if (args.length > 1) return usage_error('pair', `unexpected argument '${args[1]}'`);
    addr = a;
  }
  const p = options.pairing;
  const sc = p.sc && !flags.has('--legacy');
  const addrType = flags.has('--random') ? 1 : 0;

  const host = new CliHost(options, 'pair');
  const input = stdin_lines();
  host.pairing_input = input;
  if (!(await host.open())) return host.exit_code;
  const stack = host.stack;
  const c = stack.codes;
  const sm = stack.sm;
  sm.sm_init();
  sm.sm_set_io_capabilities(p.io);
  sm.sm_set_authentication_requirements(
    SM_AUTHREQ_BONDING |
      (sc ? SM_AUTHREQ_SECURE_CONNECTION : 0) |
      (p.io === SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT ? 0 : SM_AUTHREQ_MITM_PROTECTION),
  );
  const peerStr = addr ? bd_addr_to_str(addr) : '';
  let handle = -1;
  let peer = peerStr;
  let model = '';
  let failure = '';
  let bonded = '';
  let linger: Timer | null = null;

  /** The result line once PAIRING_COMPLETE succeeded; '' when no bond was stored. */
  const result = (type: number, a: BdAddr): string => {
    const db = sm.le_device_db;
    const index = db.le_device_db_lookup(type, a);
    const enc = index >= 0 ? db.le_device_db_encryption_get(index) : null;
    if (!enc) return '';
    const where = host.key_file ?? 'memory (no --keys; gone when bthost exits)';
    return (
      `bonded with ${bd_addr_to_str(a)}: ${model || 'OOB'}, ${enc.secure_connection ? 'LE Secure Connections' : 'LE legacy pairing'}, ` +
      `security level ${stack.gap.gap_security_level(handle)}, key size ${enc.key_size}, stored in ${where}`
    );
  };

  const ask = (prompt: string, answer: (line: string | null) => void): void => {
    void input.ask(prompt).then((line) => stack.run_loop.execute_on_main_thread(() => answer(line)));
  };

  sm.sm_add_event_handler({
    callback: (_type, _channel, packet) => {
      host.trace(packet, 2 + packet[1]!);
      switch (packet[0]) {
        case c.SM_EVENT_JUST_WORKS_REQUEST:
          model = 'Just Works';
          sm.sm_just_works_confirm(c.sm_event_just_works_request_get_handle(packet));
          break;
        case c.SM_EVENT_NUMERIC_COMPARISON_REQUEST: {
          model = 'Numeric Comparison';
          const h = c.sm_event_numeric_comparison_request_get_handle(packet);
          const shown = String(c.sm_event_numeric_comparison_request_get_passkey(packet)).padStart(6, '0');
          host.say(`confirm value for ${peer}: ${shown}`);
          if (p.yes) {
            host.say('accepted (--yes)');
            sm.sm_numeric_comparison_confirm(h);
            break;
          }
          ask(`does ${peer} show ${shown}? [y/n] `, (line) => {
            if (line !== null && /^\s*y(es)?\s*$/i.test(line)) return sm.sm_numeric_comparison_confirm(h);
            failure = `pairing with ${peer} failed: ${line === null ? 'no answer to the confirmation (end of input)' : 'confirmation refused'}`;
            sm.sm_bonding_decline(h);
          });
          break;
        }
        case c.SM_EVENT_PASSKEY_DISPLAY_NUMBER: {
          model = 'Passkey Entry';
          const value = String(c.sm_event_passkey_display_number_get_passkey(packet)).padStart(6, '0');
          host.say(`passkey for ${peer}: ${value} (type it on the other device)`);
          break;
        }
        case c.SM_EVENT_PASSKEY_INPUT_NUMBER: {
          model = 'Passkey Entry';
          const h = c.sm_event_passkey_input_number_get_handle(packet);
          ask(`passkey shown by ${peer}: `, (line) => {
            const m = line === null ? null : /^\s*(\d{1,6})\s*$/.exec(line);
            if (m) return sm.sm_passkey_input(h, Number(m[1]));
            failure = `pairing with ${peer} failed: ${line === null ? 'no passkey (end of input)' : `not a passkey: '${line.trim()}' (six digits)`}`;
            sm.sm_bonding_decline(h);
          });
          break;
        }
        case c.SM_EVENT_PAIRING_COMPLETE: {
          if (c.sm_event_pairing_complete_get_handle(packet) !== handle) break;
          const status = c.sm_event_pairing_complete_get_status(packet);
          const reason = c.sm_event_pairing_complete_get_reason(packet);
          if (status !== 0) {
            failure ||=
              status === 0x05
                ? `pairing with ${peer} failed: ${sm_reason_text(reason)}`
                : `pairing with ${peer} failed: ${status_text(status)}`;
            return host.finish(1, failure);
          }
          bonded = result(c.sm_event_pairing_complete_get_addr_type(packet), c.sm_event_pairing_complete_get_address(packet));
          if (!bonded) return host.finish(1, `paired with ${peer}, but no bond was stored (the peer did not ask for bonding)`);
          host.say(bonded);
          // the responder completes last (it receives the initiator's keys, phase 3 ends with them):
          // it disconnects; the initiator waits for that, so its own last keys are not cut off
          if (listen) stack.gap.gap_disconnect(handle);
          else linger = host.after(INITIATOR_LINGER_MS, () => (handle >= 0 ? stack.gap.gap_disconnect(handle) : undefined));
          break;
        }
      }
    },
  });

  host.add_event_handler((packet) => {
    if (packet[0] === c.HCI_EVENT_LE_META && packet[2] === c.HCI_SUBEVENT_LE_CONNECTION_COMPLETE) {
      const status = c.hci_subevent_le_connection_complete_get_status(packet);
      const a = c.hci_subevent_le_connection_complete_get_peer_address(packet);
      if (listen) {
        if (status !== 0 || handle >= 0) return;
        handle = c.hci_subevent_le_connection_complete_get_connection_handle(packet);
        peer = bd_addr_to_str(a);
        host.say(`connection from ${peer} (LE)`);
        return;
      }
      if (bd_addr_to_str(a) !== peerStr) return;
      if (status !== 0) return host.finish(1, `cannot connect to ${peerStr} over LE: ${status_text(status)}`);
      handle = c.hci_subevent_le_connection_complete_get_connection_handle(packet);
      host.say(`connected to ${peerStr} (LE); pairing ...`);
      // after the SM has seen this connection (its HCI handler comes after ours)
      const h = handle;
      stack.run_loop.execute_on_main_thread(() => sm.sm_request_pairing(h));
      return;
    }
    if (packet[0] === c.HCI_EVENT_DISCONNECTION_COMPLETE) {
      if (c.hci_event_disconnection_complete_get_connection_handle(packet) !== handle) return;
      const reason = c.hci_event_disconnection_complete_get_reason(packet);
      handle = -1;
      host.cancel(linger);
      if (bonded) return host.finish(0);
      host.finish(1, failure || `${peer} disconnected before bonding (${status_text(reason)})`);
    }
  });

  host.power_on(() => {
    // the key file is known once working (it is named by the controller's address)
    if (host.le_device_db) sm.sm_set_le_device_db(host.le_device_db);
    const keys = host.key_file ?? 'memory';
    const mode = `io ${p.io_name}, ${sc ? 'LE Secure Connections' : 'LE legacy pairing'}, keys in ${keys}`;
    if (listen) {
      const name = 'bthost pair';
      const adv = Uint8Array.of(0x02, 0x01, 0x06, name.length + 1, 0x09, ...Buffer.from(name));
      stack.gap.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0);
      stack.gap.gap_advertisements_set_data(adv.length, adv);
      stack.gap.gap_advertisements_enable(1);
      host.say(`waiting for a device to pair with ${host.local_address} over LE on ${host.where} (${mode}; Ctrl-C to stop)`);
      return;
    }
    // as gap_dedicated_bonding over BR/EDR: an old bond goes first, so this really pairs
    const db = sm.le_device_db;
    const old = db.le_device_db_lookup(addrType, addr!);
    if (old >= 0) db.le_device_db_remove(old);
    host.say(`pairing with ${peerStr} over LE (${mode}) ...`);
    const st = stack.gap.gap_connect(addr!, addrType);
    if (st !== 0) host.finish(1, `cannot connect to ${peerStr} over LE: ${status_text(st)}`);
  });
  return host.run();
}
