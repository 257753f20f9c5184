/**
 * att-server: the LE L2CAP socket on the fixed ATT channel (CID 0x0004) of our seed document,
 * the bthost way. It advertises connectable, accepts every central that connects, and prints
 * each one's address type and address from ATT_EVENT_CONNECTED; the ATT server (BTstack's
 * att_server on examples/att-server.gatt: the GAP service with the device name) answers the
 * central's requests; every ATT event is printed by name.
 *
 *   npx tsx examples/att-server.ts                    in-process virtual controller + a virtual central
 *   npx tsx examples/att-server.ts -u /dev/ttyACM0    an H4 controller on a serial port
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --once (exit after the first central left),
 *            --profile v1.4|v1.8
 */
import { bd_addr_to_str, format_event, type NodeRunLoop, type Stack } from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, type ExampleArgs, type ExampleContext, type VirtualWorld } from 'bthost/port';
import { profile_data } from './att-server-gatt.js';

/** Flags (LE General Discoverable, BR/EDR not supported) and the complete local name. */
const ADV_DATA = Uint8Array.of(0x02, 0x01, 0x06, 0x12, 0x09, ...new TextEncoder().encode('bthost ATT server'));

const OPTIONS = {
  once: { help: 'exit after the first central disconnected' },
};
type Args = ExampleArgs<typeof OPTIONS>;

function btstack_main(stack: Stack, ctx: ExampleContext<Args>): void {
  const codes = stack.codes;
  const att = stack.att_server;
  let accepted = 0;
  att.att_server_init(profile_data, null, null);
  att.att_server_register_packet_handler((packet_type, _channel, packet, size) => {
    if (packet_type !== C.HCI_EVENT_PACKET) return;
    if (packet[0] === C.HCI_EVENT_LE_META || packet[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE) return; // printed by the port
    console.log(format_event(codes, packet, size));
    switch (packet[0]) {
      case codes.ATT_EVENT_CONNECTED: {
        const type = codes.att_event_connected_get_address_type(packet);
        const addr = bd_addr_to_str(codes.att_event_connected_get_address(packet));
        const handle = codes.att_event_connected_get_handle(packet);
        accepted++;
        console.log(
          `accepted connection ${accepted} from ${type === 0 ? 'public' : type === 1 ? 'random' : `type ${type}`} address ${addr} (address type ${type}, handle 0x${handle.toString(16).padStart(4, '0')})`,
        );
        break;
      }
      case codes.ATT_EVENT_DISCONNECTED:
        console.log(`connection 0x${codes.att_event_disconnected_get_handle(packet).toString(16).padStart(4, '0')} closed`);
        if (ctx.args.once || ctx.virtual) ctx.exit(0);
        break;
      default:
        break;
    }
  });
  const gap = stack.gap;
  gap.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0);
  gap.gap_advertisements_set_data(ADV_DATA.length, ADV_DATA);
  gap.gap_advertisements_enable(1);
}

/** Without -u: a virtual central (examples/le-counter-central.ts) connects, reads the device name, leaves. */
async function virtual_world(run_loop: NodeRunLoop): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const { Stack } = await import('bthost');
  const { start_le_counter_central } = await import('./le-counter-central.js');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'att-server' });
  const central = new Stack({ transport: new VirtualTransport(link.create_controller({ name: 'central' })), run_loop });
  start_le_counter_central(central, ours.bd_addr, {
    print: (l) => console.log(`[virtual central] ${l}`),
    notifications: 0,
    on_done: () => undefined,
  });
  central.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours) };
}

example_main(import.meta.url, { name: 'att-server', options: OPTIONS, virtual_world, btstack_main });
