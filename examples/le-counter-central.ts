/**
 * le-counter-central: the LE central that le-counter and att-server meet, on the raw ATT fixed
 * channel (L2CAP CID 0x0004, BTstack's l2cap_register_fixed_channel / l2cap_send_connectionless)
 * so it needs nothing above L2CAP. It connects to --addr (gap_connect), exchanges the MTU, finds
 * the Counter Service 0xFF10 (Find By Type Value), its characteristic 0xFF11 (Read By Type 0x2803)
 * and that characteristic's Client Characteristic Configuration (Find Information), writes 0x0001
 * to it, prints --notifications N Handle Value Notifications, writes 0x0000, disconnects and exits 0.
 * When the service has the protected characteristic 0xFF12 (read needs encryption), the central
 * reads it before subscribing: the server answers Insufficient Encryption (0x0F), the central
 * pairs (sm_request_pairing, Just Works: no input / no output, confirmed) and reads it again.
 * With --notifications 0 it reads the GAP Device Name (Read By Type 0x2A00) instead and disconnects.
 * Any other ATT Error Response, or a failed pairing, ends the program with exit code 1 and one
 * line saying why.
 *
 *   npx tsx examples/le-counter-central.ts -u /dev/ttyUSB0 --addr C0:FF:EE:00:00:01 [--random]
 *   options: --notifications N (default 3), --random (the peer's address is random static)
 */
import { Stack, bd_addr_to_str, little_endian_read_16, type BdAddr } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';

const ATT = C.L2CAP_CID_ATTRIBUTE_PROTOCOL;
// ATT opcodes this central uses (Core spec Vol 3 Part F 3.4.8; BTstack's bluetooth.h names)
const ATT_ERROR_RESPONSE = 0x01;
const ATT_EXCHANGE_MTU_REQUEST = 0x02;
const ATT_EXCHANGE_MTU_RESPONSE = 0x03;
const ATT_FIND_INFORMATION_REQUEST = 0x04;
const ATT_FIND_INFORMATION_REPLY = 0x05;
const ATT_FIND_BY_TYPE_VALUE_REQUEST = 0x06;
const ATT_FIND_BY_TYPE_VALUE_RESPONSE = 0x07;
const ATT_READ_BY_TYPE_REQUEST = 0x08;
const ATT_READ_BY_TYPE_RESPONSE = 0x09;
const ATT_READ_REQUEST = 0x0a;
const ATT_READ_RESPONSE = 0x0b;
const ATT_WRITE_REQUEST = 0x12;
const ATT_WRITE_RESPONSE = 0x13;
const ATT_HANDLE_VALUE_NOTIFICATION = 0x1b;
/** 0000FF10-0000-1000-8000-00805F9B34FB, little endian as ATT carries it. */
const uuid128 = (u16: number): Uint8Array =>
  Uint8Array.of(0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00, u16 & 0xff, u16 >> 8, 0x00, 0x00);
const COUNTER_SERVICE = uuid128(0xff10);
const COUNTER_CHARACTERISTIC = uuid128(0xff11);
const PROTECTED_CHARACTERISTIC = uuid128(0xff12);

export interface LeCounterCentralOptions {
  print: (line: string) => void;
  /** Notifications to wait for (0: read the device name and disconnect). */
  notifications: number;
  /** The peer's address type (0 public, 1 random). */
  addr_type?: number;
  /** Done: 0 when everything asked was done, else 1 (the reason was printed). */
  on_done: (code: number) => void;
}

/** Start the central on `stack` (before or after power-on): connect to `addr` once HCI works. */
export function start_le_counter_central(stack: Stack, addr: BdAddr, o: LeCounterCentralOptions): void {
  const l2cap = stack.l2cap;
  const tx = new Uint8Array(64);
  let tx_len = 0;
  let con_handle = -1;
  let step = 'connect';
  let svc_end = 0;
  let value_handle = 0;
  let ccc_handle = 0;
  let protected_handle = 0;
  let paired = false;
  let received = 0;
  let finished = false;
  const text = new TextDecoder();

  const finish = (code: number, why?: string): void => {
    if (finished) return;
    finished = true;
    if (why) o.print(why);
    if (con_handle >= 0) stack.gap.gap_disconnect(con_handle);
    else o.on_done(code);
    exit_code = code;
  };
  let exit_code = 0;

  const send = (bytes: number[] | Uint8Array, next: string): void => {
    tx.set(bytes, 0);
    tx_len = bytes.length;
    step = next;
    flush();
  };
  const flush = (): void => {
    if (tx_len === 0 || con_handle < 0) return;
    if (!l2cap.l2cap_can_send_fixed_channel_packet_now(con_handle, ATT)) {
      l2cap.l2cap_request_can_send_fix_channel_now_event(con_handle, ATT);
      return;
    }
    const n = tx_len;
    tx_len = 0;
    const st = l2cap.l2cap_send_connectionless(con_handle, ATT, tx, n);
    if (st !== 0) finish(1, `l2cap_send_connectionless failed: ${status_text(st)}`);
  };
  const u16 = (v: number): number[] => [v & 0xff, v >> 8];
  const write_ccc = (value: number, next: string): void => send([ATT_WRITE_REQUEST, ...u16(ccc_handle), ...u16(value)], next);
  const find_ccc = (): void => send([ATT_FIND_INFORMATION_REQUEST, ...u16(value_handle + 1), ...u16(svc_end)], 'ccc');
  const read_protected = (): void => send([ATT_READ_REQUEST, ...u16(protected_handle)], 'protected');

  // LE Security Manager for the protected characteristic: Just Works (no input / no output), confirmed
  const sm = stack.sm;
  sm.sm_init();
  sm.sm_add_event_handler({
    callback: (_type, _channel, p) => {
      if (p[0] === stack.codes.SM_EVENT_JUST_WORKS_REQUEST) sm.sm_just_works_confirm(little_endian_read_16(p, 2));
      if (p[0] !== stack.codes.SM_EVENT_PAIRING_COMPLETE || step !== 'pairing') return;
      const status = p[11]!; // SM_EVENT_PAIRING_COMPLETE status (H1B11 / H1B111)
      if (status !== 0) return finish(1, `pairing failed: ${status_text(status)}`);
      paired = true;
      o.print(`paired (Just Works), security level ${stack.gap.gap_security_level(con_handle)}`);
      read_protected();
    },
  });

  const on_att = (p: Uint8Array, size: number): void => {
    const op = p[0]!;
    if (op === ATT_HANDLE_VALUE_NOTIFICATION && size >= 3) {
      const h = little_endian_read_16(p, 1);
      if (h !== value_handle || received >= o.notifications || step !== 'notifications') return;
      received++;
      o.print(`ATT notification handle 0x${h.toString(16).padStart(4, '0')}: '${text.decode(p.subarray(3, size))}'`);
      if (received === o.notifications) write_ccc(0, 'unsubscribed');
      return;
    }
    if (op === ATT_ERROR_RESPONSE && size >= 5) {
      const code = p[4]!;
      if (step === 'protected' && code === C.ATT_ERROR_INSUFFICIENT_ENCRYPTION && !paired) {
        o.print('protected characteristic 0xFF12: ATT error 0x0f (Insufficient Encryption), pairing');
        step = 'pairing';
        sm.sm_request_pairing(con_handle);
        return;
      }
      finish(
        1,
        `ATT Error Response to 0x${p[1]!.toString(16).padStart(2, '0')} handle 0x${little_endian_read_16(p, 2).toString(16).padStart(4, '0')}: error 0x${code.toString(16).padStart(2, '0')}`,
      );
      return;
    }
    switch (step) {
      case 'mtu':
        if (op !== ATT_EXCHANGE_MTU_RESPONSE) return;
        o.print(`ATT MTU exchanged: server rx mtu ${little_endian_read_16(p, 1)}`);
        if (o.notifications === 0) send([ATT_READ_BY_TYPE_REQUEST, ...u16(1), ...u16(0xffff), ...u16(0x2a00)], 'name');
        else send([ATT_FIND_BY_TYPE_VALUE_REQUEST, ...u16(1), ...u16(0xffff), ...u16(0x2800), ...COUNTER_SERVICE], 'service');
        break;
      case 'name':
        if (op !== ATT_READ_BY_TYPE_RESPONSE || size < 4) return;
        o.print(`GAP Device Name: '${text.decode(p.subarray(4, 2 + p[1]!))}'`);
        finish(0);
        break;
      case 'service': {
        if (op !== ATT_FIND_BY_TYPE_VALUE_RESPONSE || size < 5) return;
        const start = little_endian_read_16(p, 1);
        svc_end = little_endian_read_16(p, 3);
        o.print(
          `Counter Service 0xFF10: handles 0x${start.toString(16).padStart(4, '0')}-0x${svc_end.toString(16).padStart(4, '0')}`,
        );
        send([ATT_READ_BY_TYPE_REQUEST, ...u16(start), ...u16(svc_end), ...u16(0x2803)], 'characteristic');
        break;
      }
      case 'characteristic': {
        if (op !== ATT_READ_BY_TYPE_RESPONSE || size < 2) return;
        const len = p[1]!;
        for (let i = 2; i + len <= size && len === 21; i += len) {
          // handle(2) properties(1) value handle(2) uuid(16)
          if (p.subarray(i + 5, i + 21).every((b, k) => b === PROTECTED_CHARACTERISTIC[k]))
            protected_handle = little_endian_read_16(p, i + 3);
          if (!p.subarray(i + 5, i + 21).every((b, k) => b === COUNTER_CHARACTERISTIC[k])) continue;
          value_handle = little_endian_read_16(p, i + 3);
          o.print(
            `Counter characteristic 0xFF11: properties 0x${p[i + 2]!.toString(16).padStart(2, '0')}, value handle 0x${value_handle.toString(16).padStart(4, '0')}`,
          );
        }
        if (value_handle === 0) return finish(1, 'no Counter characteristic 0xFF11 in the Counter Service');
        if (protected_handle !== 0) read_protected();
        else find_ccc();
        break;
      }
      case 'protected':
        if (op !== ATT_READ_RESPONSE) return;
        o.print(`protected characteristic 0xFF12: '${text.decode(p.subarray(1, size))}'`);
        find_ccc();
        break;
      case 'ccc': {
        if (op !== ATT_FIND_INFORMATION_REPLY || size < 6 || p[1] !== 1)
          return finish(1, 'no descriptors after the Counter value');
        for (let i = 2; i + 4 <= size; i += 4)
          if (little_endian_read_16(p, i + 2) === 0x2902) ccc_handle = little_endian_read_16(p, i);
        if (ccc_handle === 0) return finish(1, 'the Counter characteristic has no Client Characteristic Configuration');
        write_ccc(1, 'subscribing');
        break;
      }
      case 'subscribing':
        if (op !== ATT_WRITE_RESPONSE) return;
        o.print(`subscribed: notifications enabled (CCC 0x${ccc_handle.toString(16).padStart(4, '0')} = 0x0001)`);
        step = 'notifications';
        break;
      case 'unsubscribed':
        if (op !== ATT_WRITE_RESPONSE) return;
        o.print('unsubscribed: notifications disabled');
        finish(0);
        break;
      default:
        break;
    }
  };

  l2cap.l2cap_register_fixed_channel((type, channel, packet, size) => {
    if (type === C.ATT_DATA_PACKET && channel === con_handle) on_att(packet, size);
    else if (type === C.HCI_EVENT_PACKET && packet[0] === stack.codes.L2CAP_EVENT_CAN_SEND_NOW) flush();
  }, ATT);

  stack.hci.hci_add_event_handler({
    callback: (type, _channel, p) => {
      if (type !== C.HCI_EVENT_PACKET) return;
      if (p[0] === C.BTSTACK_EVENT_STATE && p[2] === C.HCI_STATE_WORKING && step === 'connect') {
        o.print(`connecting to ${bd_addr_to_str(addr)} (address type ${o.addr_type ?? 0})`);
        const st = stack.gap.gap_connect(addr, o.addr_type ?? 0);
        if (st !== 0) finish(1, `gap_connect failed: ${status_text(st)}`);
        step = 'connecting';
      } else if (p[0] === C.HCI_EVENT_LE_META && p[2] === C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE && step === 'connecting') {
        if (p[3] !== 0) return finish(1, `LE connection to ${bd_addr_to_str(addr)} failed: ${status_text(p[3]!)}`);
        con_handle = little_endian_read_16(p, 4) & 0x0fff;
        o.print(`connected, handle 0x${con_handle.toString(16).padStart(4, '0')}`);
        send([ATT_EXCHANGE_MTU_REQUEST, ...u16(64)], 'mtu');
      } else if (p[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE && con_handle >= 0 && little_endian_read_16(p, 3) === con_handle) {
        o.print(`disconnected, reason 0x${p[5]!.toString(16).padStart(2, '0')}`);
        con_handle = -1;
        if (!finished) {
          finished = true;
          exit_code = 1;
          o.print('the link went down before the work was done');
        }
        o.on_done(exit_code);
      }
    },
  });
}

const OPTIONS = {
  notifications: { value: 'N', help: 'notifications to wait for (default 3; 0: read the device name)', default: 3, max: 1000 },
  random: { help: "the peer's address is a random (static) one" },
};
type Args = ExampleArgs<typeof OPTIONS>;

function btstack_main(stack: Stack, ctx: ExampleContext<Args>): number | void {
  if (!ctx.remote) {
    console.error('le-counter-central: --addr ADDR is needed');
    return 2;
  }
  start_le_counter_central(stack, ctx.remote, {
    print: (l) => console.log(l),
    notifications: ctx.args.notifications,
    addr_type: ctx.args.random ? 1 : 0,
    on_done: (code) => ctx.exit(code),
  });
}

/** Without -u: le-counter's service on a virtual peer to meet. */
async function virtual_world(run_loop: import('bthost').NodeRunLoop): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const { start_le_counter } = await import('./le-counter.js');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'le-counter-central' });
  const peer_controller = link.create_controller({ name: 'le-counter' });
  const peer = new Stack({ transport: new VirtualTransport(peer_controller), run_loop });
  start_le_counter(peer, { print: (l) => console.log(`[virtual le-counter] ${l}`) });
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours), peer: peer_controller.bd_addr };
}

example_main(import.meta.url, { name: 'le-counter-central', options: OPTIONS, virtual_world, btstack_main });
