/**
 * The GATT client in a Stack: `stack.gatt_client` is made once, on att_dispatch's client view, so an
 * ATT server and the GATT client in one Stack share the ATT fixed channel (one L2CAP registration);
 * btstack_init_default binds BTstack's gatt_client_* names to it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { RadioLink } from '../../../src/controller/index.js';
import { Stack } from '../../../src/stack.js';
import { btstack_init_default } from '../../../src/btstack.js';
import { GattClient } from '../../../src/gatt/gatt-client.js';
import { VirtualTransport } from '../../../ports/virtual/transport.js';

test('stack.gatt_client: one instance; the facade binds gatt_client_*; client and server share CID 0x0004', () => {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'gatt-facade' });
  const stack = new Stack({ transport: new VirtualTransport(link.create_controller({})), run_loop: rl });
  const registered: number[] = [];
  const l2cap = stack.l2cap as unknown as { l2cap_register_fixed_channel: (h: unknown, cid: number) => void };
  const original = l2cap.l2cap_register_fixed_channel.bind(stack.l2cap);
  l2cap.l2cap_register_fixed_channel = (h, cid) => {
    registered.push(cid);
    original(h, cid);
  };
  assert.instance(stack.gatt_client, GattClient);
  assert.is(stack.gatt_client, stack.gatt_client);
  const bt = btstack_init_default(stack);
  for (const name of [
    'gatt_client_init',
    'gatt_client_discover_primary_services',
    'gatt_client_read_value_of_characteristic_using_value_handle',
    'gatt_client_write_client_characteristic_configuration',
    'gatt_client_listen_for_characteristic_value_updates',
    // reads and writes live in the base class GattClientReadWriteApi: bound through the prototype chain
    'gatt_client_read_characteristic_descriptor_using_descriptor_handle',
    'gatt_client_read_long_characteristic_descriptor_using_descriptor_handle_with_offset',
    'gatt_client_write_long_characteristic_descriptor_using_descriptor_handle_with_offset',
  ])
    assert.type(bt[name], 'function', name);
  (bt.gatt_client_init as () => void)();
  stack.att_server.att_server_init(Uint8Array.of(1, 0, 0));
  assert.equal(registered, [4], 'one registration of the ATT channel for both');
  // not connected: v1.4 answers BTSTACK_MEMORY_ALLOC_FAILED (0x56) for an unknown handle
  assert.is(
    stack.gatt_client.gatt_client_discover_primary_services(() => {}, 0x0040),
    0x56,
  );
  assert.equal(stack.pools.busy(), []);
});

test.run();
