/**
 * A scripted HciTransport for HCI unit tests: records every packet the host sends and lets the
 * test feed hand-written controller packets (bytes from the Core spec) back in.
 */
import type { RunLoop } from '../../../src/core/run-loop.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { fromHex, hex } from '../../../src/core/bytes.js';
import type { HciTransport, TransportEvent, TransportEventHandler, TransportPacketHandler } from '../../../src/hci/transport.js';
import { Stack, type StackOptions } from '../../../src/stack.js';

export interface Sent {
  type: number;
  bytes: Uint8Array;
}

export class ScriptedTransport implements HciTransport {
  readonly name = 'scripted';
  run_loop!: RunLoop;
  private onPacket: TransportPacketHandler | null = null;
  private onEvent: TransportEventHandler | null = null;
  sent: Sent[] = [];
  opens = 0;
  closes = 0;
  can_send = true;
  fail_open = false;
  /** Emit 'closed' when closed (a real transport does). */
  report_closed = true;
  baudrates: number[] = [];
  /** What HCI reported through controller_acl_buffer_bytes (end of init). */
  acl_buffer_reports: number[] = [];
  controller_acl_buffer_bytes(bytes: number): void {
    this.acl_buffer_reports.push(bytes);
  }

  init(run_loop: RunLoop): void {
    this.run_loop = run_loop;
  }
  register_packet_handler(handler: TransportPacketHandler): void {
    this.onPacket = handler;
  }
  register_event_handler(handler: TransportEventHandler): void {
    this.onEvent = handler;
  }
  open(): void {
    this.opens++;
    this.run_loop.execute_on_main_thread(() =>
      this.emit(this.fail_open ? { type: 'open-failed', error: 'scripted failure' } : { type: 'opened' }),
    );
  }
  close(): void {
    this.closes++;
    if (this.report_closed) this.run_loop.execute_on_main_thread(() => this.emit({ type: 'closed' }));
  }
  can_send_packet_now(_type: number): boolean {
    return this.can_send;
  }
  send_packet(type: number, packet: Uint8Array, size: number): number {
    this.sent.push({ type, bytes: packet.slice(0, size) });
    return 0;
  }
  set_baudrate(baud: number): number {
    this.baudrates.push(baud);
    return 0;
  }

  // ---- test side
  emit(ev: TransportEvent): void {
    this.onEvent?.(ev);
  }
  /** Feed an HCI event (hex string or bytes, without the H4 type byte). */
  event(bytes: string | Uint8Array): void {
    const b = typeof bytes === 'string' ? fromHex(bytes) : bytes;
    this.onPacket?.(4, b, b.length);
  }
  acl(bytes: string | Uint8Array): void {
    const b = typeof bytes === 'string' ? fromHex(bytes) : bytes;
    this.onPacket?.(2, b, b.length);
  }
  /** Hex of every command sent so far (and forget them). */
  take_commands(): string[] {
    const out = this.sent.filter((s) => s.type === 1).map((s) => hex(s.bytes));
    this.sent = this.sent.filter((s) => s.type !== 1);
    return out;
  }
  take_acl(): string[] {
    const out = this.sent.filter((s) => s.type === 2).map((s) => hex(s.bytes));
    this.sent = this.sent.filter((s) => s.type !== 2);
    return out;
  }
  last_command_opcode(): number {
    const cmds = this.sent.filter((s) => s.type === 1);
    const last = cmds[cmds.length - 1];
    return last ? last.bytes[0]! | (last.bytes[1]! << 8) : -1;
  }
}

/** Command Complete for opcode with return parameters (hex), 1 credit. */
export function cc(opcode: number, ret = '00', credits = 1): string {
  const params = fromHex(ret);
  return hex(Uint8Array.of(0x0e, 3 + params.length, credits, opcode & 0xff, opcode >> 8, ...params));
}

/** Command Status. */
export function cs(opcode: number, status = 0, credits = 1): string {
  return hex(Uint8Array.of(0x0f, 4, status, credits, opcode & 0xff, opcode >> 8));
}

export interface ControllerProfile {
  features: string;
  supported_commands: string;
  bd_addr_wire: string; // 6 bytes little endian
  acl_len: number;
  acl_num: number;
  le_len: number;
  le_num: number;
  ext_features_page1: string;
}

/** A dual-mode controller with every command, EIR, SSP, LE, extended features. */
export const DUAL_MODE: ControllerProfile = {
  // byte3 bit6 RSSI inquiry; byte4: bit6 LE, bit5 clear (BR/EDR supported); byte6: bit0 EIR, bit3 SSP, bit6 non-flushable PB; byte7 bit7 ext features
  features: 'ff ff 8f fe 58 ff 49 83',
  supported_commands: 'ff'.repeat(64),
  bd_addr_wire: '66 55 44 33 22 11', // 11:22:33:44:55:66
  acl_len: 310,
  acl_num: 4,
  le_len: 27,
  le_num: 3,
  ext_features_page1: '01 00 00 00 00 00 00 00',
};

function u16(v: number): string {
  return hex(Uint8Array.of(v & 0xff, v >> 8));
}

/**
 * The return parameters a controller with profile p gives for an init command, or null when
 * the opcode is not an init command this script knows.
 */
export function init_reply(opcode: number, p: ControllerProfile): string | null {
  switch (opcode) {
    case 0x0c03:
      return '00';
    case 0x1001:
      return '00 09 00 00 09 0f 00 00 00';
    case 0x1002:
      return '00 ' + p.supported_commands;
    case 0x1003:
      return '00 ' + p.features;
    case 0x1004:
      return '00 01 02 ' + p.ext_features_page1;
    case 0x1009:
      return '00 ' + p.bd_addr_wire;
    case 0x1005:
      return `00 ${u16(p.acl_len)} 40 ${u16(p.acl_num)} 08 00`;
    case 0x2002:
      return `00 ${u16(p.le_len)} ${hex(Uint8Array.of(p.le_num))}`;
    default:
      return '00';
  }
}

/** Answer every command with Command Complete until the stack is WORKING (state 2). */
export function boot(t: ScriptedTransport, rl: VirtualRunLoop, stack: Stack, p: ControllerProfile = DUAL_MODE): string[] {
  const all: string[] = [];
  rl.run(0);
  for (let guard = 0; guard < 100 && stack.hci.hci_get_state() !== 2; guard++) {
    const cmds = t.take_commands();
    if (cmds.length === 0) break;
    for (const c of cmds) {
      all.push(c);
      const op = fromHex(c);
      const opcode = op[0]! | (op[1]! << 8);
      t.event(cc(opcode, init_reply(opcode, p) ?? '00'));
    }
    rl.run(0);
  }
  return all;
}

export interface Harness {
  rl: VirtualRunLoop;
  t: ScriptedTransport;
  stack: Stack;
  events: Uint8Array[];
  acl: Array<{ handle: number; bytes: Uint8Array }>;
  /** Event codes (packet[0]) seen, as hex strings. */
  codes(): number[];
  clear(): void;
}

export function harness(options: Partial<StackOptions> = {}): Harness {
  const rl = new VirtualRunLoop();
  const t = new ScriptedTransport();
  const stack = new Stack({ transport: t, run_loop: rl, ...options });
  const events: Uint8Array[] = [];
  const acl: Array<{ handle: number; bytes: Uint8Array }> = [];
  stack.hci.hci_add_event_handler({ callback: (_type, _ch, packet, size) => events.push(packet.slice(0, size)) });
  stack.hci.hci_register_acl_packet_handler((_type, handle, packet, size) => acl.push({ handle, bytes: packet.slice(0, size) }));
  return {
    rl,
    t,
    stack,
    events,
    acl,
    codes: () => events.map((e) => e[0]!),
    clear: () => {
      events.length = 0;
      acl.length = 0;
    },
  };
}

/** Power on and boot to WORKING; clears recorded events and commands. */
export function working(options: Partial<StackOptions> = {}, p: ControllerProfile = DUAL_MODE): Harness {
  const h = harness(options);
  h.stack.hci.hci_power_control(1);
  boot(h.t, h.rl, h.stack, p);
  if (h.stack.hci.hci_get_state() !== 2) throw new Error('boot did not reach WORKING');
  // answer anything GAP sent right after WORKING
  settle(h);
  h.clear();
  h.t.take_commands();
  return h;
}

/** Answer pending commands with success Command Complete until quiet. */
export function settle(h: Harness): void {
  h.rl.run(0);
  for (let guard = 0; guard < 50; guard++) {
    const cmds = h.t.take_commands();
    if (!cmds.length) return;
    for (const c of cmds) {
      const op = fromHex(c);
      h.t.event(cc(op[0]! | (op[1]! << 8), '00'));
    }
    h.rl.run(0);
  }
}

/** Wire (little endian) hex of a display-order address string "AA:BB:..". */
export function wire_addr(addr: string): string {
  return hex(fromHex(addr).reverse());
}

/**
 * An incoming classic connection: Connection Request, the host's Accept, Connection Complete,
 * the host's Read Remote Supported Features answered. Returns the handle.
 */
export function connect_classic(h: Harness, handle: number, addr = '00:1A:7D:DA:71:13'): number {
  h.t.event(`04 0a ${wire_addr(addr)} 0c 02 7a 01`);
  const accept = h.t.take_commands();
  if (accept.length !== 1 || !accept[0]!.startsWith('09 04 07'))
    throw new Error(`expected Accept Connection Request, got ${accept}`);
  h.t.event(cs(0x0409));
  h.t.event(`03 0b 00 ${u16(handle)} ${wire_addr(addr)} 01 00`);
  const rf = h.t.take_commands();
  if (rf.length !== 1 || !rf[0]!.startsWith('1b 04 02')) throw new Error(`expected Read Remote Supported Features, got ${rf}`);
  h.t.event(cs(0x041b));
  h.t.event(`0b 0b 00 ${u16(handle)} ff ff 8f fe 58 ff 49 03`);
  h.rl.run(0);
  return handle;
}

/** An LE connection in which the controller reports us as central (after gap_connect) or peripheral. */
export function connect_le(h: Harness, handle: number, addr = 'C0:FF:EE:00:11:22', role = 1, addr_type = 0): number {
  h.t.event(`3e 13 01 00 ${u16(handle)} ${hex(Uint8Array.of(role, addr_type))} ${wire_addr(addr)} 18 00 00 00 48 00 00`);
  h.rl.run(0);
  return handle;
}

export { u16 };
