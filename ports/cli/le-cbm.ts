/**
 * `bthost le-cbm listen SPSM` / `bthost le-cbm connect ADDR SPSM`: one LE credit-based channel
 * (L2CAP LE Credit Based Flow Control Mode, automatic credits) as a byte stream or a throughput
 * test, with the stream modes of `bthost l2cap` (stream.ts).
 *
 * - listen: advertise (connectable, general discoverable, name "bthost le-cbm"), register SPSM,
 *   serve one channel, exit when it closes. It rides through faults as `l2cap listen` does (a
 *   framing error, a Hardware Error, the port unplugged and back: host.recover): one line each,
 *   SPSM registered and advertising again once the stack is up; a transfer cut by a fault or a
 *   lost LE link is reported (`transfer failed: ...; still listening`) and the next central
 *   served. --once: the first fault or cut transfer ends it with exit 1.
 * - connect: gap_connect to ADDR (public; --random for a random address) within
 *   --connect-timeout MS (default 10000), open the channel to SPSM.
 *
 * Sending follows BTstack's CBM contract: one SDU at a time (at most the remote MTU), the next on
 * CAN_SEND_NOW once the previous went out; the SDU is not copied by L2CAP, and stream.ts does not
 * touch it until then. Exit 0 when the asked work completed; 1 with one line when the channel did
 * not open, a --send transfer came up short, or the LE link was lost while the channel was open.
 *
 * Without --port, the virtual peer (virtual-peer-le-cbm.ts) serves SPSM 0x0080 (echo) and 0x0081
 * (discard), and dials in to `listen`.
 */
import { bd_addr_cmp, bd_addr_to_str, little_endian_read_16, type BdAddr } from '../../src/core/bytes.js';
import { HCI_EVENT_PACKET, L2CAP_DATA_PACKET, LEVEL_0 } from '../../src/codes/v1.4.js';
import { CliHost } from './host.js';
import { status_text } from './format.js';
import { Flags, parse_size, type CliOptions } from './options.js';
import { usage_error, parse_addr } from './common.js';
import { ByteStream, STREAM_BOOLEANS, STREAM_VALUED, stream_options, type ChannelOps } from './stream.js';
import { cbm_events } from './le-cbm-events.js';
import { PeerLeCbm } from './virtual-peer-le-cbm.js';

const ADV_NAME = 'bthost le-cbm';
const hex8 = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

/** An LE SPSM: 0x01-0xFF (Core Vol 3 Part A 4.22: 0x01-0x7F fixed by the SIG, 0x80-0xFF dynamic). */
export function parse_spsm(s: string | undefined): number | string {
  if (s === undefined) return 'missing SPSM';
  const n = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 0xff) return `SPSM must be a number 0x01..0xff, got '${s}'`;
  return n;
}

/** Why an outgoing channel did not open (the LE result codes of Vol 3 Part A 4.23, as BTstack reports them). */
export function le_cbm_open_failure(addr: string, spsm: number, status: number): string {
  switch (status) {
    case 0x02:
      return `nothing listens on SPSM ${hex8(spsm)} at ${addr} (LE_PSM not supported)`;
    case 0x04:
      return `${addr} has no resources for another channel on SPSM ${hex8(spsm)}`;
    case 0x05:
    case 0x06:
    case 0x07:
    case 0x08:
      return `${addr} refused SPSM ${hex8(spsm)} for security reasons (result ${hex8(status)})`;
    default:
      return `cannot open an LE credit-based channel to ${addr} SPSM ${hex8(spsm)}: ${status_text(status)}`;
  }
}

export async function le_cbm_main(options: CliOptions): Promise<number> {
  const flags = new Flags(
    options.rest,
    [...STREAM_VALUED, '--mtu', '--connect-timeout', '--peer-send'],
    [...STREAM_BOOLEANS, '--random'],
  );
  const [sub, ...args] = flags.positional;
  const usage = (p: string) => usage_error('le-cbm', p);
  if (flags.errors.length) return usage(flags.errors[0]!);
  if (sub !== 'listen' && sub !== 'connect')
    return usage(sub ? `unknown subcommand '${sub}' (listen or connect)` : 'listen or connect?');
  const stream = stream_options(flags);
  if (typeof stream === 'string') return usage(stream);
  const mtu = flags.get('--mtu') === undefined ? 2048 : Number(flags.get('--mtu'));
  if (!Number.isInteger(mtu) || mtu < 23 || mtu > 0xffff) return usage(`--mtu: expected 23..65535, got '${flags.get('--mtu')}'`);
  const connectMs = flags.get('--connect-timeout') === undefined ? 10_000 : Number(flags.get('--connect-timeout'));
  if (!Number.isInteger(connectMs) || connectMs < 1)
    return usage(`--connect-timeout: expected ms, got '${flags.get('--connect-timeout')}'`);
  const peerSend = flags.get('--peer-send') === undefined ? null : parse_size(flags.get('--peer-send'));
  if (peerSend !== null && !(peerSend > 0))
    return usage(`--peer-send: expected a size such as 64k, got '${flags.get('--peer-send')}'`);

  let addr: BdAddr | null = null;
  let spsmArg: string | undefined;
  if (sub === 'listen') {
    if (args.length !== 1) return usage(args.length ? `unexpected argument '${args[1]}'` : 'missing SPSM');
    spsmArg = args[0];
  } else {
    const a = parse_addr(args[0] ?? (options.port.addr ? bd_addr_to_str(options.port.addr) : undefined));
    if (typeof a === 'string') return usage(a);
    addr = a;
    spsmArg = options.port.addr && args.length === 1 ? args[0] : args[1];
    if (args.length > 2) return usage(`unexpected argument '${args[2]}'`);
  }
  const spsm = parse_spsm(spsmArg);
  if (typeof spsm === 'string') return usage(spsm);

  const host = new CliHost(options, `le-cbm ${sub}`);
  if (!(await host.open())) return host.exit_code;
  const stack = host.stack;
  const l2cap = stack.l2cap;
  const codes = stack.codes;
  const ev = cbm_events(codes.PROFILE);
  const peer = host.peer ? new PeerLeCbm(host.peer.stack) : null;
  const rx = new Uint8Array(mtu);
  const bytes = new ByteStream(host, stream);
  let cid = 0;
  let remoteMtu = 23;
  let handle = -1;
  let peerStr = addr ? bd_addr_to_str(addr) : '';
  let linkLost: number | null = null;
  let connectTimer: ReturnType<CliHost['after']> | null = null;
  if (sub === 'listen') {
    host.recover = true;
    bytes.keep_serving = true;
    bytes.on_next = () => {
      cid = 0;
      handle = -1;
      linkLost = null;
    };
  }

  const ops: ChannelOps = {
    request_can_send_now: () => void l2cap.l2cap_request_can_send_now_event(cid),
    max_payload: () => remoteMtu,
    send: (data, len) => l2cap.l2cap_send(cid, data, len),
    disconnect: () => void l2cap.l2cap_disconnect(cid),
  };

  const closed = () => {
    const failure =
      linkLost === null
        ? undefined
        : `the LE link to ${peerStr} was lost (${status_text(linkLost)}) after ${bytes.sent} bytes sent, ${bytes.received} received`;
    bytes.closed(undefined, failure);
  };

  const handler = (type: number, channel: number, packet: Uint8Array, size: number) => {
    if (type === L2CAP_DATA_PACKET) {
      if (channel === cid) bytes.data(packet, size);
      return;
    }
    if (type !== HCI_EVENT_PACKET) return;
    host.trace(packet, size);
    const code = packet[0]!;
    if (code === ev.INCOMING) {
      const local = little_endian_read_16(packet, 13);
      if (cid) {
        l2cap.l2cap_cbm_decline_connection(local); // one channel at a time
        return;
      }
      cid = local;
      handle = little_endian_read_16(packet, 9);
      peerStr = bd_addr_to_str(packet.subarray(3, 9).slice().reverse());
      host.say(`connection from ${peerStr} on SPSM ${hex8(spsm)}`);
      const st = l2cap.l2cap_cbm_accept_connection(local, rx, mtu, 0xffff);
      if (st !== 0) host.finish(1, `cannot accept the channel: ${status_text(st)}`);
    } else if (code === ev.OPENED) {
      const status = packet[2]!;
      if (status !== 0) {
        if (sub === 'listen') {
          host.say(`incoming channel failed: ${status_text(status)}`);
          cid = 0;
          return;
        }
        host.finish(1, le_cbm_open_failure(peerStr, spsm, status));
        return;
      }
      cid = little_endian_read_16(packet, 15);
      remoteMtu = little_endian_read_16(packet, 21);
      host.say(
        `LE credit-based channel open: ${peerStr} SPSM ${hex8(spsm)}, handle ${hex8(handle)}, local cid ${hex8(cid)}, ` +
          `MTU ${little_endian_read_16(packet, 19)} in / ${remoteMtu} out` +
          (stream.mode === 'interactive' ? ' (stdin -> channel -> stdout; end of input or Ctrl-C closes)' : ''),
      );
      bytes.opened(ops);
    } else if (code === ev.CAN_SEND_NOW) {
      if (little_endian_read_16(packet, 2) === cid) bytes.can_send_now();
    } else if (ev.CLOSED.includes(code)) {
      if (little_endian_read_16(packet, 2) !== cid || !cid) return;
      cid = 0;
      // L2CAP sees a Disconnection Complete before this handler's HCI event handler: decide on the next turn
      host.after(0, closed);
    }
  };

  host.add_event_handler((packet) => {
    if (packet[0] === codes.HCI_EVENT_DISCONNECTION_COMPLETE) {
      if (codes.hci_event_disconnection_complete_get_connection_handle(packet) !== handle) return;
      const reason = codes.hci_event_disconnection_complete_get_reason(packet);
      if (!bytes.is_open && cid === 0 && sub === 'connect')
        host.finish(1, `the LE link to ${peerStr} went down before the channel opened (${status_text(reason)})`);
      // 0x16: we ended it; 0x13 / 0x15: the peer did (a listener exits and powers off right after a
      // clean close: its data before that arrived in order, a short transfer is caught by the counts)
      else if (reason !== 0x16 && reason !== 0x13 && reason !== 0x15) linkLost = reason;
      return;
    }
    if (sub !== 'connect' || handle >= 0) return;
    if (packet[0] !== codes.HCI_EVENT_LE_META || packet[2] !== codes.HCI_SUBEVENT_LE_CONNECTION_COMPLETE) return;
    if (bd_addr_cmp(codes.hci_subevent_le_connection_complete_get_peer_address(packet), addr!) !== 0) return;
    host.cancel(connectTimer);
    const st = codes.hci_subevent_le_connection_complete_get_status(packet);
    if (st !== 0) return host.finish(1, `LE connection to ${peerStr} failed: ${status_text(st)}`);
    handle = codes.hci_subevent_le_connection_complete_get_connection_handle(packet);
    const r = l2cap.l2cap_cbm_create_channel(handler, handle, spsm, rx, mtu, 0xffff, LEVEL_0);
    if (r.status !== 0) host.finish(1, le_cbm_open_failure(peerStr, spsm, r.status));
    else cid = r.local_cid;
  });

  host.on_interrupt = () => {
    if (bytes.is_open) bytes.interrupt();
    else host.finish(130, 'interrupted');
  };

  host.power_on(() => {
    if (sub === 'listen') {
      cid = 0;
      handle = -1;
      linkLost = null;
      l2cap.l2cap_cbm_unregister_service(spsm); // again after a fault: a fresh registration
      const st = l2cap.l2cap_cbm_register_service(handler, spsm, LEVEL_0);
      if (st !== 0) return host.finish(1, `cannot listen on SPSM ${hex8(spsm)}: ${status_text(st)}`);
      const name = new TextEncoder().encode(ADV_NAME);
      const adv = Uint8Array.of(0x02, 0x01, 0x06, name.length + 1, 0x09, ...name);
      stack.gap.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0);
      stack.gap.gap_advertisements_set_data(adv.length, adv);
      stack.gap.gap_advertisements_enable(1);
      host.say(
        `listening on SPSM ${hex8(spsm)} at ${host.local_address} (LE, advertising as '${ADV_NAME}') on ${host.where} (Ctrl-C to stop)`,
      );
      if (peer && host.peer) {
        host.say(
          `the virtual peer ${bd_addr_to_str(host.peer.address)} dials in${peerSend ? ` and sends ${peerSend} bytes` : ''}`,
        );
        peer.dial(stack.gap.gap_local_bd_addr(), spsm, peerSend, (why) =>
          host.finish(1, `the virtual peer could not connect: ${why}`),
        );
      }
      return;
    }
    host.say(`connecting to ${peerStr} over LE, SPSM ${hex8(spsm)} ...`);
    const st = stack.gap.gap_connect(addr!, flags.has('--random') ? 1 : 0);
    if (st !== 0) return host.finish(1, `gap_connect failed: ${status_text(st)}`);
    connectTimer = host.after(connectMs, () => {
      if (handle >= 0) return;
      stack.gap.gap_connect_cancel();
      host.finish(1, `no LE connection to ${peerStr} within ${connectMs} ms: is it advertising connectable?`);
    });
  });
  return host.run();
}
