/**
 * The pairing agent of a `bthost` command: answers the pairing requests that reach the application
 * (BTstack's gap_ssp_* / gap_pin_code_* answers) as the flags say (--io, --yes, --pin, --sc, --ssp):
 *
 *   Just Works (User Confirmation Request without MITM, or our side cannot show a number)
 *                                  accepted, as BTstack's examples do
 *   Numeric Comparison (both DisplayYesNo, MITM asked by either side)
 *                                  the 6-digit value is printed; --yes accepts, else a line is read
 *                                  from stdin (when the command leaves stdin free): y / yes accepts
 *   Passkey Entry                  display: the passkey is printed; keyboard: six digits read from stdin
 *   legacy PIN                     --pin, else a line from stdin, else the negative reply
 *
 * Without an answer source the request gets its negative reply at once, and `failure` says why.
 * Auto accept is off: every answer is the agent's, so what the user sees is what was sent.
 */
import * as readline from 'node:readline';
import { bd_addr_to_str, reverse_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import {
  SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_GENERAL_BONDING,
  SSP_IO_AUTHREQ_MITM_PROTECTION_REQUIRED_GENERAL_BONDING,
  SSP_IO_CAPABILITY_DISPLAY_ONLY,
  SSP_IO_CAPABILITY_DISPLAY_YES_NO,
  SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT,
} from '../../src/codes/v1.4.js';
import type { Stack } from '../../src/stack.js';
import type { PairingOptions } from './options.js';
import { status_text } from './format.js';

/** Link key types (Link Key Notification, Core Vol 4 Part E 7.7.24) in words. */
export function link_key_type_text(type: number): string {
  switch (type) {
    case 0x00:
      return 'combination key (legacy PIN)';
    case 0x03:
      return 'debug combination key';
    case 0x04:
      return 'unauthenticated, P-192';
    case 0x05:
      return 'authenticated, P-192';
    case 0x06:
      return 'changed combination key';
    case 0x07:
      return 'unauthenticated, P-256';
    case 0x08:
      return 'authenticated, P-256';
    default:
      return `type ${type}`;
  }
}

/** Where the agent reads answers a person types: one line per question (null: end of input). */
export interface LineSource {
  ask(prompt: string): Promise<string | null>;
  close(): void;
}

/** Lines from process.stdin; the prompt goes to stderr (stdout carries the command's output). */
export function stdin_lines(): LineSource {
  let rl: readline.Interface | null = null;
  const queue: string[] = [];
  let ended = false;
  let waiting: ((line: string | null) => void) | null = null;
  const start = () => {
    if (rl) return;
    rl = readline.createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (line) => {
      if (waiting) {
        const w = waiting;
        waiting = null;
        w(line);
      } else queue.push(line);
    });
    rl.on('close', () => {
      ended = true;
      if (waiting) {
        const w = waiting;
        waiting = null;
        w(null);
      }
    });
  };
  return {
    ask(prompt) {
      process.stderr.write(prompt);
      start();
      // a terminal echoes the answer and its newline; a pipe does not: end the prompt's line here
      const answered = (line: string | null): string | null => {
        if (!process.stdin.isTTY) process.stderr.write('\n');
        return line;
      };
      if (queue.length) return Promise.resolve(answered(queue.shift()!));
      if (ended) return Promise.resolve(answered(null));
      return new Promise((resolve) => (waiting = (line) => resolve(answered(line))));
    },
    close() {
      rl?.close();
      process.stdin.destroy();
    },
  };
}

/** What the agent saw of a pairing, for the command's result line. */
export interface PairingReport {
  addr: string;
  /** Numeric Comparison / Passkey Entry / Just Works / legacy PIN, once known. */
  model: string;
  /** Key type of the Link Key Notification, or -1. */
  key_type: number;
  /** Why the agent refused, or ''. */
  refused: string;
  /** Status of the last failed pairing or authentication (PAIRING_COMPLETE, Authentication Complete), or 0. */
  failed: number;
}

export class PairingAgent {
  /** Per peer (display address): what was seen. */
  readonly reports = new Map<string, PairingReport>();
  private readonly remoteIo = new Map<string, [number, number]>();
  private readonly handles = new Map<number, BdAddr>();

  constructor(
    private readonly stack: Stack,
    private readonly o: PairingOptions,
    /** Lines typed by the user, or null when stdin belongs to the command's data. */
    private readonly input: LineSource | null,
    private readonly say: (line: string) => void,
  ) {}

  /** Settings before power on. */
  configure(): void {
    const gap = this.stack.gap;
    gap.gap_ssp_set_enable(this.o.ssp);
    gap.gap_secure_connections_enable(this.o.sc);
    gap.gap_ssp_set_io_capability(this.o.io);
    // with a display or keyboard we ask for MITM protection: the controller then picks Numeric
    // Comparison or Passkey Entry instead of Just Works (Core Vol 3 Part C 5.2.2.6)
    gap.gap_ssp_set_authentication_requirement(
      this.o.io === SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT
        ? SSP_IO_AUTHREQ_MITM_PROTECTION_NOT_REQUIRED_GENERAL_BONDING
        : SSP_IO_AUTHREQ_MITM_PROTECTION_REQUIRED_GENERAL_BONDING,
    );
    gap.gap_ssp_set_auto_accept(false);
  }

  report(addr: BdAddr): PairingReport {
    const a = bd_addr_to_str(addr);
    let r = this.reports.get(a);
    if (!r) {
      r = { addr: a, model: '', key_type: -1, refused: '', failed: 0 };
      this.reports.set(a, r);
    }
    return r;
  }

  /** Every HCI / GAP event of the stack. */
  event(packet: Uint8Array): void {
    const c = this.stack.codes;
    switch (packet[0]) {
      case c.HCI_EVENT_CONNECTION_COMPLETE:
        if (c.hci_event_connection_complete_get_status(packet) === 0)
          this.handles.set(
            c.hci_event_connection_complete_get_connection_handle(packet),
            c.hci_event_connection_complete_get_bd_addr(packet),
          );
        break;
      case c.HCI_EVENT_AUTHENTICATION_COMPLETE: {
        const a = this.handles.get(c.hci_event_authentication_complete_get_connection_handle(packet));
        const status = c.hci_event_authentication_complete_get_status(packet);
        if (a && status !== 0) this.report(a).failed = status;
        break;
      }
      case c.GAP_EVENT_PAIRING_COMPLETE: {
        const r = this.report(c.gap_event_pairing_complete_get_bd_addr(packet));
        r.failed = c.gap_event_pairing_complete_get_status(packet);
        if (r.failed === 0) r.refused = '';
        break;
      }
      case c.HCI_EVENT_DISCONNECTION_COMPLETE:
        this.handles.delete(c.hci_event_disconnection_complete_get_connection_handle(packet));
        break;
      case c.HCI_EVENT_IO_CAPABILITY_RESPONSE: {
        const addr = bd_addr_to_str(c.hci_event_io_capability_response_get_bd_addr(packet));
        this.remoteIo.set(addr, [
          c.hci_event_io_capability_response_get_io_capability(packet),
          c.hci_event_io_capability_response_get_authentication_requirements(packet),
        ]);
        break;
      }
      case c.HCI_EVENT_USER_CONFIRMATION_REQUEST:
        this.confirm(
          c.hci_event_user_confirmation_request_get_bd_addr(packet),
          c.hci_event_user_confirmation_request_get_numeric_value(packet),
        );
        break;
      case c.HCI_EVENT_USER_PASSKEY_NOTIFICATION: {
        const addr = c.hci_event_user_passkey_notification_get_bd_addr(packet);
        const value = String(c.hci_event_user_passkey_notification_get_numeric_value(packet)).padStart(6, '0');
        this.report(addr).model = 'Passkey Entry';
        this.say(`passkey for ${bd_addr_to_str(addr)}: ${value} (type it on the other device)`);
        break;
      }
      case c.HCI_EVENT_USER_PASSKEY_REQUEST:
        this.passkey(c.hci_event_user_passkey_request_get_bd_addr(packet));
        break;
      case c.HCI_EVENT_PIN_CODE_REQUEST:
        this.pinCode(c.hci_event_pin_code_request_get_bd_addr(packet));
        break;
      case c.HCI_EVENT_LINK_KEY_NOTIFICATION:
        // BD_ADDR (6), Link_Key (16), Key_Type (1): Core Vol 4 Part E 7.7.24
        this.report(reverse_bd_addr(packet, 2)).key_type = packet[24]!;
        break;
    }
  }

  private confirm(addr: BdAddr, value: number): void {
    const gap = this.stack.gap;
    const r = this.report(addr);
    const [io, auth] = this.remoteIo.get(r.addr) ?? [SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT, 0];
    const mitm = this.o.io !== SSP_IO_CAPABILITY_NO_INPUT_NO_OUTPUT || (auth & 1) !== 0;
    const numeric =
      mitm &&
      this.o.io === SSP_IO_CAPABILITY_DISPLAY_YES_NO &&
      (io === SSP_IO_CAPABILITY_DISPLAY_YES_NO || io === SSP_IO_CAPABILITY_DISPLAY_ONLY);
    if (!numeric) {
      r.model ||= 'Just Works';
      gap.gap_ssp_confirmation_response(addr);
      return;
    }
    r.model = 'Numeric Comparison';
    const shown = String(value).padStart(6, '0');
    this.say(`confirm value for ${r.addr}: ${shown}`);
    if (this.o.yes) {
      this.say('accepted (--yes)');
      gap.gap_ssp_confirmation_response(addr);
      return;
    }
    if (!this.input) {
      r.refused = 'Numeric Comparison needs --yes here (stdin carries the channel data)';
      gap.gap_ssp_confirmation_negative(addr);
      return;
    }
    void this.input.ask(`does ${r.addr} show ${shown}? [y/n] `).then((line) => {
      this.stack.run_loop.execute_on_main_thread(() => {
        if (line !== null && /^\s*y(es)?\s*$/i.test(line)) gap.gap_ssp_confirmation_response(addr);
        else {
          r.refused = line === null ? 'no answer to the confirmation (end of input)' : 'confirmation refused';
          gap.gap_ssp_confirmation_negative(addr);
        }
      });
    });
  }

  private passkey(addr: BdAddr): void {
    const gap = this.stack.gap;
    const r = this.report(addr);
    r.model = 'Passkey Entry';
    if (!this.input) {
      r.refused = 'Passkey Entry needs `bthost pair` (stdin carries the channel data)';
      gap.gap_ssp_passkey_negative(addr);
      return;
    }
    void this.input.ask(`passkey shown by ${r.addr}: `).then((line) => {
      this.stack.run_loop.execute_on_main_thread(() => {
        const m = line === null ? null : /^\s*(\d{1,6})\s*$/.exec(line);
        if (m) gap.gap_ssp_passkey_response(addr, Number(m[1]));
        else {
          r.refused = line === null ? 'no passkey (end of input)' : `not a passkey: '${line.trim()}' (six digits)`;
          gap.gap_ssp_passkey_negative(addr);
        }
      });
    });
  }

  private pinCode(addr: BdAddr): void {
    const gap = this.stack.gap;
    const r = this.report(addr);
    r.model = 'legacy PIN';
    if (this.o.pin !== undefined) {
      gap.gap_pin_code_response(addr, this.o.pin);
      return;
    }
    if (!this.input) {
      r.refused = `${r.addr} asks for a PIN (legacy pairing): give --pin`;
      gap.gap_pin_code_negative(addr);
      return;
    }
    void this.input.ask(`PIN for ${r.addr}: `).then((line) => {
      this.stack.run_loop.execute_on_main_thread(() => {
        const pin = line?.trim() ?? '';
        if (pin.length >= 1 && Buffer.byteLength(pin) <= 16) gap.gap_pin_code_response(addr, pin);
        else {
          r.refused = line === null ? 'no PIN (end of input)' : 'a PIN has 1 to 16 characters';
          gap.gap_pin_code_negative(addr);
        }
      });
    });
  }
}

/** Why an outgoing channel could not get the security it needs (its open failed with a security status), or null. */
export function security_failure(agent: PairingAgent, addr: string, level: number): string | null {
  const r = agent.reports.get(addr);
  if (!r || (!r.failed && !r.refused)) return null;
  const why = r.refused || status_text(r.failed);
  const stale = r.failed === 0x06 ? ' (the peer lost its key; ours is deleted too: connect again to pair anew)' : '';
  return `security level ${level} not reached with ${addr}: ${why}${stale}`;
}

/** True for --io values that can show a number (used in messages). */
export function io_has_display(io: number): boolean {
  return io === SSP_IO_CAPABILITY_DISPLAY_ONLY || io === SSP_IO_CAPABILITY_DISPLAY_YES_NO;
}
