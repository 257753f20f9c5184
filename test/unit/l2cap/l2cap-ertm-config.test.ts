/**
 * ERTM mode negotiation against a scripted remote (fake HCI), every combination of ERTM mandatory /
 * optional on our side against a remote with ERTM, a remote that announces ERTM but wants Basic,
 * and a remote without ERTM support; the outcome as BTstack's (l2cap.c: ertm_mandatory decides
 * between fallback to Basic and giving up). PDUs worked out by hand from Core spec v5.4, Vol 3,
 * Part A: 4.4-4.5 Configuration Request / Response, 4.12 extended features (bit 3 ERTM), 5.1 MTU
 * option (01 02), 5.4 Retransmission and Flow Control option (04 09: mode, TxWindow, MaxTransmit,
 * retransmission time-out, monitor time-out, MPS), 3.3.2 I-frame control, 3.3.5 FCS.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HANDLE, REMOTE, linkUp, makeHarness, type Harness } from './l2cap-harness.js';
import type { l2cap_ertm_config_t } from '../../../src/l2cap/l2cap.js';

const PSM = 0x1001;

/** MTU 1000, 4 + 4 buffers, MaxTransmit 3, 2000 / 12000 ms; 1800-octet buffer -> MPS (1800 - 1000) / 8 = 100 (0x64). */
function cfg(mandatory: boolean, o: Partial<l2cap_ertm_config_t> = {}): l2cap_ertm_config_t {
  return {
    ertm_mandatory: mandatory ? 1 : 0,
    max_transmit: 3,
    retransmission_timeout_ms: 2000,
    monitor_timeout_ms: 12000,
    local_mtu: 1000,
    num_tx_buffers: 4,
    num_rx_buffers: 4,
    fcs_option: 1,
    ...o,
  };
}
const BUFFER = 1800;

// our Configuration Request id 3 to DCID 0x0050: MTU 1000 + RFC (mode 3, TxWindow 4, MaxTransmit 3, 0, 0, MPS 100)
const REQ_ERTM = '17 00 01 00 04 03 13 00 50 00 00 00 01 02 e8 03 04 09 03 04 03 00 00 00 00 64 00';
const REQ_BASIC = (id: string): string => `0c 00 01 00 04 ${id} 08 00 50 00 00 00 01 02 e8 03`;
// the remote's Configuration Request id 7 to DCID 0x0040: RFC mode 3, TxWindow 8, MaxTransmit 5, MPS 200
const REMOTE_REQ_ERTM = '04 07 0f00 4000 0000 0409 03 08 05 0000 0000 c800';
const REMOTE_REQ_BASIC = '04 07 0400 4000 0000';
// "unacceptable parameters" (1) to our request id 3, proposing Basic: length 6 + 11, RFC mode 0, rest 0
const RSP_PROPOSE_BASIC = '05 03 1100 4000 0000 0100 0409 00 00 00 0000 0000 0000';

/** Outgoing ERTM channel up to its Connection Request; the remote answers the features query with `features`. */
function outgoing(h: Harness, mandatory: boolean, features: string): number {
  const r = h.l2cap.l2cap_ertm_create_channel(h.handler, REMOTE, PSM, cfg(mandatory), new Uint8Array(BUFFER));
  assert.equal(r, { status: 0, local_cid: 0x40 });
  h.hci.connectionComplete(REMOTE, HANDLE);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['06 00 01 00 0a 01 02 00 02 00'], 'Information Request first');
  h.hci.sig(HANDLE, `0b 01 0800 0200 0000 ${features}`);
  h.loop.run(0);
  return r.local_cid;
}

function connected(h: Harness): string[] {
  assert.equal(h.hci.take(), ['08 00 01 00 02 02 04 00 01 10 40 00'], 'Connection Request');
  h.hci.sig(HANDLE, '03 02 0800 5000 4000 0000 0000');
  h.loop.run(0);
  return h.hci.take();
}

/** CHANNEL_OPENED of the outgoing channel with the remote MTU 672 and `mode`, `fcs` at the end. */
function opened(mode: string, fcs: string): string {
  return `70 18 00 66 55 44 33 22 11 40 00 01 10 40 00 50 00 e8 03 a0 02 00 00 00 ${mode} ${fcs}`;
}

for (const mandatory of [false, true]) {
  test(`ours ERTM ${mandatory ? 'mandatory' : 'optional'}, remote ERTM: RFC both ways, CHANNEL_OPENED mode 3 fcs 1, I-frame with FCS`, () => {
    const h = makeHarness();
    outgoing(h, mandatory, '08000000');
    assert.equal(connected(h), [REQ_ERTM]);
    h.hci.sig(HANDLE, REMOTE_REQ_ERTM);
    h.loop.run(0);
    // Success echoing the RFC option with our time-outs: 2000 (d0 07), 12000 (e0 2e)
    assert.equal(h.hci.take(), ['15 00 01 00 05 07 11 00 50 00 00 00 00 00 04 09 03 08 05 d0 07 e0 2e c8 00']);
    h.hci.sig(HANDLE, '05 03 0600 4000 0000 0000');
    h.loop.run(0);
    assert.equal(
      h.ofCode(0x70).map((e) => e.bytes),
      [opened('03', '01')],
    );
    assert.is(h.l2cap.l2cap_send(0x40, new Uint8Array([0x61, 0x62, 0x63]), 3), 0);
    h.loop.run(0);
    // I-frame TxSeq 0 ReqSeq 0 unsegmented, 'abc', FCS 0xA24E (CRC-16 of 07 00 50 00 00 00 61 62 63, 3.3.5)
    assert.equal(h.hci.take(), ['07 00 50 00 00 00 61 62 63 4e a2']);
  });
}

test('ours ERTM optional, remote without ERTM (features 0): Basic request, CHANNEL_OPENED mode 0', () => {
  const h = makeHarness();
  outgoing(h, false, '00000000');
  assert.equal(connected(h), [REQ_BASIC('03')]);
  h.hci.sig(HANDLE, REMOTE_REQ_BASIC);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 07 06 00 50 00 00 00 00 00']);
  h.hci.sig(HANDLE, '05 03 0600 4000 0000 0000');
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes),
    [opened('00', '00')],
  );
  // the buffer went unused: released when the channel ends
  h.l2cap.l2cap_disconnect(0x40);
  h.loop.run(0);
  h.hci.sig(HANDLE, '07 04 0400 5000 4000');
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x7e).map((e) => e.bytes),
    ['7e 02 40 00'],
  );
});

test('ours ERTM mandatory, remote without ERTM: CHANNEL_OPENED 0x68 (ERTM not supported), no Connection Request', () => {
  for (const profile of ['v1.4', 'v1.8'] as const) {
    const h = makeHarness(profile);
    outgoing(h, true, '00000000');
    assert.equal(h.hci.take(), []);
    assert.equal(
      h.ofCode(0x70).map((e) => e.bytes.slice(0, 8)),
      ['70 18 68'],
    );
    assert.is(h.l2cap.state.channelPool.in_use, 0);
  }
});

test('ours ERTM optional, remote announces ERTM but proposes Basic: fallback, new Basic request, open in Basic mode', () => {
  const h = makeHarness();
  outgoing(h, false, '08000000');
  assert.equal(connected(h), [REQ_ERTM]);
  h.hci.sig(HANDLE, RSP_PROPOSE_BASIC);
  h.loop.run(0);
  assert.equal(h.hci.take(), [REQ_BASIC('04')]);
  h.hci.sig(HANDLE, REMOTE_REQ_BASIC);
  h.hci.sig(HANDLE, '05 04 0600 4000 0000 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 07 06 00 50 00 00 00 00 00']);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes),
    [opened('00', '00')],
  );
});

test('ours ERTM mandatory, remote proposes Basic: Disconnection Request, CHANNEL_OPENED 0x67', () => {
  const h = makeHarness();
  outgoing(h, true, '08000000');
  assert.equal(connected(h), [REQ_ERTM]);
  h.hci.sig(HANDLE, RSP_PROPOSE_BASIC);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['08 00 01 00 06 04 04 00 50 00 40 00']);
  h.hci.sig(HANDLE, '07 04 0400 5000 4000');
  h.loop.run(0);
  assert.equal(
    h.ofCode(0x70).map((e) => e.bytes.slice(0, 8)),
    ['70 18 67'],
  );
});

/** Incoming connection 0x0050 -> PSM 0x1001 accepted with `c` (or as Basic); returns what went out. */
function incoming(h: Harness, c: l2cap_ertm_config_t | null): string[] {
  assert.is(h.l2cap.l2cap_register_service(h.handler, PSM, 1000, 0), 0);
  linkUp(h);
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.loop.run(0);
  assert.is(h.ofCode(0x72).length, 1);
  if (c) assert.is(h.l2cap.l2cap_ertm_accept_connection(0x40, c, new Uint8Array(BUFFER)), 0);
  else assert.is(h.l2cap.l2cap_accept_connection(0x40), 0);
  h.loop.run(0);
  return h.hci.take();
}

test('incoming, ours ERTM optional, remote asks for Basic: accepted, our request follows in Basic, open in Basic', () => {
  const h = makeHarness();
  assert.equal(incoming(h, cfg(false)), [
    '0c 00 01 00 03 01 08 00 40 00 50 00 00 00 00 00',
    // our request id 1 with the RFC option
    '17 00 01 00 04 01 13 00 50 00 00 00 01 02 e8 03 04 09 03 04 03 00 00 00 00 64 00',
  ]);
  h.hci.sig(HANDLE, REMOTE_REQ_BASIC);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 07 06 00 50 00 00 00 00 00'], 'Basic accepted');
  h.hci.sig(HANDLE, '05 01 1100 4000 0000 0100 0409 00 00 00 0000 0000 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), [REQ_BASIC('02')]);
  h.hci.sig(HANDLE, '05 02 0600 4000 0000 0000');
  h.loop.run(0);
  assert.is(h.ofCode(0x70)[0]!.bytes.slice(-5), '00 00');
});

test('incoming, ours ERTM mandatory, remote asks for Basic: "unacceptable parameters" proposing ERTM with our values', () => {
  const h = makeHarness();
  incoming(h, cfg(true));
  h.hci.sig(HANDLE, REMOTE_REQ_BASIC);
  h.loop.run(0);
  // result 1, RFC mode 3, TxWindow 4, MaxTransmit 3, 0, 0, MPS 100
  assert.equal(h.hci.take(), ['15 00 01 00 05 07 11 00 50 00 00 00 01 00 04 09 03 04 03 00 00 00 00 64 00']);
});

test('incoming Basic channel, remote asks for ERTM: "unacceptable parameters" proposing Basic (as BTstack without ERTM)', () => {
  const h = makeHarness();
  incoming(h, null);
  h.hci.sig(HANDLE, REMOTE_REQ_ERTM);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['15 00 01 00 05 07 11 00 50 00 00 00 01 00 04 09 00 00 00 00 00 00 00 00 00']);
});

test('bad configs and buffers: statuses, nothing created', () => {
  const h = makeHarness();
  const create = (c: l2cap_ertm_config_t, size: number) =>
    h.l2cap.l2cap_ertm_create_channel(h.handler, REMOTE, PSM, c, new Uint8Array(size)).status;
  assert.is(create(cfg(false), 1000 + 8 * 47), 0x56, 'BTSTACK_MEMORY_ALLOC_FAILED: slots under 48 octets');
  assert.is(create(cfg(false, { num_tx_buffers: 0 }), BUFFER), 0x11);
  assert.is(create(cfg(false, { num_rx_buffers: 64 }), BUFFER), 0x11);
  assert.is(create(cfg(false, { local_mtu: 47 }), BUFFER), 0x11);
  assert.is(create(cfg(false, { mode: 2 }), BUFFER), 0x11);
  assert.is(h.l2cap.state.channelPool.in_use, 0);
  assert.is(h.l2cap.l2cap_ertm_set_busy(0x40), 0x6e, 'L2CAP_LOCAL_CID_DOES_NOT_EXIST');
});

test.run();
