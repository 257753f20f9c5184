/**
 * gatt-browser, as BTstack's example/gatt_browser.c: an LE central that scans for advertisements
 * (or takes --addr), connects to the first connectable device, lists its primary services and the
 * characteristics of each with the GATT client (gatt_client_discover_primary_services,
 * gatt_client_discover_characteristics_for_service), disconnects and exits 0.
 *
 *   npx tsx examples/gatt-browser.ts                    in-process virtual controller + le-counter as the peripheral
 *   npx tsx examples/gatt-browser.ts -u /dev/ttyACM0    an H4 controller on a serial port: scan
 *   npx tsx examples/gatt-browser.ts -u /dev/ttyACM0 --addr AA:BB:CC:DD:EE:FF [--random]
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --profile v1.4|v1.8, --scan-time S (default 10)
 *
 * Exit 1 with one line when no connectable device advertised within --scan-time, the connection
 * fails or drops, or a query ends with an ATT error.
 */
import {
  bd_addr_to_str,
  gatt_client_deserialize_characteristic,
  gatt_client_deserialize_service,
  Stack,
  Timer,
  type BdAddr,
  type GattClientService,
  type NodeRunLoop,
} from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';

const OPTIONS = {
  random: { help: "with --addr: the peer's address is a random (static) one" },
  'scan-time': { value: 'S', help: 'give up scanning after S seconds (default 10)', default: 10, max: 3600 },
};
type Args = ExampleArgs<typeof OPTIONS>;

/** "0x1800" or the 128-bit UUID written out, as BTstack's printUUID. */
function uuid_text(uuid16: number, uuid128: Uint8Array): string {
  if (uuid16) return uuid16.toString(16).padStart(4, '0');
  const x = Buffer.from(uuid128).toString('hex').toUpperCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
const h4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

function btstack_main(stack: Stack, ctx: ExampleContext<Args>): void {
  const codes = stack.codes;
  const gap = stack.gap;
  const gc = stack.gatt_client;
  const services: GattClientService[] = [];
  let state: 'idle' | 'scanning' | 'connecting' | 'services' | 'characteristics' | 'done' = 'idle';
  let con = -1;
  let index = 0;
  let peer = '';
  const scanTimer = new Timer(() => {
    if (state !== 'scanning') return;
    gap.gap_stop_scan();
    console.log(`no connectable LE device advertised within ${ctx.args['scan-time']} s`);
    ctx.exit(1);
  });

  const connect = (addr: BdAddr, addr_type: number): void => {
    state = 'connecting';
    peer = bd_addr_to_str(addr);
    console.log(`Connecting to ${peer} (${addr_type === 0 ? 'public' : 'random'})`);
    const st = gap.gap_connect(addr, addr_type);
    if (st !== 0) {
      console.log(`gap_connect failed: ${status_text(st)}`);
      ctx.exit(1);
    }
  };

  /** GATT_EVENT_QUERY_COMPLETE with an error ends the program. */
  const failed = (packet: Uint8Array): boolean => {
    const st = codes.gatt_event_query_complete_get_att_status(packet);
    if (st === 0) return false;
    console.log(`GATT query failed: ATT error 0x${st.toString(16).padStart(2, '0')}`);
    state = 'done';
    gap.gap_disconnect(con);
    ctx.exit_code = 1;
    return true;
  };

  const next_service = (): void => {
    const s = services[index++];
    if (!s) {
      console.log('GATT browser - all characteristics discovered');
      state = 'done';
      gap.gap_disconnect(con);
      return;
    }
    console.log(`service ${uuid_text(s.uuid16, s.uuid128)} [${h4(s.start_group_handle)}-${h4(s.end_group_handle)}]`);
    gc.gatt_client_discover_characteristics_for_service(gatt_handler, con, s);
  };

  // BTstack's handle_gatt_client_event: results of the running query, then QUERY_COMPLETE
  const gatt_handler = (_type: number, _channel: number, packet: Uint8Array, size: number): void => {
    ctx.print_event(packet, size);
    switch (packet[0]) {
      case codes.GATT_EVENT_SERVICE_QUERY_RESULT:
        services.push(gatt_client_deserialize_service(codes.gatt_event_service_query_result_get_service(packet), 0));
        break;
      case codes.GATT_EVENT_CHARACTERISTIC_QUERY_RESULT: {
        const c = gatt_client_deserialize_characteristic(
          codes.gatt_event_characteristic_query_result_get_characteristic(packet),
          0,
        );
        console.log(
          `  characteristic ${uuid_text(c.uuid16, c.uuid128)} [${h4(c.start_handle)}-${h4(c.value_handle)}-${h4(c.end_handle)}]` +
            `, properties 0x${c.properties.toString(16).padStart(2, '0')}`,
        );
        break;
      }
      case codes.GATT_EVENT_QUERY_COMPLETE:
        if (failed(packet)) return;
        if (state === 'services') {
          console.log(`GATT browser - ${services.length} primary services discovered`);
          state = 'characteristics';
        }
        next_service();
        break;
      default:
        break;
    }
  };

  stack.hci.hci_add_event_handler({
    callback: (packet_type, _channel, packet) => {
      if (packet_type !== C.HCI_EVENT_PACKET) return;
      switch (packet[0]) {
        case C.BTSTACK_EVENT_STATE:
          if (codes.btstack_event_state_get_state(packet) !== C.HCI_STATE_WORKING || state !== 'idle') break;
          if (ctx.options.addr) {
            connect(ctx.options.addr, ctx.args.random ? 1 : 0);
            break;
          }
          console.log('Start scanning!');
          state = 'scanning';
          gap.gap_set_scan_parameters(0, 0x0030, 0x0030);
          gap.gap_start_scan();
          stack.run_loop.set_timer(scanTimer, ctx.args['scan-time'] * 1000);
          stack.run_loop.add_timer(scanTimer);
          break;
        case codes.GAP_EVENT_ADVERTISING_REPORT: {
          if (state !== 'scanning') break;
          const type = codes.gap_event_advertising_report_get_advertising_event_type(packet);
          const addr = codes.gap_event_advertising_report_get_address(packet);
          const addr_type = codes.gap_event_advertising_report_get_address_type(packet);
          console.log(
            `advertisement from ${bd_addr_to_str(addr)} type ${type} rssi ${(codes.gap_event_advertising_report_get_rssi(packet) << 24) >> 24}`,
          );
          if (type !== 0 && type !== 1) break; // ADV_IND or ADV_DIRECT_IND: connectable
          stack.run_loop.remove_timer(scanTimer);
          gap.gap_stop_scan();
          connect(addr, addr_type & 1);
          break;
        }
        case C.HCI_EVENT_LE_META:
          if (packet[2] !== C.HCI_SUBEVENT_LE_CONNECTION_COMPLETE || state !== 'connecting') break;
          if (codes.hci_subevent_le_connection_complete_get_status(packet) !== 0) {
            console.log(`connection to ${peer} failed`);
            ctx.exit(1);
            break;
          }
          con = codes.hci_subevent_le_connection_complete_get_connection_handle(packet);
          console.log(`GATT browser - CONNECTED to ${peer}, handle ${h4(con)}`);
          state = 'services';
          gc.gatt_client_discover_primary_services(gatt_handler, con);
          break;
        case C.HCI_EVENT_DISCONNECTION_COMPLETE:
          if (codes.hci_event_disconnection_complete_get_connection_handle(packet) !== con) break;
          console.log('GATT browser - DISCONNECTED');
          if (state !== 'done') {
            console.log('the link went down before browsing was done');
            ctx.exit(1);
          } else ctx.exit();
          break;
        default:
          break;
      }
    },
  });
}

/** Without -u: le-counter (examples/le-counter.ts) as the peripheral on the same radio. */
async function virtual_world(run_loop: NodeRunLoop): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const { start_le_counter } = await import('./le-counter.js');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'gatt-browser' });
  const peer = new Stack({ transport: new VirtualTransport(link.create_controller({ name: 'le-counter' })), run_loop });
  start_le_counter(peer, { print: (l) => console.log(`[virtual le-counter] ${l}`) });
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours) };
}

example_main(import.meta.url, { name: 'gatt-browser', options: OPTIONS, virtual_world, btstack_main });
