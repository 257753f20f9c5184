/**
 * sdp-general-query, as BTstack's example/sdp_general_query.c: asks the SDP server of --addr for
 * every record in the PublicBrowseRoot group with all attributes (0x0000-0xFFFF) and prints them.
 *
 *   npx tsx examples/sdp-general-query.ts                                  in-process virtual controller + a virtual device with records
 *   npx tsx examples/sdp-general-query.ts -u /dev/ttyACM0 --addr 00:1A:7D:DA:71:13
 *   options: -b BAUD, -l LOGFILE, -f btsnoop|pklg, --profile v1.4|v1.8
 *
 * bthost/port does the rest, as BTstack's port main.c: flags, transport, packet log,
 * every HCI event printed by name, "up and running at ADDR" once HCI is working, exit. The
 * attribute octets arrive one per SDP_EVENT_QUERY_ATTRIBUTE_VALUE event (BTstack's byte layout,
 * read with the sdp_event_query_attribute_byte_* getters); each attribute is printed once complete.
 * Exit status 0 when the query completed with status 0.
 */
import {
  bd_addr_to_str,
  Stack,
  de,
  sdp_create_record,
  sdp_service_search_pattern_for_uuid16,
  de_data_element_to_string,
  BLUETOOTH_ATTRIBUTE_PUBLIC_BROWSE_ROOT,
  spp_create_sdp_record,
  type NodeRunLoop,
} from 'bthost';
import * as C from 'bthost/v1.4';
import { example_main, status_text, type ExampleContext, type VirtualWorld } from 'bthost/port';

/** AttributeIDList: the range 0x0000-0xFFFF. */
const des_attribute_id_list = Uint8Array.of(0x35, 0x05, 0x0a, 0x00, 0x00, 0xff, 0xff);

/** BTstack's btstack_main: once HCI is working, one general query; exit with its status. */
function btstack_main(stack: Stack, ctx: ExampleContext<object>): void {
  const codes = stack.codes;
  const remote = ctx.remote!;
  const sdp_client_query = stack.sdp_client.sdp_client_query.bind(stack.sdp_client);
  ctx.exit_code = 1; // until the query completed with status 0

  let record_id = -1;
  let attribute_value = new Uint8Array(64);

  const handle_sdp_client_query_result = (_packet_type: number, _channel: number, packet: Uint8Array, size: number): void => {
    switch (packet[0]) {
      case codes.SDP_EVENT_QUERY_ATTRIBUTE_VALUE: {
        // BTstack's byte layout under the VALUE code: read it with the attribute_byte getters
        if (codes.sdp_event_query_attribute_byte_get_record_id(packet) !== record_id) {
          record_id = codes.sdp_event_query_attribute_byte_get_record_id(packet);
          console.log(`\n---\nRecord nr. ${record_id}`);
        }
        const length = codes.sdp_event_query_attribute_byte_get_attribute_length(packet);
        if (attribute_value.length < length) attribute_value = new Uint8Array(length);
        const offset = codes.sdp_event_query_attribute_byte_get_data_offset(packet);
        attribute_value[offset] = codes.sdp_event_query_attribute_byte_get_data(packet);
        if (offset + 1 === length) {
          const id = codes.sdp_event_query_attribute_byte_get_attribute_id(packet);
          console.log(
            `SDP_EVENT_QUERY_ATTRIBUTE_VALUE record_id=${record_id} attribute_id=0x${id.toString(16).padStart(4, '0')} attribute_length=${length}`,
          );
          console.log(
            de_data_element_to_string(attribute_value, 0, length)
              .split('\n')
              .map((l) => `    ${l}`)
              .join('\n'),
          );
        }
        break;
      }
      case codes.SDP_EVENT_QUERY_COMPLETE: {
        ctx.print_event(packet, size);
        const status = codes.sdp_event_query_complete_get_status(packet);
        console.log(`General query done with status ${status}.`);
        ctx.exit(status === 0 ? 0 : 1);
        break;
      }
      default:
        ctx.print_event(packet, size);
    }
  };

  ctx.bt.hci_add_event_handler({
    callback: (packet_type, _channel, packet) => {
      if (packet_type !== C.HCI_EVENT_PACKET || packet[0] !== C.BTSTACK_EVENT_STATE || ctx.exiting) return;
      if (codes.btstack_event_state_get_state(packet) !== C.HCI_STATE_WORKING) return;
      const pattern = new Uint8Array(5);
      sdp_service_search_pattern_for_uuid16(pattern, 0, BLUETOOTH_ATTRIBUTE_PUBLIC_BROWSE_ROOT);
      console.log(`SDP general query of ${bd_addr_to_str(remote)}`);
      const st = sdp_client_query(handle_sdp_client_query_result, remote, pattern, des_attribute_id_list);
      if (st) {
        console.log(`sdp_client_query failed: ${status_text(st)}`);
        ctx.exit(1);
      }
    },
  });
}

/** Without -u: a virtual controller for us and a virtual device with an SPP record and a PnP record. */
async function virtual_world(run_loop: NodeRunLoop): Promise<VirtualWorld> {
  const { RadioLink, VirtualTransport } = await import('bthost/virtual');
  const link = new RadioLink(run_loop);
  const ours = link.create_controller({ name: 'sdp-general-query' });
  const theirs = link.create_controller({ name: 'virtual device' });
  const peer = new Stack({ transport: new VirtualTransport(theirs), run_loop });
  peer.sdp.sdp_init();
  const spp = new Uint8Array(150);
  spp_create_sdp_record(spp, 0x10001, 1, 'SPP Counter');
  peer.sdp.sdp_register_service(spp);
  const pnp = new Uint8Array(100);
  const n = sdp_create_record(pnp, 0, [
    [0x0000, de.uint32(0x10002)],
    [0x0001, de.des(de.uuid16(0x1200))],
    [0x0005, de.des(de.uuid16(0x1002))],
    [0x0200, de.uint16(0x0103)],
    [0x0201, de.uint16(0x048f)],
    [0x0202, de.uint16(0x0001)],
    [0x0203, de.uint16(0x0104)],
    [0x0204, de.bool(true)],
    [0x0205, de.uint16(0x0001)],
  ]);
  peer.sdp.sdp_register_service(pnp.subarray(0, n));
  peer.hci.hci_power_control(C.HCI_POWER_ON);
  return { transport: new VirtualTransport(ours), peer: theirs.bd_addr };
}

example_main(import.meta.url, { name: 'sdp-general-query', requires_addr: true, virtual_world, btstack_main });
