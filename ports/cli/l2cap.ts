/**
 * `bthost l2cap listen PSM` / `bthost l2cap connect ADDR PSM`: one L2CAP channel (basic mode, or
 * with --mode ertm|streaming Enhanced Retransmission / Streaming mode through
 * l2cap_ertm_create_channel / l2cap_ertm_accept_connection) as a byte stream or a throughput test
 * (see stream.ts). `listen` serves one connection and
 * exits when it closes; it rides through controller faults (a framing error, a Hardware Error, the
 * serial port unplugged and back: host.recover), registers its service again once the stack is up,
 * and a transfer cut by a fault is reported and followed by the next connection (--once: exit 1). Without --port, the virtual peer dials in to `listen`, and `connect`
 * reaches its echo (0x1001) and discard (0x1003) services.
 */
import { bd_addr_to_str, type BdAddr } from '../../src/core/bytes.js';
import {
  HCI_EVENT_PACKET,
  L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION,
  L2CAP_CHANNEL_MODE_STREAMING_MODE,
  L2CAP_DATA_PACKET,
  LEVEL_0,
} from '../../src/codes/v1.4.js';
import type { l2cap_ertm_config_t } from '../../src/l2cap/l2cap.js';
import { hci_write_page_timeout } from '../../src/hci/commands.js';
import { CliHost } from './host.js';
import { hex16, status_text } from './format.js';
import { Flags, parse_psm, parse_size, type CliOptions } from './options.js';
import { usage_error, page_failure, parse_addr, parse_security } from './common.js';
import { security_failure } from './agent.js';
import { ByteStream, STREAM_BOOLEANS, STREAM_VALUED, stream_options, type ChannelOps } from './stream.js';

/** Why an outgoing channel did not open, in one line. */
export function l2cap_open_failure(addr: string, psm: number, status: number): string {
  switch (status) {
    case 0x04:
      return page_failure(addr, status);
    case 0x65:
      return `nothing listens on PSM ${hex16(psm)} at ${addr} (${status_text(status)})`;
    case 0x66:
      return `${addr} refused PSM ${hex16(psm)} for security reasons (${status_text(status)})`;
    case 0x67:
      return `${addr} has no resources for another channel (${status_text(status)})`;
    default:
      return `cannot open an L2CAP channel to ${addr} PSM ${hex16(psm)}: ${status_text(status)}`;
  }
}

export async function l2cap_main(options: CliOptions): Promise<number> {
  const flags = new Flags(
    options.rest,
    [...STREAM_VALUED, '--mtu', '--page-timeout', '--peer-send', '--security', '--mode'],
    [...STREAM_BOOLEANS, '--mandatory'],
  );
  const [sub, ...args] = flags.positional;
  const usage = (p: string) => {
    return usage_error('l2cap', p);
  };
  if (flags.errors.length) return usage(flags.errors[0]!);
  if (sub !== 'listen' && sub !== 'connect')
    return usage(sub ? `unknown subcommand '${sub}' (listen or connect)` : 'listen or connect?');
  const stream = stream_options(flags);
  if (typeof stream === 'string') return usage(stream);
  const mtu = flags.get('--mtu') === undefined ? 0xffff : Number(flags.get('--mtu'));
  if (!Number.isInteger(mtu) || mtu < 48 || mtu > 0xffff) return usage(`--mtu: expected 48..65535, got '${flags.get('--mtu')}'`);
  const pageTimeout = flags.get('--page-timeout') === undefined ? 0 : Number(flags.get('--page-timeout'));
  if (!Number.isInteger(pageTimeout) || pageTimeout < 0 || pageTimeout > 40_000)
    return usage(`--page-timeout: expected 1..40000 ms`);
  const peerSend = flags.get('--peer-send') === undefined ? null : parse_size(flags.get('--peer-send'));
  if (peerSend !== null && !(peerSend > 0))
    return usage(`--peer-send: expected a size such as 64k, got '${flags.get('--peer-send')}'`);

  const security = parse_security(flags.get('--security'));
  if (typeof security === 'string') return usage(security);
  const ertm = ertm_options(flags.get('--mode'), flags.has('--mandatory'), flags.get('--mtu') === undefined ? null : mtu);
  if (typeof ertm === 'string') return usage(ertm);

  let addr: BdAddr | null = null;
  let psmArg: string | undefined;
  if (sub === 'listen') {
    if (args.length !== 1) return usage(args.length ? `unexpected argument '${args[1]}'` : 'missing PSM');
    psmArg = args[0];
  } else {
    const a = parse_addr(args[0] ?? (options.port.addr ? bd_addr_to_str(options.port.addr) : undefined));
    if (typeof a === 'string') return usage(a);
    addr = a;
    psmArg = options.port.addr && args.length === 1 ? args[0] : args[1];
    if (args.length > 2) return usage(`unexpected argument '${args[2]}'`);
  }
  const psm = parse_psm(psmArg);
  if (typeof psm === 'string') return usage(psm);

  const host = new CliHost(options, `l2cap ${sub}`);
  if (!(await host.open())) return host.exit_code;
  const l2cap = host.stack.l2cap;
  const codes = host.stack.codes;
  const bytes = new ByteStream(host, stream);
  let cid = 0;
  /** L2CAP_CHANNEL_MODE_* of the open channel (CHANNEL_OPENED's mode). */
  let chMode = 0;
  let peerStr = addr ? bd_addr_to_str(addr) : '';
  if (sub === 'listen') {
    host.recover = true;
    bytes.keep_serving = true;
    bytes.on_next = () => (cid = 0);
  }

  const ops: ChannelOps = {
    request_can_send_now: () => void l2cap.l2cap_request_can_send_now_event(cid),
    // SDUs of the remote MTU; in ERTM / streaming an SDU above the MPS (ERTM_MPS) goes as start / continuation / end I-frames
    max_payload: () => l2cap.l2cap_get_remote_mtu_for_local_cid(cid),
    send: (data, len) => l2cap.l2cap_send(cid, data, len),
    disconnect: () => void l2cap.l2cap_disconnect(cid),
  };

  const handler = (type: number, channel: number, packet: Uint8Array, size: number) => {
    if (type === L2CAP_DATA_PACKET) {
      if (channel === cid) bytes.data(packet, size);
      return;
    }
    if (type !== HCI_EVENT_PACKET) return;
    host.trace(packet, size);
    switch (packet[0]) {
      case codes.L2CAP_EVENT_INCOMING_CONNECTION: {
        const local = codes.l2cap_event_incoming_connection_get_local_cid(packet);
        if (cid) {
          l2cap.l2cap_decline_connection(local); // one connection at a time
          break;
        }
        cid = local;
        peerStr = bd_addr_to_str(codes.l2cap_event_incoming_connection_get_address(packet));
        host.say(`connection from ${peerStr} on PSM ${hex16(psm)}`);
        if (ertm) l2cap.l2cap_ertm_accept_connection(local, ertm, new Uint8Array(ertm_buffer_size(ertm)));
        else l2cap.l2cap_accept_connection(local);
        break;
      }
      case codes.L2CAP_EVENT_CHANNEL_OPENED: {
        const status = codes.l2cap_event_channel_opened_get_status(packet);
        if (status !== 0) {
          if (sub === 'listen') {
            host.say(`incoming channel failed: ${status_text(status)}`);
            cid = 0;
            break;
          }
          // 0x66: our side did not reach the level (say why), or the peer refused at its own level
          const level = host.stack.gap.gap_get_security_level();
          const mine =
            status === 0x66 && host.stack.gap.gap_security_level(codes.l2cap_event_channel_opened_get_handle(packet)) < level;
          // the HCI event behind our failure (Authentication Complete 0x06, ...) reaches the agent
          // after the stack's own events (as in BTstack): decide the line once it has
          host.run_loop.execute_on_main_thread(() => {
            const ours = mine ? security_failure(host.agent, peerStr, level) : null;
            host.finish(1, ours ?? l2cap_open_failure(peerStr, psm, status));
          });
          break;
        }
        cid = codes.l2cap_event_channel_opened_get_local_cid(packet);
        chMode = codes.l2cap_event_channel_opened_get_mode(packet);
        host.say(
          `L2CAP channel open: ${peerStr} PSM ${hex16(psm)}, local cid ${hex16(cid)}, ` +
            `MTU ${codes.l2cap_event_channel_opened_get_local_mtu(packet)} in / ${codes.l2cap_event_channel_opened_get_remote_mtu(packet)} out` +
            (ertm
              ? `, ${MODE_NAMES[chMode] ?? `mode ${chMode}`}${chMode ? `, FCS ${codes.l2cap_event_channel_opened_get_fcs(packet) ? 'on' : 'off'}` : ''}`
              : '') +
            (stream.mode === 'interactive' ? ' (stdin -> channel -> stdout; end of input or Ctrl-C closes)' : ''),
        );
        bytes.opened(ops, codes.l2cap_event_channel_opened_get_handle(packet));
        break;
      }
      case codes.L2CAP_EVENT_CAN_SEND_NOW:
        if (codes.l2cap_event_can_send_now_get_local_cid(packet) === cid) bytes.can_send_now();
        break;
      case codes.L2CAP_EVENT_CHANNEL_CLOSED:
        if (codes.l2cap_event_channel_closed_get_local_cid(packet) !== cid) break;
        cid = 0;
        bytes.closed();
        break;
    }
  };

  host.on_interrupt = () => {
    if (bytes.is_open) bytes.interrupt();
    else host.finish(130, 'interrupted');
  };

  // BTstack's security mode 4: every service but SDP needs at least gap_set_security_level (default 2)
  if (security !== null) host.stack.gap.gap_set_security_level(security);
  if (sub === 'listen') {
    // a server: others find it by inquiry and can page it
    host.stack.gap.gap_discoverable_control(1);
    host.stack.gap.gap_connectable_control(1);
  }
  host.power_on(() => {
    if (sub === 'listen') {
      cid = 0;
      l2cap.l2cap_unregister_service(psm); // again after a fault: a fresh registration
      const st = l2cap.l2cap_register_service(handler, psm, mtu, security ?? LEVEL_0);
      if (st !== 0) return host.finish(1, `cannot listen on PSM ${hex16(psm)}: ${status_text(st)}`);
      host.say(`listening on PSM ${hex16(psm)} at ${host.local_address} on ${host.where} (Ctrl-C to stop)`);
      if (host.peer) {
        host.say(
          `the virtual peer ${bd_addr_to_str(host.peer.address)} dials in${peerSend ? ` and sends ${peerSend} bytes` : ''}`,
        );
        host.peer.dial_l2cap(host.stack.gap.gap_local_bd_addr(), psm, peerSend, (status) =>
          host.finish(1, `the virtual peer could not connect: ${status_text(status)}`),
        );
      }
      return;
    }
    if (pageTimeout) host.stack.hci.hci_send_cmd(hci_write_page_timeout, Math.max(1, Math.round(pageTimeout / 0.625)));
    host.say(`connecting to ${peerStr} PSM ${hex16(psm)} ...`);
    const r = ertm
      ? l2cap.l2cap_ertm_create_channel(handler, addr!, psm, ertm, new Uint8Array(ertm_buffer_size(ertm)))
      : l2cap.l2cap_create_channel(handler, addr!, psm, mtu);
    if (r.status !== 0) host.finish(1, l2cap_open_failure(peerStr, psm, r.status));
    else cid = r.local_cid;
  });
  return host.run();
}

/** Payload of one I-frame (MPS) the CLI's ERTM / streaming buffers give. */
export const ERTM_MPS = 1000;
const MODE_NAMES: Record<number, string> = { 0: 'Basic mode', 3: 'ERTM', 4: 'streaming mode' };

/**
 * `--mode basic|ertm|streaming [--mandatory]`: null for basic, else the l2cap_ertm_config_t the CLI
 * uses (16 + 16 buffers of ERTM_MPS, MaxTransmit 50, retransmission 250 ms and monitor 500 ms
 * (BTstack recommends 2000 / 12000 for a real radio; these suit a pty), FCS; MTU --mtu or
 * ERTM_MPS: by default every SDU is one I-frame, a larger --mtu on both sides gives segmented SDUs), or a usage problem.
 */
export function ertm_options(
  mode: string | undefined,
  mandatory: boolean,
  mtu: number | null,
): l2cap_ertm_config_t | null | string {
  if (mode === undefined || mode === 'basic') return mandatory ? '--mandatory needs --mode ertm or streaming' : null;
  if (mode !== 'ertm' && mode !== 'streaming') return `--mode: expected basic, ertm or streaming, got '${mode}'`;
  return {
    ertm_mandatory: mandatory ? 1 : 0,
    max_transmit: 50,
    retransmission_timeout_ms: 250,
    monitor_timeout_ms: 500,
    local_mtu: mtu ?? ERTM_MPS,
    num_tx_buffers: 16,
    num_rx_buffers: 16,
    fcs_option: 1,
    mode: mode === 'ertm' ? L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION : L2CAP_CHANNEL_MODE_STREAMING_MODE,
  };
}

/** The buffer an ERTM config needs for ERTM_MPS slots: reassembly (MTU) + every window slot. */
export function ertm_buffer_size(c: l2cap_ertm_config_t): number {
  return c.local_mtu + (c.num_rx_buffers + c.num_tx_buffers) * ERTM_MPS;
}
