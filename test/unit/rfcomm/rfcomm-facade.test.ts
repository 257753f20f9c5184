/**
 * The BTstack facade carries the RFCOMM functions: bound to the stack they were built for (two
 * stacks stay apart), with BTstack's names, including the manual's rfcomm_request_can_send_now;
 * internal methods stay out.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { RadioLink } from '../../../src/controller/index.js';
import { VirtualTransport } from '../../../ports/virtual/transport.js';
import { Stack } from '../../../src/stack.js';
import { btstack_init_default } from '../../../src/btstack.js';

const NAMES = [
  'rfcomm_init',
  'rfcomm_set_required_security_level',
  'rfcomm_register_service',
  'rfcomm_register_service_with_initial_credits',
  'rfcomm_unregister_service',
  'rfcomm_create_channel',
  'rfcomm_create_channel_with_initial_credits',
  'rfcomm_accept_connection',
  'rfcomm_decline_connection',
  'rfcomm_grant_credits',
  'rfcomm_can_send_packet_now',
  'rfcomm_request_can_send_now_event',
  'rfcomm_request_can_send_now',
  'rfcomm_send',
  'rfcomm_reserve_packet_buffer',
  'rfcomm_get_outgoing_buffer',
  'rfcomm_send_prepared',
  'rfcomm_release_packet_buffer',
  'rfcomm_get_max_frame_size',
  'rfcomm_disconnect',
  'rfcomm_send_modem_status',
  'rfcomm_send_local_line_status',
  'rfcomm_send_port_configuration',
  'rfcomm_query_port_configuration',
];

test('btstack_init_default binds the rfcomm_* functions to their stack', () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl);
  const s1 = new Stack({ transport: new VirtualTransport(link.create_controller()), run_loop: rl });
  const s2 = new Stack({ transport: new VirtualTransport(link.create_controller()), run_loop: rl, profile: 'v1.8' });
  const bt1 = btstack_init_default(s1);
  const bt2 = btstack_init_default(s2);
  for (const n of NAMES) assert.type(bt1[n], 'function', n);
  const handler = () => {};
  bt1.rfcomm_init();
  assert.is(bt1.rfcomm_register_service(handler, 1, 100), 0);
  assert.is(bt1.rfcomm_register_service(handler, 1, 100), 0x71, 'RFCOMM_CHANNEL_ALREADY_REGISTERED');
  assert.is(bt2.rfcomm_register_service(handler, 1, 100), 0, 'the other stack has its own services');
  assert.is(bt1.rfcomm_request_can_send_now(5), 0x02, 'unknown cid');
  assert.is(bt1.rfcomm_get_max_frame_size(5), 0);
  bt1.rfcomm_unregister_service(1);
  assert.is(s1.pools.stats().find((p) => p.name === 'rfcomm_services')!.in_use, 0);
  assert.is(s2.pools.stats().find((p) => p.name === 'rfcomm_services')!.in_use, 1);
  // internal methods are not part of the facade
  for (const n of ['attachL2cap', 'list', 'requestSend', 'onCanSendNow', 'sendOne', 'takeChannel'])
    assert.is(bt1[n], undefined, n);
});

test.run();
