/**
 * Many links and many channels: one stack opens two channels to each of three peers at once
 * (three ACL links created on demand, in parallel), exchanges data on all six, closes them;
 * each idle link then goes after the auto-disconnect timeout. Captures clean, pools full.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';
import { sscanf_bd_addr } from '../../src/core/bytes.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { pattern, tmp } from './l2cap-helpers.js';

test('one stack, three peers, two channels each, all at once', () => {
  const rl = new VirtualRunLoop();
  rl.onError = (e) => {
    throw e;
  };
  const link = new RadioLink(rl, { seed: 'many' });
  const mk = (addr: string, name: string) => {
    const c = link.create_controller({ bd_addr: addr, acl_size: 120, acl_buffers: 3, name });
    return new Stack({ transport: new VirtualTransport(c), run_loop: rl });
  };
  const hub = mk('AA:00:00:00:00:01', 'hub');
  const peers = ['BB:00:00:00:00:01', 'BB:00:00:00:00:02', 'BB:00:00:00:00:03'].map((a, i) => ({
    addr: sscanf_bd_addr(a)!,
    stack: mk(a, `peer${i}`),
  }));
  const log = path.join(tmp, 'many-hub.btsnoop');
  assert.is(hub.open_packet_log(log, 'btsnoop'), 0);
  for (const s of [hub, ...peers.map((p) => p.stack)]) s.hci.hci_power_control(1);
  assert.ok(rl.run_until(() => [hub, ...peers.map((p) => p.stack)].every((s) => s.hci.hci_get_state() === 2), 5000));

  // every peer: an echo service on PSM 0x1001
  for (const p of peers) {
    const l2 = p.stack.l2cap;
    const queue = new Map<number, Uint8Array[]>();
    l2.l2cap_register_service(
      (type, cid, pk, n) => {
        if (type === 6) {
          (queue.get(cid) ?? queue.set(cid, []).get(cid)!).push(pk.slice(0, n));
          l2.l2cap_request_can_send_now_event(cid);
        } else if (pk[0] === 0x72) l2.l2cap_accept_connection(cid);
        else if (pk[0] === 0x78) {
          const m = queue.get(cid)?.shift();
          if (m) l2.l2cap_send(cid, m);
          if (queue.get(cid)?.length) l2.l2cap_request_can_send_now_event(cid);
        }
      },
      0x1001,
      2000,
      0,
    );
  }

  // the hub: two channels per peer, created in one go
  const got = new Map<number, Uint8Array[]>();
  const opened: number[] = [];
  const closed: number[] = [];
  const sent = new Map<number, Uint8Array>();
  const hl = hub.l2cap;
  const handler = (type: number, cid: number, pk: Uint8Array, n: number) => {
    if (type === 6) (got.get(cid) ?? got.set(cid, []).get(cid)!).push(pk.slice(0, n));
    else if (pk[0] === 0x70 && pk[2] === 0) {
      opened.push(cid);
      hl.l2cap_request_can_send_now_event(cid);
    } else if (pk[0] === 0x78) {
      const m = pattern(1000 + cid, cid);
      sent.set(cid, m);
      assert.is(hl.l2cap_send(cid, m), 0);
    } else if (pk[0] === 0x71) closed.push(cid);
  };
  const cids: number[] = [];
  for (const p of peers) for (let k = 0; k < 2; k++) cids.push(hl.l2cap_create_channel(handler, p.addr, 0x1001, 2000).local_cid);
  assert.equal(cids, [0x40, 0x41, 0x42, 0x43, 0x44, 0x45]);
  const conns = hl.l2cap_get_connections();
  assert.equal(
    conns.map((c) => [c.state, c.channels]),
    [
      ['W4_LP_CON_CFM', 2],
      ['W4_LP_CON_CFM', 2],
      ['W4_LP_CON_CFM', 2],
    ],
  );
  assert.ok(
    rl.run_until(() => cids.every((c) => got.get(c)?.length === 1), 60_000),
    'every echo back',
  );
  assert.equal(opened.sort(), cids);
  for (const c of cids) assert.equal(got.get(c)![0], sent.get(c), `echo on 0x${c.toString(16)}`);
  const now = hl.l2cap_get_connections();
  assert.is(now.length, 3);
  assert.ok(now.every((c) => c.state === 'OPEN' && c.channels === 2));
  assert.is(new Set(now.map((c) => c.con_handle)).size, 3, 'three links');
  assert.equal(
    hl.l2cap_get_channels().map((c) => c.state),
    ['OPEN', 'OPEN', 'OPEN', 'OPEN', 'OPEN', 'OPEN'],
  );

  for (const c of cids) hl.l2cap_disconnect(c);
  assert.ok(
    rl.run_until(() => closed.length === 6, 10_000),
    'all closed',
  );
  assert.ok(
    rl.run_until(() => hl.l2cap_get_connections().length === 0, 15_000),
    'idle links gone',
  );
  for (const s of [hub, ...peers.map((p) => p.stack)]) {
    s.l2cap.l2cap_unregister_service(0x1001);
    s.hci.hci_power_control(0);
  }
  assert.ok(rl.run_until(() => [hub, ...peers.map((p) => p.stack)].every((s) => s.hci.hci_get_state() === 0), 5000));
  for (const s of [hub, ...peers.map((p) => p.stack)]) assert.ok(s.pools.all_free(), JSON.stringify(s.pools.busy()));
  hub.close_packet_log();
  assertCleanCapture(log);
  // tshark: six connection requests to PSM 0x1001 with the hub's CIDs, over three handles
  const reqs = tsharkFields(log, ['bthci_acl.chandle', 'btl2cap.psm', 'btl2cap.scid'], 'btl2cap.cmd_code == 0x02');
  assert.equal(
    reqs.map((r) => parseInt(r[1]!, 16)),
    [0x1001, 0x1001, 0x1001, 0x1001, 0x1001, 0x1001],
  );
  assert.equal(reqs.map((r) => parseInt(r[2]!, 16)).sort(), cids);
  assert.is(new Set(reqs.map((r) => r[0])).size, 3);
});

test.run();
