/**
 * The BTstack facade carries the L2CAP functions: bound to the stack they were built for (two
 * stacks stay apart), with BTstack's names, including the manual's l2cap_request_can_send_now.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { RadioLink } from '../../../src/controller/index.js';
import { VirtualTransport } from '../../../ports/virtual/transport.js';
import { Stack } from '../../../src/stack.js';
import { btstack_init_default } from '../../../src/btstack.js';

const NAMES = [
  'l2cap_init',
  'l2cap_register_service',
  'l2cap_unregister_service',
  'l2cap_create_channel',
  'l2cap_accept_connection',
  'l2cap_decline_connection',
  'l2cap_request_can_send_now_event',
  'l2cap_request_can_send_now',
  'l2cap_can_send_packet_now',
  'l2cap_send',
  'l2cap_reserve_packet_buffer',
  'l2cap_get_outgoing_buffer',
  'l2cap_send_prepared',
  'l2cap_release_packet_buffer',
  'l2cap_disconnect',
  'l2cap_get_remote_mtu_for_local_cid',
  'l2cap_max_mtu',
  'l2cap_send_echo_request',
  'l2cap_add_event_handler',
  'l2cap_register_packet_handler',
  'l2cap_send_information_request',
  'l2cap_connectionless_enable',
  'l2cap_send_connectionless',
  'l2cap_send_connectionless_psm',
  'l2cap_register_fixed_channel',
  'l2cap_request_can_send_fix_channel_now_event',
  'l2cap_le_create_channel',
  'l2cap_le_send_data',
  'l2cap_cbm_create_channel',
  'l2cap_cbm_accept_connection',
  'l2cap_ecbm_register_service',
  'l2cap_ecbm_create_channels',
  'l2cap_ecbm_accept_channels',
  'l2cap_ecbm_decline_channels',
  'l2cap_ecbm_reconfigure_channels',
  'l2cap_request_connection_parameter_update',
  'l2cap_set_auto_disconnect_timeout',
  'l2cap_get_channels',
  'l2cap_get_connections',
];

test('btstack_init_default binds the l2cap_* functions to their stack', () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl);
  const s1 = new Stack({ transport: new VirtualTransport(link.create_controller()), run_loop: rl });
  const s2 = new Stack({ transport: new VirtualTransport(link.create_controller()), run_loop: rl, profile: 'v1.8' });
  const bt1 = btstack_init_default(s1);
  const bt2 = btstack_init_default(s2);
  for (const n of NAMES) assert.type(bt1[n], 'function', n);
  const handler = () => {};
  assert.is(bt1.l2cap_register_service(handler, 0x1001, 100, 0), 0);
  assert.is(bt1.l2cap_register_service(handler, 0x1001, 100, 0), 0x6b);
  assert.is(bt2.l2cap_register_service(handler, 0x1001, 100, 0), 0, 'the other stack has its own services');
  assert.is(bt1.l2cap_max_mtu(), 65535);
  assert.is(bt1.l2cap_request_can_send_now(0x40), 0x6e);
  assert.is(s1.l2cap.state.servicePool.in_use, 1);
  assert.is(bt1.l2cap_unregister_service(0x1001), 0);
  assert.is(s1.l2cap.state.servicePool.in_use, 0);
  assert.is(s2.l2cap.state.servicePool.in_use, 1);
  // ECBM: v1.8 only (BTstack 1.4.1 has none)
  assert.is(bt1.l2cap_ecbm_register_service(handler, 0x80, 64, 0), 0x11);
  assert.is(bt2.l2cap_ecbm_register_service(handler, 0x80, 64, 0), 0);
  assert.is(bt2.l2cap_ecbm_unregister_service(0x80), 0);
  // internal methods are not part of the facade
  for (const n of ['run', 'finalize', 'scheduleRun', 'channelForCid']) assert.is(bt1[n], undefined, n);
});

test.run();
