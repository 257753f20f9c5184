/**
 * `npm start`: the whole stack in one process, on the built-in virtual controller.
 *
 * Two bthost stacks share one simulated radio:
 *   - the server registers an L2CAP service (PSM 0x1001) and a Serial Port Profile service
 *     (RFCOMM channel 1, announced by an SDP record), and is discoverable;
 *   - the client finds it by inquiry, asks its SDP server for the SPP channel, opens an L2CAP
 *     channel and an RFCOMM channel, sends data on each with the can-send-now pattern, closes
 *     both, disconnects and powers off.
 * Both print the BTstack events they receive (name, code, decoded fields). At the end: bytes
 * moved, throughput, and whether every pool is back to full. Both stacks write a btsnoop packet
 * log that Wireshark opens.
 *
 * The stacks run on a NodeRunLoop (real time), as a program on a serial controller would.
 *
 *   npm start                        (= npx tsx examples/demo.ts)
 *   options: --bytes N (per channel, default 262144), --out DIR (captures, default the system
 *            temp dir), --profile v1.4|v1.8, -v/--verbose (every event, also the bulk ones)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  NodeRunLoop,
  Timer,
  Stack,
  SdpServer,
  SdpClient,
  spp_create_sdp_record,
  BLUETOOTH_SERVICE_CLASS_SERIAL_PORT,
  bd_addr_to_str,
  bd_addr_cmp,
  decode_event,
  type BdAddr,
  type CodeProfile,
} from 'bthost';
import * as C from 'bthost/v1.4';
import { RadioLink, VirtualTransport } from 'bthost/virtual';
import {
  check_int,
  check_profile,
  flag_given,
  flag_string,
  parse_flags,
  pick_flags,
  read_flag,
  status_text,
  type FlagSpec,
} from 'bthost/port';

const PSM_DEMO = 0x1001;
const RFCOMM_SERVER_CHANNEL = 1;
const SPP_RECORD_HANDLE = 0x10001;
const SERVER_NAME = 'bthost demo server';
const SERVICE_NAME = 'bthost demo SPP';
const GREETING = new TextEncoder().encode('hello from the server');
/** Events that repeat during a transfer; shown once each per phase unless --verbose. */
const BULK_EVENTS = new Set(['HCI_EVENT_NUMBER_OF_COMPLETED_PACKETS', 'L2CAP_EVENT_CAN_SEND_NOW', 'RFCOMM_EVENT_CAN_SEND_NOW']);
/** Command bookkeeping, hidden unless --verbose. */
const QUIET_EVENTS = new Set(['HCI_EVENT_COMMAND_COMPLETE', 'HCI_EVENT_COMMAND_STATUS', 'HCI_EVENT_TRANSPORT_PACKET_SENT']);
const WATCHDOG_MS = 20_000;

interface Options {
  bytes: number;
  out: string;
  profile: CodeProfile;
  verbose: boolean;
}

/** The common --profile, -v and -h (bthost/port's one option parser) and the demo's own flags. */
const DEMO_FLAGS: FlagSpec = {
  ...pick_flags('profile', 'verbose', 'help'),
  bytes: { type: 'string' },
  out: { type: 'string' },
};

function parseArgs(argv: string[]): Options | string {
  const p = parse_flags(argv, DEMO_FLAGS, { positionals: false });
  if (flag_given(p, 'help')) return 'help';
  const o: Options = {
    bytes: read_flag(p, 'bytes', check_int(1, 1 << 30, `1..${1 << 30}`)) ?? 256 * 1024,
    out: flag_string(p, 'out') ?? os.tmpdir(),
    profile: read_flag(p, 'profile', check_profile) ?? 'v1.4',
    verbose: flag_given(p, 'verbose'),
  };
  return p.errors[0] ?? o;
}

const USAGE = `usage: npm start -- [options]    (or: npx tsx examples/demo.ts [options])
  --bytes N          bytes to send on each channel (default 262144)
  --out DIR          where to write the two btsnoop captures (default: the system temp dir)
  --profile P        BTstack release of the event codes: v1.4 (default) or v1.8
  -v, --verbose      print every event, also command completions and the repeated bulk events`;

/** Prints events of both stacks as one trace; repeated bulk events are counted instead. */
class Trace {
  private readonly t0 = performance.now();
  private readonly hidden = new Map<string, number>();
  private readonly shownBulk = new Set<string>();
  constructor(private readonly verbose: boolean) {}

  ms(): string {
    return (performance.now() - this.t0).toFixed(1).padStart(7);
  }

  line(who: string, text: string): void {
    console.log(`${this.ms()} ms  ${who.padEnd(6)}  ${text}`);
  }

  note(text: string): void {
    console.log(`${this.ms()} ms          -- ${text}`);
  }

  /** One event: `NAME (0xNN) field=value ...`. */
  event(who: string, stack: Stack, packet: Uint8Array, size: number): void {
    const d = decode_event(stack.codes, packet, size);
    const name = d?.name ?? `EVENT_0x${packet[0]!.toString(16).padStart(2, '0')}`;
    if (!this.verbose) {
      if (QUIET_EVENTS.has(name)) return this.hide(name);
      if (BULK_EVENTS.has(name)) {
        const key = `${who}:${name}`;
        if (this.shownBulk.has(key)) return this.hide(name);
        this.shownBulk.add(key);
      }
    }
    let text = `${name} (0x${packet[0]!.toString(16).padStart(2, '0')}`;
    if (d?.subevent !== undefined) text += `/0x${d.subevent.toString(16).padStart(2, '0')}`;
    text += ')';
    if (d) for (const [k, v] of Object.entries(d.fields)) text += ` ${k}=${pretty(k, v)}`;
    this.line(who, text);
  }

  /** Start a new phase: bulk events are shown once again. */
  phase(): void {
    this.shownBulk.clear();
  }

  private hide(name: string): void {
    this.hidden.set(name, (this.hidden.get(name) ?? 0) + 1);
  }

  hiddenSummary(): string {
    return [...this.hidden].map(([n, c]) => `${c} x ${n}`).join(', ');
  }
}

/** A field as a person reads it: names as text, RSSI signed, class of device in hex. */
function pretty(key: string, v: unknown): string {
  if (key === 'rssi' && typeof v === 'number') return `${(v << 24) >> 24}dBm`;
  if (key === 'class_of_device' && typeof v === 'number') return `0x${v.toString(16).padStart(6, '0')}`;
  if (key === 'name' && typeof v === 'string' && /^([0-9a-f]{2})*$/.test(v)) v = Buffer.from(v, 'hex').toString('utf8');
  if (typeof v === 'string' && (key === 'name' || key.endsWith('_name') || /\s|^$/.test(v))) return JSON.stringify(v);
  return String(v);
}

/** A deterministic byte pattern (so the receiver could check it). */
function pattern(len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

function mbps(bytes: number, ms: number): string {
  return ms > 0 ? `${(bytes / 1e6 / (ms / 1000)).toFixed(2)} MB/s` : 'n/a';
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === 'string') {
    if (parsed === 'help') {
      console.error(USAGE);
      return 0;
    }
    // a usage error is one line
    console.error(`demo: ${parsed} (usage: npm start -- --help)`);
    return 2;
  }
  const opt = parsed;
  const trace = new Trace(opt.verbose);
  fs.mkdirSync(opt.out, { recursive: true });

  // ---------------------------------------------------------------- the world
  const run_loop = new NodeRunLoop();
  const radio = new RadioLink(run_loop, { seed: 'npm start' });
  const mkStack = (name: string) =>
    new Stack({
      transport: new VirtualTransport(radio.create_controller({ name, acl_size: 1021, acl_buffers: 8 })),
      run_loop,
      profile: opt.profile,
    });
  const server = mkStack('server');
  const client = mkStack('client');
  const codes = client.codes; // both stacks speak the same profile
  const captures = {
    client: path.join(opt.out, 'bthost-demo-client.btsnoop'),
    server: path.join(opt.out, 'bthost-demo-server.btsnoop'),
  };
  for (const [s, file] of [
    [client, captures.client],
    [server, captures.server],
  ] as const) {
    const err = s.open_packet_log(file, 'btsnoop');
    if (err) {
      console.error(`demo: cannot write ${file} (error ${err})`);
      return 1;
    }
  }
  const sdpServer = new SdpServer(server);
  const sdpClient = new SdpClient(client);

  console.log('bthost demo: two stacks in one process on the built-in virtual controller');
  console.log(`run loop: NodeRunLoop (real time); code profile ${opt.profile}; ${opt.bytes} bytes per channel`);
  console.log('');

  // ---------------------------------------------------------------- results
  const stats = {
    l2cap: { sent: 0, received: 0, t_first: 0, t_last: 0 },
    rfcomm: { sent: 0, received: 0, t_first: 0, t_last: 0 },
    greeting: '',
  };
  let failure: string | null = null;
  let finished = false;
  const fail = (why: string) => {
    if (failure) return;
    failure = why;
    trace.note(`FAILED: ${why}`);
    run_loop.trigger_exit();
  };
  const watchdog = new Timer(() => fail(`not finished after ${WATCHDOG_MS / 1000} s`));
  run_loop.set_timer(watchdog, WATCHDOG_MS);
  run_loop.add_timer(watchdog);

  // ================================================================ server
  // HCI events (power, GAP, connections).
  server.hci.hci_add_event_handler({
    callback: (type, _ch, packet, size) => {
      if (type !== C.HCI_EVENT_PACKET) return;
      trace.event('server', server, packet, size);
      if (packet[0] === C.BTSTACK_EVENT_STATE && codes.btstack_event_state_get_state(packet) === C.HCI_STATE_WORKING) {
        trace.note(
          `server up and running at ${bd_addr_to_str(server.gap.gap_local_bd_addr())}, discoverable as '${SERVER_NAME}'`,
        );
        serverReady = true;
        maybeStartClient();
      }
    },
  });
  let serverReady = false;
  let greetingCid = 0;

  // L2CAP service: accept, greet the client once, count what arrives.
  server.l2cap.l2cap_register_service(
    (type, channel, packet, size) => {
      if (type === C.L2CAP_DATA_PACKET) {
        stats.l2cap.received += size;
        if (stats.l2cap.received >= opt.bytes) stats.l2cap.t_last = performance.now();
        return;
      }
      trace.event('server', server, packet, size);
      switch (packet[0]) {
        case codes.L2CAP_EVENT_INCOMING_CONNECTION:
          server.l2cap.l2cap_accept_connection(codes.l2cap_event_incoming_connection_get_local_cid(packet));
          break;
        case codes.L2CAP_EVENT_CHANNEL_OPENED:
          if (codes.l2cap_event_channel_opened_get_status(packet) === 0) {
            greetingCid = codes.l2cap_event_channel_opened_get_local_cid(packet);
            server.l2cap.l2cap_request_can_send_now_event(greetingCid);
          }
          break;
        case codes.L2CAP_EVENT_CAN_SEND_NOW:
          if (channel === greetingCid && greetingCid) {
            server.l2cap.l2cap_send(greetingCid, GREETING);
            greetingCid = 0;
          }
          break;
      }
    },
    PSM_DEMO,
    0xffff,
    C.LEVEL_0,
  );

  // SPP: an RFCOMM service and its SDP record.
  server.rfcomm.rfcomm_register_service(
    (type, _channel, packet, size) => {
      if (type === C.RFCOMM_DATA_PACKET) {
        stats.rfcomm.received += size;
        if (stats.rfcomm.received >= opt.bytes) stats.rfcomm.t_last = performance.now();
        return;
      }
      trace.event('server', server, packet, size);
      if (packet[0] === codes.RFCOMM_EVENT_INCOMING_CONNECTION) {
        server.rfcomm.rfcomm_accept_connection(codes.rfcomm_event_incoming_connection_get_rfcomm_cid(packet));
      }
    },
    RFCOMM_SERVER_CHANNEL,
    0xffff,
  );
  sdpServer.sdp_init();
  const record = new Uint8Array(200);
  spp_create_sdp_record(record, SPP_RECORD_HANDLE, RFCOMM_SERVER_CHANNEL, SERVICE_NAME);
  const sdpStatus = sdpServer.sdp_register_service(record);
  if (sdpStatus !== 0) {
    console.error(`demo: sdp_register_service failed: ${status_text(sdpStatus)}`);
    return 1;
  }

  server.gap.gap_set_local_name(SERVER_NAME);
  server.gap.gap_set_class_of_device(0x1f00); // uncategorized
  server.gap.gap_discoverable_control(1);
  server.gap.gap_connectable_control(1);

  // ================================================================ client
  let clientReady = false;
  let peer: BdAddr | null = null;
  let rfcommChannel = 0;
  let aclHandle = -1;
  let l2capCid = 0;
  let rfcommCid = 0;
  const l2capData = pattern(opt.bytes);
  const rfcommData = l2capData;
  let poweringOff = false;

  function maybeStartClient(): void {
    if (!serverReady || !clientReady || peer || poweringOff) return;
    trace.note('client: inquiry (looking for the server)');
    client.gap.gap_inquiry_start(2);
  }

  client.hci.hci_add_event_handler({
    callback: (type, _ch, packet, size) => {
      if (type !== C.HCI_EVENT_PACKET) return;
      trace.event('client', client, packet, size);
      switch (packet[0]) {
        case C.BTSTACK_EVENT_STATE: {
          const state = codes.btstack_event_state_get_state(packet);
          if (state === C.HCI_STATE_WORKING && !clientReady) {
            trace.note(`client up and running at ${bd_addr_to_str(client.gap.gap_local_bd_addr())}`);
            clientReady = true;
            maybeStartClient();
          }
          if (state === C.HCI_STATE_OFF) checkDone();
          break;
        }
        case codes.GAP_EVENT_INQUIRY_RESULT: {
          if (peer) break;
          const name = codes.gap_event_inquiry_result_get_name_available(packet)
            ? new TextDecoder().decode(codes.gap_event_inquiry_result_get_name(packet))
            : '';
          if (name !== SERVER_NAME) break;
          peer = codes.gap_event_inquiry_result_get_bd_addr(packet);
          trace.note(`client: found '${name}' at ${bd_addr_to_str(peer)}, stopping the inquiry`);
          client.gap.gap_inquiry_stop();
          break;
        }
        case codes.GAP_EVENT_INQUIRY_COMPLETE:
          if (!peer) return fail('inquiry complete, server not found');
          trace.note('client: SDP query for the Serial Port service (UUID 0x1101)');
          client.gap.gap_set_local_name('bthost demo client');
          {
            const st = sdpClient.sdp_client_query_rfcomm_channel_and_name_for_uuid(
              sdpHandler,
              peer,
              BLUETOOTH_SERVICE_CLASS_SERIAL_PORT,
            );
            if (st !== 0) fail(`sdp query: ${status_text(st)}`);
          }
          break;
        case C.HCI_EVENT_CONNECTION_COMPLETE:
          if (packet[2] === 0) aclHandle = codes.hci_event_connection_complete_get_connection_handle(packet);
          break;
        case C.HCI_EVENT_DISCONNECTION_COMPLETE:
          aclHandle = -1;
          if (!poweringOff) {
            trace.note('link closed; powering both stacks off');
            poweringOff = true;
            client.hci.hci_power_control(C.HCI_POWER_OFF);
            server.hci.hci_power_control(C.HCI_POWER_OFF);
          }
          break;
      }
    },
  });
  server.hci.hci_add_event_handler({
    callback: (type, _ch, packet) => {
      if (
        type === C.HCI_EVENT_PACKET &&
        packet[0] === C.BTSTACK_EVENT_STATE &&
        codes.btstack_event_state_get_state(packet) === C.HCI_STATE_OFF
      )
        checkDone();
    },
  });

  const sdpHandler = (type: number, _ch: number, packet: Uint8Array, size: number) => {
    if (type !== C.HCI_EVENT_PACKET) return;
    trace.event('client', client, packet, size);
    switch (packet[0]) {
      case codes.SDP_EVENT_QUERY_RFCOMM_SERVICE:
        if (!rfcommChannel) rfcommChannel = codes.sdp_event_query_rfcomm_service_get_rfcomm_channel(packet);
        break;
      case codes.SDP_EVENT_QUERY_COMPLETE: {
        const st = codes.sdp_event_query_complete_get_status(packet);
        if (st !== 0 || !rfcommChannel) return fail(`SDP query failed (${status_text(st)}, channel ${rfcommChannel})`);
        trace.note(
          `client: '${SERVICE_NAME}' is on RFCOMM channel ${rfcommChannel}; opening an L2CAP channel to PSM 0x${PSM_DEMO.toString(16)}`,
        );
        trace.phase();
        const r = client.l2cap.l2cap_create_channel(l2capHandler, peer!, PSM_DEMO, 0xffff);
        if (r.status !== 0) fail(`l2cap_create_channel: ${status_text(r.status)}`);
        break;
      }
    }
  };

  const l2capHandler = (type: number, channel: number, packet: Uint8Array, size: number) => {
    if (type === C.L2CAP_DATA_PACKET) {
      stats.greeting = new TextDecoder().decode(packet.subarray(0, size));
      trace.line('client', `L2CAP data on cid 0x${channel.toString(16)}: '${stats.greeting}'`);
      return;
    }
    trace.event('client', client, packet, size);
    switch (packet[0]) {
      case codes.L2CAP_EVENT_CHANNEL_OPENED: {
        const st = codes.l2cap_event_channel_opened_get_status(packet);
        if (st !== 0) return fail(`L2CAP channel not opened: ${status_text(st)}`);
        l2capCid = codes.l2cap_event_channel_opened_get_local_cid(packet);
        const mtu = codes.l2cap_event_channel_opened_get_remote_mtu(packet);
        trace.note(
          `client: sending ${opt.bytes} bytes on L2CAP cid 0x${l2capCid.toString(16)} in SDUs of up to ${mtu} bytes, on L2CAP_EVENT_CAN_SEND_NOW`,
        );
        stats.l2cap.t_first = performance.now();
        client.l2cap.l2cap_request_can_send_now_event(l2capCid);
        break;
      }
      case codes.L2CAP_EVENT_CAN_SEND_NOW: {
        const left = opt.bytes - stats.l2cap.sent;
        if (left <= 0) {
          trace.note('client: all sent; closing the L2CAP channel');
          client.l2cap.l2cap_disconnect(l2capCid);
          break;
        }
        const n = Math.min(left, client.l2cap.l2cap_get_remote_mtu_for_local_cid(l2capCid));
        const st = client.l2cap.l2cap_send(l2capCid, l2capData.subarray(stats.l2cap.sent, stats.l2cap.sent + n), n);
        if (st !== 0) return fail(`l2cap_send: ${status_text(st)}`);
        stats.l2cap.sent += n;
        client.l2cap.l2cap_request_can_send_now_event(l2capCid);
        break;
      }
      case codes.L2CAP_EVENT_CHANNEL_CLOSED: {
        trace.note(`client: opening RFCOMM channel ${rfcommChannel}`);
        trace.phase();
        const r = client.rfcomm.rfcomm_create_channel(rfcommHandler, peer!, rfcommChannel);
        if (r.status !== 0) fail(`rfcomm_create_channel: ${status_text(r.status)}`);
        break;
      }
    }
  };

  const rfcommHandler = (type: number, _channel: number, packet: Uint8Array, size: number) => {
    if (type !== C.HCI_EVENT_PACKET) return;
    trace.event('client', client, packet, size);
    switch (packet[0]) {
      case codes.RFCOMM_EVENT_CHANNEL_OPENED: {
        const st = codes.rfcomm_event_channel_opened_get_status(packet);
        if (st !== 0) return fail(`RFCOMM channel not opened: ${status_text(st)}`);
        rfcommCid = codes.rfcomm_event_channel_opened_get_rfcomm_cid(packet);
        const mfs = client.rfcomm.rfcomm_get_max_frame_size(rfcommCid);
        trace.note(
          `client: sending ${opt.bytes} bytes on RFCOMM cid ${rfcommCid} in frames of up to ${mfs} bytes, on RFCOMM_EVENT_CAN_SEND_NOW`,
        );
        stats.rfcomm.t_first = performance.now();
        client.rfcomm.rfcomm_request_can_send_now_event(rfcommCid);
        break;
      }
      case codes.RFCOMM_EVENT_CAN_SEND_NOW: {
        const left = opt.bytes - stats.rfcomm.sent;
        if (left <= 0) {
          trace.note('client: all sent; closing the RFCOMM channel');
          client.rfcomm.rfcomm_disconnect(rfcommCid);
          break;
        }
        const n = Math.min(left, client.rfcomm.rfcomm_get_max_frame_size(rfcommCid));
        const st = client.rfcomm.rfcomm_send(rfcommCid, rfcommData.subarray(stats.rfcomm.sent, stats.rfcomm.sent + n), n);
        if (st !== 0) return fail(`rfcomm_send: ${status_text(st)}`);
        stats.rfcomm.sent += n;
        client.rfcomm.rfcomm_request_can_send_now_event(rfcommCid);
        break;
      }
      case codes.RFCOMM_EVENT_CHANNEL_CLOSED:
        trace.note('client: both channels closed; disconnecting the link');
        if (aclHandle >= 0) client.gap.gap_disconnect(aclHandle);
        else fail('no ACL link to disconnect');
        break;
    }
  };

  function checkDone(): void {
    if (!poweringOff || finished) return;
    if (client.hci.hci_get_state() !== C.HCI_STATE_OFF || server.hci.hci_get_state() !== C.HCI_STATE_OFF) return;
    finished = true;
    run_loop.trigger_exit();
  }

  // ---------------------------------------------------------------- go
  server.hci.hci_power_control(C.HCI_POWER_ON);
  client.hci.hci_power_control(C.HCI_POWER_ON);
  await run_loop.execute();
  run_loop.remove_timer(watchdog);

  // ---------------------------------------------------------------- clean up and summary
  sdpServer.sdp_unregister_service(SPP_RECORD_HANDLE);
  sdpServer.sdp_deinit();
  server.rfcomm.rfcomm_unregister_service(RFCOMM_SERVER_CHANNEL);
  server.l2cap.l2cap_unregister_service(PSM_DEMO);
  client.close_packet_log();
  server.close_packet_log();

  console.log('');
  console.log('summary');
  const row = (what: string, s: { sent: number; received: number; t_first: number; t_last: number }) => {
    const ms = s.t_last - s.t_first;
    console.log(`  ${what}: sent ${s.sent} bytes, received ${s.received} bytes in ${ms.toFixed(1)} ms (${mbps(s.received, ms)})`);
  };
  row('L2CAP  PSM 0x1001', stats.l2cap);
  row('RFCOMM channel ' + rfcommChannel, stats.rfcomm);
  console.log(`  server greeting received by the client: '${stats.greeting}'`);
  let poolsOk = true;
  for (const [name, s] of [
    ['client', client],
    ['server', server],
  ] as const) {
    const st = s.pools.stats();
    const busy = s.pools.busy();
    if (busy.length) poolsOk = false;
    const peak = st
      .filter((p) => p.high_water > 0)
      .map((p) => `${p.name} ${p.high_water}/${p.capacity}`)
      .join(', ');
    console.log(
      `  ${name} pools: ${busy.length ? `NOT back to full: ${busy.map((p) => `${p.name} ${p.in_use} in use`).join(', ')}` : `all ${st.length} back to full`} (peak use: ${peak})`,
    );
  }
  const hidden = trace.hiddenSummary();
  if (hidden) console.log(`  not shown in the trace (run with -v to see them): ${hidden}`);
  console.log('');
  console.log('packet logs (btsnoop):');
  console.log(`  ${captures.client}`);
  console.log(`  ${captures.server}`);
  console.log(`open one in Wireshark: wireshark ${captures.client}   (or: tshark -r FILE, btmon -r FILE)`);

  const bytesOk =
    stats.l2cap.received === opt.bytes &&
    stats.rfcomm.received === opt.bytes &&
    stats.l2cap.sent === opt.bytes &&
    stats.rfcomm.sent === opt.bytes;
  if (!failure && !bytesOk) failure = 'not every byte arrived';
  if (!failure && !poolsOk) failure = 'pools not back to full';
  if (!failure && bd_addr_cmp(peer ?? new Uint8Array(6), server.gap.gap_local_bd_addr()) !== 0)
    failure = 'found the wrong device';
  if (failure) {
    console.error(`demo failed: ${failure}`);
    return 1;
  }
  console.log('clean close: both stacks off, every byte delivered, every pool back to full');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
