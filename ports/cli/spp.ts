/**
 * `bthost spp listen` / `bthost spp connect ADDR`: the Serial Port Profile, an RFCOMM channel
 * announced by an SDP record, as a byte stream or a throughput test (see stream.ts).
 * `listen` registers RFCOMM channel N (default 1) and an SPP record; `connect` asks the peer's
 * SDP server for Serial Port services (UUID 0x1101) and connects to the first, or to
 * `--channel N` without asking. Without --port, the virtual peer finds `listen` by SDP and
 * dials in; `connect` reaches its SPP echo (channel 1) or discard (channel 2) service.
 */
import { bd_addr_to_str, type BdAddr } from '../../src/core/bytes.js';
import { HCI_EVENT_PACKET, RFCOMM_DATA_PACKET } from '../../src/codes/v1.4.js';
import { hci_write_page_timeout } from '../../src/hci/commands.js';
import { SdpServer } from '../../src/sdp/server.js';
import { SdpClient } from '../../src/sdp/client.js';
import { spp_create_sdp_record } from '../../src/sdp/spp.js';
import { BLUETOOTH_SERVICE_CLASS_SERIAL_PORT } from '../../src/sdp/constants.js';
import { CliHost } from './host.js';
import { status_text } from './format.js';
import { Flags, parse_size, type CliOptions } from './options.js';
import { usage_error, page_failure, parse_addr, parse_security } from './common.js';
import { security_failure } from './agent.js';
import { ByteStream, STREAM_BOOLEANS, STREAM_VALUED, stream_options, type ChannelOps } from './stream.js';

const SPP_SERVICE_NAME = 'bthost SPP';
const SPP_RECORD_HANDLE = 0x10001;

export async function spp_main(options: CliOptions): Promise<number> {
  const flags = new Flags(
    options.rest,
    [...STREAM_VALUED, '--channel', '--page-timeout', '--peer-send', '--security'],
    STREAM_BOOLEANS,
  );
  const [sub, ...args] = flags.positional;
  const usage = (p: string) => {
    return usage_error('spp', p);
  };
  if (flags.errors.length) return usage(flags.errors[0]!);
  if (sub !== 'listen' && sub !== 'connect')
    return usage(sub ? `unknown subcommand '${sub}' (listen or connect)` : 'listen or connect?');
  const stream = stream_options(flags);
  if (typeof stream === 'string') return usage(stream);
  const chanArg = flags.get('--channel');
  const channelOpt = chanArg === undefined ? 0 : Number(chanArg);
  if (chanArg !== undefined && (!Number.isInteger(channelOpt) || channelOpt < 1 || channelOpt > 30))
    return usage(`--channel: expected 1..30, got '${chanArg}'`);
  const pageTimeout = flags.get('--page-timeout') === undefined ? 0 : Number(flags.get('--page-timeout'));
  if (!Number.isInteger(pageTimeout) || pageTimeout < 0 || pageTimeout > 40_000)
    return usage(`--page-timeout: expected 1..40000 ms`);
  const peerSend = flags.get('--peer-send') === undefined ? null : parse_size(flags.get('--peer-send'));
  if (peerSend !== null && !(peerSend > 0))
    return usage(`--peer-send: expected a size such as 64k, got '${flags.get('--peer-send')}'`);

  const security = parse_security(flags.get('--security'));
  if (typeof security === 'string') return usage(security);

  let addr: BdAddr | null = null;
  if (sub === 'listen') {
    if (args.length) return usage(`unexpected argument '${args[0]}'`);
  } else {
    const a = parse_addr(args[0] ?? (options.port.addr ? bd_addr_to_str(options.port.addr) : undefined));
    if (typeof a === 'string') return usage(a);
    if (args.length > 1) return usage(`unexpected argument '${args[1]}'`);
    addr = a;
  }

  const host = new CliHost(options, `spp ${sub}`);
  if (!(await host.open())) return host.exit_code;
  const rfcomm = host.stack.rfcomm;
  const codes = host.stack.codes;
  const bytes = new ByteStream(host, stream);
  let cid = 0;
  let peerStr = addr ? bd_addr_to_str(addr) : '';
  let serverChannel = channelOpt || 1;
  // listen rides through controller faults and serves the next connection (see l2cap.ts)
  if (sub === 'listen') {
    host.recover = true;
    bytes.keep_serving = true;
    bytes.on_next = () => (cid = 0);
  }
  let sdp: SdpServer | null = null;

  const ops: ChannelOps = {
    request_can_send_now: () => void rfcomm.rfcomm_request_can_send_now_event(cid),
    max_payload: () => rfcomm.rfcomm_get_max_frame_size(cid),
    send: (data, len) => rfcomm.rfcomm_send(cid, data, len),
    disconnect: () => void rfcomm.rfcomm_disconnect(cid),
  };

  const handler = (type: number, channel: number, packet: Uint8Array, size: number) => {
    if (type === RFCOMM_DATA_PACKET) {
      if (channel === cid) bytes.data(packet, size);
      return;
    }
    if (type !== HCI_EVENT_PACKET) return;
    host.trace(packet, size);
    switch (packet[0]) {
      case codes.RFCOMM_EVENT_INCOMING_CONNECTION: {
        const c = codes.rfcomm_event_incoming_connection_get_rfcomm_cid(packet);
        if (cid) {
          rfcomm.rfcomm_decline_connection(c);
          break;
        }
        cid = c;
        peerStr = bd_addr_to_str(codes.rfcomm_event_incoming_connection_get_bd_addr(packet));
        host.say(`connection from ${peerStr} on RFCOMM channel ${serverChannel}`);
        rfcomm.rfcomm_accept_connection(c);
        break;
      }
      case codes.RFCOMM_EVENT_CHANNEL_OPENED: {
        const status = codes.rfcomm_event_channel_opened_get_status(packet);
        if (status !== 0) {
          if (sub === 'listen') {
            host.say(`incoming channel failed: ${status_text(status)}`);
            cid = 0;
            break;
          }
          // our side below the level: say why, after the HCI event behind it (Authentication Complete,
          // ...) has reached the agent (see l2cap.ts)
          const level = host.stack.gap.gap_get_security_level();
          const mine = host.stack.gap.gap_security_level(codes.rfcomm_event_channel_opened_get_con_handle(packet)) < level;
          host.run_loop.execute_on_main_thread(() => {
            const ours = mine ? security_failure(host.agent, peerStr, level) : null;
            host.finish(
              1,
              status === 0x04
                ? page_failure(peerStr, status)
                : (ours ?? `cannot open RFCOMM channel ${serverChannel} at ${peerStr}: ${status_text(status)}`),
            );
          });
          break;
        }
        cid = codes.rfcomm_event_channel_opened_get_rfcomm_cid(packet);
        host.say(
          `RFCOMM channel open: ${peerStr} channel ${serverChannel}, rfcomm cid ${cid}, max frame size ${codes.rfcomm_event_channel_opened_get_max_frame_size(packet)}` +
            (stream.mode === 'interactive' ? ' (stdin -> channel -> stdout; end of input or Ctrl-C closes)' : ''),
        );
        bytes.opened(ops, codes.rfcomm_event_channel_opened_get_con_handle(packet));
        break;
      }
      case codes.RFCOMM_EVENT_CAN_SEND_NOW:
        if (codes.rfcomm_event_can_send_now_get_rfcomm_cid(packet) === cid) bytes.can_send_now();
        break;
      case codes.RFCOMM_EVENT_CHANNEL_CLOSED:
        if (codes.rfcomm_event_channel_closed_get_rfcomm_cid(packet) !== cid) break;
        cid = 0;
        bytes.closed();
        break;
    }
  };

  const connect = (channel: number) => {
    serverChannel = channel;
    host.say(`connecting to ${peerStr} RFCOMM channel ${channel} ...`);
    const r = rfcomm.rfcomm_create_channel(handler, addr!, channel);
    if (r.status !== 0) host.finish(1, `cannot connect to ${peerStr}: ${status_text(r.status)}`);
  };

  host.on_interrupt = () => {
    if (bytes.is_open) bytes.interrupt();
    else host.finish(130, 'interrupted');
  };

  if (security !== null) {
    // the mode-4 minimum for outgoing channels, and the level RFCOMM registers PSM 3 with (BTstack: LEVEL_2)
    host.stack.gap.gap_set_security_level(security);
    rfcomm.rfcomm_set_required_security_level(security);
  }
  if (sub === 'listen') {
    // a server: others find it by inquiry and can page it
    host.stack.gap.gap_discoverable_control(1);
    host.stack.gap.gap_connectable_control(1);
  }
  host.power_on(() => {
    if (sub === 'listen') {
      cid = 0;
      if (!sdp) {
        sdp = new SdpServer(host.stack);
        sdp.sdp_init();
      }
      // again after a fault: fresh registrations
      sdp.sdp_unregister_service(SPP_RECORD_HANDLE);
      rfcomm.rfcomm_unregister_service(serverChannel);
      const record = new Uint8Array(200);
      spp_create_sdp_record(record, SPP_RECORD_HANDLE, serverChannel, SPP_SERVICE_NAME);
      const st = sdp.sdp_register_service(record);
      if (st !== 0) return host.finish(1, `cannot register the SDP record: ${status_text(st)}`);
      const rs = rfcomm.rfcomm_register_service(handler, serverChannel, 0xffff);
      if (rs !== 0) return host.finish(1, `cannot listen on RFCOMM channel ${serverChannel}: ${status_text(rs)}`);
      host.say(
        `SPP '${SPP_SERVICE_NAME}' listening on RFCOMM channel ${serverChannel} at ${host.local_address} on ${host.where} (Ctrl-C to stop)`,
      );
      if (host.peer) {
        host.say(
          `the virtual peer ${bd_addr_to_str(host.peer.address)} finds it by SDP and dials in${peerSend ? ` and sends ${peerSend} bytes` : ''}`,
        );
        host.peer.dial_spp(host.stack.gap.gap_local_bd_addr(), peerSend, (status) =>
          host.finish(1, `the virtual peer could not connect: ${status_text(status)}`),
        );
      }
      return;
    }
    if (pageTimeout) host.stack.hci.hci_send_cmd(hci_write_page_timeout, Math.max(1, Math.round(pageTimeout / 0.625)));
    if (channelOpt) return connect(channelOpt);
    // find the service by SDP
    host.say(`asking ${peerStr} for Serial Port services (SDP) ...`);
    const found: Array<{ channel: number; name: string }> = [];
    const sdpClient = new SdpClient(host.stack);
    const st = sdpClient.sdp_client_query_rfcomm_channel_and_name_for_uuid(
      (type, _ch, packet, size) => {
        if (type !== HCI_EVENT_PACKET) return;
        host.trace(packet, size);
        if (packet[0] === codes.SDP_EVENT_QUERY_RFCOMM_SERVICE) {
          const s = {
            channel: codes.sdp_event_query_rfcomm_service_get_rfcomm_channel(packet),
            name: codes.sdp_event_query_rfcomm_service_get_name(packet),
          };
          found.push(s);
          host.say(`  '${s.name}' on RFCOMM channel ${s.channel}`);
        } else if (packet[0] === codes.SDP_EVENT_QUERY_COMPLETE) {
          const status = codes.sdp_event_query_complete_get_status(packet);
          if (status === 0x04) return host.finish(1, page_failure(peerStr, status));
          if (status !== 0) return host.finish(1, `SDP query to ${peerStr} failed: ${status_text(status)}`);
          if (!found.length) return host.finish(1, `${peerStr} has no Serial Port service (SDP found none)`);
          // let the SDP channel close before RFCOMM opens its own on the same link
          host.run_loop.execute_on_main_thread(() => connect(found[0]!.channel));
        }
      },
      addr!,
      BLUETOOTH_SERVICE_CLASS_SERIAL_PORT,
    );
    if (st !== 0) host.finish(1, `cannot start the SDP query: ${status_text(st)}`);
  });
  return host.run();
}
