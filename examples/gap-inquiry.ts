/**
 * gap-inquiry, as BTstack's example/gap_inquiry.c: power on, run an inquiry, print each device
 * found with its class, clock offset, RSSI and name; devices whose name was not in their
 * Extended Inquiry Response are asked with a Remote Name Request.
 *
 *   npx tsx examples/gap-inquiry.ts                      in-process virtual controller + two virtual devices
 *   npx tsx examples/gap-inquiry.ts -u /dev/ttyACM0      an H4 controller on a serial port
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --loop (inquire again and again), --profile v1.8
 *
 * bthost/port does the rest, as BTstack's port main.c: flags, transport, packet log,
 * every event printed by name, "up and running at ADDR" once HCI is working, exit.
 */
import { bd_addr_to_str, Stack, type NodeRunLoop, type BdAddr } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';

/** Inquiry length in 1.28 s units (BTstack's INQUIRY_INTERVAL). */
const INQUIRY_INTERVAL = 5;

interface Device {
  address: BdAddr;
  page_scan_repetition_mode: number;
  clock_offset: number;
  class_of_device: number;
  rssi: number | null;
  name: string | null;
  state: 'found' | 'name-requested' | 'done';
}

const OPTIONS = {
  loop: { help: 'inquire again after each round (as BTstack)' },
};

/** BTstack's btstack_main: the event handler that runs the inquiry and asks for missing names. */
function btstack_main(stack: Stack, ctx: ExampleContext<ExampleArgs<typeof OPTIONS>>): void {
  const codes = stack.codes;
  const { hci_add_event_handler, gap_inquiry_start, gap_remote_name_request } = ctx.bt;
  const devices: Device[] = [];

  const find = (addr: BdAddr) => devices.find((d) => bd_addr_to_str(d.address) === bd_addr_to_str(addr));

  /** Ask for the next missing name; returns false when every device has one. */
  const next_remote_name = (): boolean => {
    const d = devices.find((x) => x.state === 'found' && x.name === null);
    if (!d) return false;
    d.state = 'name-requested';
    console.log(`Get remote name of ${bd_addr_to_str(d.address)}...`);
    gap_remote_name_request(d.address, d.page_scan_repetition_mode, d.clock_offset | 0x8000);
    return true;
  };

  const round_done = () => {
    console.log(`Inquiry round done: ${devices.length} device(s)`);
    for (const d of devices) console.log(`  ${bd_addr_to_str(d.address)}  ${d.name ?? '(no name)'}`);
    if (ctx.args.loop) {
      for (const d of devices) d.state = d.name === null ? 'found' : 'done';
      gap_inquiry_start(INQUIRY_INTERVAL);
      return;
    }
    ctx.exit(0);
  };

  hci_add_event_handler({
    callback: (packet_type, _channel, packet) => {
      if (packet_type !== C.HCI_EVENT_PACKET) return;
      switch (packet[0]) {
        case C.BTSTACK_EVENT_STATE:
          if (codes.btstack_event_state_get_state(packet) === C.HCI_STATE_WORKING) {
            console.log('Starting inquiry scan..');
            gap_inquiry_start(INQUIRY_INTERVAL);
          }
          break;
        case codes.GAP_EVENT_INQUIRY_RESULT: {
          const addr = codes.gap_event_inquiry_result_get_bd_addr(packet);
          let d = find(addr);
          if (!d) {
            d = {
              address: addr,
              page_scan_repetition_mode: codes.gap_event_inquiry_result_get_page_scan_repetition_mode(packet),
              clock_offset: codes.gap_event_inquiry_result_get_clock_offset(packet),
              class_of_device: codes.gap_event_inquiry_result_get_class_of_device(packet),
              rssi: null,
              name: null,
              state: 'found',
            };
            devices.push(d);
          }
          if (codes.gap_event_inquiry_result_get_rssi_available(packet)) {
            d.rssi = (codes.gap_event_inquiry_result_get_rssi(packet) << 24) >> 24;
          }
          if (codes.gap_event_inquiry_result_get_name_available(packet)) {
            d.name = new TextDecoder().decode(codes.gap_event_inquiry_result_get_name(packet));
            d.state = 'done';
          }
          console.log(
            `Device found: ${bd_addr_to_str(addr)} with COD: 0x${d.class_of_device.toString(16).padStart(6, '0')}, ` +
              `pageScan ${d.page_scan_repetition_mode}, clock offset 0x${d.clock_offset.toString(16).padStart(4, '0')}` +
              (d.rssi !== null ? `, rssi ${d.rssi} dBm` : '') +
              (d.name !== null ? `, name '${d.name}'` : ''),
          );
          break;
        }
        case codes.GAP_EVENT_INQUIRY_COMPLETE:
          if (!next_remote_name()) round_done();
          break;
        case C.HCI_EVENT_REMOTE_NAME_REQUEST_COMPLETE: {
          const addr = codes.hci_event_remote_name_request_complete_get_bd_addr(packet);
          const d = find(addr);
          if (!d) break;
          d.state = 'done';
          if (codes.hci_event_remote_name_request_complete_get_status(packet) === 0) {
            d.name = codes.hci_event_remote_name_request_complete_get_remote_name(packet);
            console.log(`Name: '${d.name}'`);
          } else {
            console.log(`Failed to get name: page timeout`);
          }
          if (!next_remote_name()) round_done();
          break;
        }
        default:
          break;
      }
    },
  });
}

/**
 * Without -u: a virtual controller for us, and two virtual devices on the same radio to find:
 * one announces its name in its Extended Inquiry Response, the other does not (its name is
 * fetched with a Remote Name Request). Each device runs its own Stack on the shared run loop.
 */
async function virtual_world(run_loop: NodeRunLoop): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'gap-inquiry' });
  const peers: Array<[string, boolean]> = [
    ['Headset 00:00:00:00:00:00', true],
    ['Keyboard', false],
  ];
  for (const [name, eir] of peers) {
    const peer = new Stack({ transport: new VirtualTransport(link.create_controller()), run_loop });
    peer.gap.gap_set_local_name(name);
    // an EIR without a name (only TX Power Level 0 dBm): the name needs a Remote Name Request
    if (!eir) peer.gap.gap_set_extended_inquiry_response(Uint8Array.of(0x02, 0x0a, 0x00));
    peer.gap.gap_set_class_of_device(eir ? 0x240404 : 0x002540);
    peer.gap.gap_discoverable_control(1);
    peer.gap.gap_connectable_control(1);
    peer.hci.hci_power_control(C.HCI_POWER_ON);
  }
  return { transport: new VirtualTransport(ours) };
}

example_main(import.meta.url, { name: 'gap-inquiry', options: OPTIONS, virtual_world, btstack_main });
