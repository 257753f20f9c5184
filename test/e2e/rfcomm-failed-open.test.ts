/**
 * RFCOMM_EVENT_CHANNEL_OPENED for a DLC whose L2CAP channel failed, on real stacks and the
 * virtual controller (issue 11, item 9): as BTstack, the event carries the handle L2CAP reported
 * (the live ACL's when only L2CAP was refused: PSM 3 not registered on the peer; 0xFFFF when
 * paging failed) and the frame size held at that point (before L2CAP is open: the L2CAP MTU
 * less the 5 octets of RFCOMM framing, at most 32767, the 15-bit length field of TS 07.10
 * 5.2.1.5). Both profiles, byte for byte; the packet logs decode without a malformed frame.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import { fromHex, hex } from '../../src/core/bytes.js';
import * as C from '../../src/codes/v1.4.js';
import { assertCleanCapture } from '../helpers/capture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-rfcomm-failed-open-'));
const h = (b: Uint8Array): string => hex(b).replace(/ /g, '');
const le16 = (v: number): string => h(Uint8Array.of(v & 0xff, v >> 8));

for (const profile of ['v1.4', 'v1.8'] as const) {
  test(`${profile}: failed L2CAP under RFCOMM: CHANNEL_OPENED with the ACL handle (refused) or 0xFFFF (page timeout)`, () => {
    const rl = new VirtualRunLoop();
    rl.onError = (err) => {
      throw err;
    };
    const link = new RadioLink(rl);
    const stacks = ['A', 'B'].map((name, i) => {
      const controller = link.create_controller({ bd_addr: `C0:FF:EE:00:00:0${i + 1}`, name });
      const stack = new Stack({ transport: new VirtualTransport(controller), run_loop: rl, profile });
      assert.is(stack.open_packet_log(path.join(tmp, `${name}-${profile}.btsnoop`), 'btsnoop'), 0);
      return { stack, addr: controller.bd_addr };
    });
    const [a, b] = stacks as [(typeof stacks)[0], (typeof stacks)[0]];
    for (const n of stacks) assert.is(n.stack.hci.hci_power_control(C.HCI_POWER_ON), 0);
    assert.ok(rl.run_until(() => stacks.every((n) => n.stack.hci.hci_get_state() === C.HCI_STATE_WORKING), 10_000));
    a.stack.rfcomm.rfcomm_init();
    // B is connectable but has no RFCOMM service: PSM 3 is not registered there, L2CAP answers "PSM not supported"
    assert.is(
      b.stack.l2cap.l2cap_register_service(() => {}, 0x1001, 672, 0),
      0,
    ); // connectable, PSM 3 unknown
    rl.run(100);
    const opened: string[] = [];
    let handleThen = -1;
    const handler = (type: number, _channel: number, packet: Uint8Array, size: number): void => {
      if (type !== C.HCI_EVENT_PACKET || packet[0] !== C.RFCOMM_EVENT_CHANNEL_OPENED) return;
      opened.push(h(packet.subarray(0, size)));
      handleThen = a.stack.hci.hci_connection_for_bd_addr_and_type(b.addr, C.BD_ADDR_TYPE_ACL)?.con_handle ?? -1;
    };
    const r = a.stack.rfcomm.rfcomm_create_channel(handler, b.addr, 5);
    assert.is(r.status, 0);
    assert.ok(
      rl.run_until(() => opened.length === 1, 30_000),
      'CHANNEL_OPENED',
    );
    assert.ok(handleThen >= 0 && handleThen < 0x0f00, `the ACL was up (handle ${handleThen})`);
    const mfs = Math.min(32767, a.stack.l2cap.l2cap_max_mtu() - 5);
    // code, length 16, status 0x65 (L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM), bd_addr reversed,
    // con_handle, server channel 5, rfcomm_cid, max_frame_size, incoming 0, reserved 0
    const rev = (addr: Uint8Array): string => h(Uint8Array.from(addr).reverse());
    assert.equal(opened, [`801065${rev(b.addr)}${le16(handleThen)}05${le16(r.rfcomm_cid)}${le16(mfs)}0000`]);
    // nobody answers the page: no ACL, L2CAP's handle is 0xFFFF (HCI_CON_HANDLE_INVALID)
    const nobody = fromHex('c0ffee000009');
    const r2 = a.stack.rfcomm.rfcomm_create_channel(handler, nobody, 6);
    assert.is(r2.status, 0);
    assert.ok(
      rl.run_until(() => opened.length === 2, 60_000),
      'CHANNEL_OPENED after the page timeout',
    );
    assert.equal(opened[1], `801004${rev(nobody)}ffff06${le16(r2.rfcomm_cid)}${le16(mfs)}0000`);
    rl.run(20_000);
    assert.equal(
      a.stack.pools.stats().filter((s) => s.name.startsWith('rfcomm') && s.in_use !== 0),
      [],
      'RFCOMM pools back to full',
    );
    for (const n of stacks) n.stack.close_packet_log();
    for (const name of ['A', 'B']) assertCleanCapture(path.join(tmp, `${name}-${profile}.btsnoop`));
  });
}

test.run();
