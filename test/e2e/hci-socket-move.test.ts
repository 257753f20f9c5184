/**
 * The stack over the HCI user channel transport (ports/hci-socket), on the fake
 * @stoprocent/bluetooth-hci-socket driven by a virtual controller (test/helpers/fake-hci-socket.ts),
 * in virtual time: boots, inquires, opens L2CAP and RFCOMM channels and moves 1 MiB over each. The
 * controller's ACL packets are 1021 bytes, more than the binding's 1024-byte read buffer holds: host
 * flow control (Host Buffer Size = the transport's 1019) keeps them whole.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HciSocketTransport, HCI_SOCKET_MAX_ACL } from '../../ports/hci-socket/transport.js';
import { FakeHciKernel } from '../helpers/fake-hci-socket.js';
import { host_stack, inquire_and_move, world } from '../helpers/transport-move.js';

test('hci0 on the fake user channel: boot, inquiry, L2CAP and RFCOMM, 1 MiB each way', async () => {
  const w = world({ acl_size: 1021 });
  const kernel = new FakeHciKernel(w.rl);
  const dev = kernel.add(0, w.controller);
  const transport = new HciSocketTransport(0, { socket_class: kernel.socket_class(), presence_check_ms: 0 });
  const stack = host_stack(w, transport);
  await inquire_and_move(w, stack, 1 << 20);
  assert.is(transport.framing_errors, 0, 'no packet cut short');
  assert.is(HCI_SOCKET_MAX_ACL, 1019);
  assert.ok(kernel.sockets[0]!.writes > 1000, 'the host wrote through the socket');
  // power off: the socket is stopped and the device free for the next user
  stack.hci.hci_power_control(0);
  w.until(() => dev.user === null, 'socket released');
  assert.ok(kernel.sockets[0]!.stopped);
});

test.run();
