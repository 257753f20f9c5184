/**
 * A raw peer floods a bthost stack over the virtual radio: stack a runs HCI only (no L2CAP) and
 * writes L2CAP by hand; stack b is a normal host with an L2CAP service (PSM 0x1001, accepting)
 * and the SDP server. a sends 500 Connection Requests (16 to a C-frame, identifiers recycled
 * after 255), then 500 Echo Requests (20 to a C-frame), then 100 SDP requests back to back on one
 * SDP channel (pipelined, which a client must not do). Counted in b's capture with tshark: each
 * request got exactly one answer (matched by identifier / TransactionID; Connection Responses
 * also by the SCID they name), both captures are clean (tshark + btmon), and afterwards b still
 * opens a channel and moves data both ways; every pool is full at the end.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { little_endian_read_16, little_endian_store_16 } from '../../src/core/bytes.js';
import { ADDR_B, makePair } from './l2cap-helpers.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { spp_create_sdp_record } from '../../src/sdp/spp.js';

const PSM = 0x1001;

test('flood: 500 Connection Requests, 500 Echo Requests, 100 pipelined SDP requests, one answer each; b still usable', () => {
  const p = makePair({ tag: 'flood', l2cap_a: false });
  const { a, b } = p;
  const lb = b.stack.l2cap;
  lb.l2cap_set_auto_disconnect_timeout(0);
  let bData: Uint8Array[] = [];
  lb.l2cap_register_service(
    (type, channel, packet, size) => {
      if (type === 4 && packet[0] === 0x72) lb.l2cap_accept_connection(channel);
      if (type === 6) {
        bData.push(packet.slice(0, size));
        lb.l2cap_send(channel, Uint8Array.from(packet.subarray(0, size)).reverse(), size); // answer reversed
      }
    },
    PSM,
    1000,
    0,
  );
  assert.is(b.stack.sdp.sdp_init(), 0);
  const rec = new Uint8Array(200);
  spp_create_sdp_record(rec, 0x10001, 1, 'SPP Counter');
  assert.is(b.stack.sdp.sdp_register_service(rec), 0);

  // ---- the raw peer on a
  assert.is(a.stack.hci.hci_connect_acl(ADDR_B), 0);
  p.until(() => a.handle() >= 0 && b.handle() >= 0, 'link up');
  const ha = a.handle();
  const got: Array<{ cid: number; pdu: Uint8Array }> = [];
  a.stack.hci.hci_register_acl_packet_handler((_t, _h, packet, size) => {
    got.push({ cid: little_endian_read_16(packet, 6), pdu: packet.slice(8, size) });
  });
  const hci = a.stack.hci;
  const send = (cid: number, payload: number[] | Uint8Array): void => {
    p.until(() => hci.hci_can_send_acl_packet_now(ha), 'a can send');
    assert.ok(hci.hci_reserve_packet_buffer());
    const out = hci.hci_get_outgoing_packet_buffer();
    little_endian_store_16(out, 0, ha | 0x2000);
    little_endian_store_16(out, 2, 4 + payload.length);
    little_endian_store_16(out, 4, payload.length);
    little_endian_store_16(out, 6, cid);
    out.set(payload, 8);
    assert.is(hci.hci_send_acl_packet_buffer(8 + payload.length), 0);
  };
  const u16 = (v: number) => [v & 0xff, v >> 8];
  const sigAnswers = () => got.filter((g) => g.cid === 1).map((g) => g.pdu);

  /** Open a channel a -> b by hand (our CID `scid`); returns b's CID. */
  function rawOpen(psm: number, scid: number, id: number): number {
    const from = got.length;
    send(1, [0x02, id, 4, 0, ...u16(psm), ...u16(scid)]);
    p.until(
      () =>
        got.slice(from).some((g) => g.cid === 1 && g.pdu[0] === 0x03 && g.pdu[1] === id && little_endian_read_16(g.pdu, 8) === 0),
      'connection response success',
    );
    const rsp = got.slice(from).find((g) => g.cid === 1 && g.pdu[0] === 0x03 && g.pdu[1] === id)!.pdu;
    const dcid = little_endian_read_16(rsp, 4);
    p.until(
      () => got.slice(from).some((g) => g.cid === 1 && g.pdu[0] === 0x04 && little_endian_read_16(g.pdu, 4) === scid),
      'b configures',
    );
    const req = got.slice(from).find((g) => g.cid === 1 && g.pdu[0] === 0x04 && little_endian_read_16(g.pdu, 4) === scid)!.pdu;
    send(1, [0x05, req[1]!, 6, 0, ...u16(dcid), 0, 0, 0, 0]); // success
    send(1, [0x04, id + 1, 4, 0, ...u16(dcid), 0, 0]); // our request: no options
    p.until(
      () => got.slice(from).some((g) => g.cid === 1 && g.pdu[0] === 0x05 && g.pdu[1] === id + 1),
      'b accepts our configuration',
    );
    return dcid;
  }

  // ---- the SDP channel first (one of b's channels), one normal query on it
  const sdpCid = rawOpen(1, 0x0f00, 0xf0);
  const sdpReq = (tid: number) => [0x02, tid >> 8, tid & 0xff, 0, 8, 0x35, 3, 0x19, 0x11, 0x01, 0, 10, 0];
  send(sdpCid, sdpReq(0x7000));
  p.until(() => got.some((g) => g.cid === 0x0f00), 'SDP answer');

  // ---- 500 Connection Requests, 16 per C-frame, SCID 0x0040 + i, identifier (i % 255) + 1
  const answered = (codes: number[]) => sigAnswers().filter((x) => codes.includes(x[0]!)).length;
  const base1 = answered([0x01, 0x03]);
  for (let i = 0; i < 500;) {
    const frame: number[] = [];
    for (let k = 0; k < 16 && i < 500; k++, i++) frame.push(0x02, (i % 255) + 1, 4, 0, ...u16(PSM), ...u16(0x40 + i));
    send(1, frame);
  }
  p.until(() => answered([0x01, 0x03]) - base1 >= 500, 'answers to the Connection Requests', 60_000);
  p.rl.run(100);

  // ---- 500 Echo Requests with 2 octets of data each, back to back (one per C-frame: Wireshark
  // takes the rest of a C-frame as the first Echo Request's data, so packed ones could not be counted)
  const base2 = answered([0x01, 0x09]);
  for (let i = 0; i < 500; i++) send(1, [0x08, (i % 255) + 1, 2, 0, i & 0xff, i >> 8]);
  p.until(() => answered([0x01, 0x09]) - base2 >= 500, 'answers to the Echo Requests', 60_000);

  // ---- 100 SDP requests back to back on the SDP channel
  const sdpBefore = got.filter((g) => g.cid === 0x0f00).length;
  for (let t = 0; t < 100; t++) send(sdpCid, sdpReq(0x100 + t));
  p.until(() => got.filter((g) => g.cid === 0x0f00).length - sdpBefore >= 100, 'SDP answers', 60_000);
  p.rl.run(1000);
  assert.is(got.filter((g) => g.cid === 0x0f00).length - sdpBefore, 100, 'exactly 100 SDP answers');

  // ---- b is still usable: once the flood's channels are gone (a never configures them), a new channel moves data
  p.until(() => lb.state.channelPool.in_use === 1, 'flood channels closed by b', 200_000);
  const dcid = rawOpen(PSM, 0x0e00, 0xe0);
  bData = [];
  send(dcid, [1, 2, 3, 4, 5]);
  p.until(() => got.some((g) => g.cid === 0x0e00), 'data back from b');
  assert.equal(
    bData.map((d) => [...d]),
    [[1, 2, 3, 4, 5]],
  );
  assert.equal([...got.find((g) => g.cid === 0x0e00)!.pdu], [5, 4, 3, 2, 1]);
  // a full SDP answer again
  const last = got.length;
  send(sdpCid, sdpReq(0x7001));
  p.until(() => got.slice(last).some((g) => g.cid === 0x0f00), 'SDP answer after the flood');
  assert.is(got.slice(last).find((g) => g.cid === 0x0f00)!.pdu[0], 0x03);

  assert.is(b.stack.gap.gap_disconnect(b.handle()), 0);
  p.until(() => a.handle() === -1 && b.handle() === -1, 'link down');
  lb.l2cap_unregister_service(PSM);
  b.stack.sdp.sdp_deinit();
  const [logA, logB] = p.finish();
  assertCleanCapture(logA);
  assertCleanCapture(logB);

  // ---- count in b's capture: every request exactly one answer
  const rows = tsharkFields(
    logB,
    ['frame.number', 'btl2cap.cmd_code', 'btl2cap.cmd_ident', 'btl2cap.scid', 'btl2cap.result'],
    'btl2cap.cid == 0x0001',
  );
  const firstEcho = rows.find((r) => r[1]!.split(',').includes('0x08'))![0]!;
  const phase = (r: string[]) => (Number(r[0]) < Number(firstEcho) ? 'conn' : 'echo');
  const want = { conn: new Map<string, number>(), echo: new Map<string, number>() };
  const have = { conn: new Map<string, number>(), echo: new Map<string, number>() };
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  let requests = 0;
  let answers = 0;
  let pending = 0;
  for (const r of rows) {
    const codes = r[1]!.split(',').map(Number);
    const ids = r[2]!.split(',').map(Number);
    const sc = (r[3] ?? '').split(',').map(Number);
    // b sends no other result-bearing command in this phase: results line up with its Connection Responses
    const results = (r[4] ?? '').split(',').map(Number);
    let rsp = 0;
    const which = phase(r);
    for (let k = 0; k < codes.length; k++) {
      const code = codes[k]!;
      const byHand = sc.includes(0x0f00) || sc.includes(0x0e00); // the two channels opened by hand (one command per frame)
      // mode 4: requests that came while b raised the link's security first got "pending"
      // (authentication pending), then their final answer; only final answers are counted
      if (code === 0x03 && results[rsp++] === 0x0001) {
        pending++;
        continue;
      }
      if ((which === 'conn' && code === 0x02 && !byHand) || (which === 'echo' && code === 0x08)) {
        requests++;
        bump(want[which], String(ids[k]));
      }
      if ((which === 'conn' && (code === 0x03 || code === 0x01)) || (which === 'echo' && (code === 0x09 || code === 0x01))) {
        if (code === 0x03 && byHand) continue;
        answers++;
        bump(have[which], String(ids[k]));
      }
    }
  }
  assert.is(requests, 1000, 'requests in the capture');
  assert.is(answers, 1000, 'answers in the capture');
  assert.ok(pending > 0 && pending < 50, `a few "pending" while the link paired (${pending})`);
  for (const w of ['conn', 'echo'] as const)
    assert.equal([...have[w]].sort(), [...want[w]].sort(), `${w}: answers per identifier = requests per identifier`);
  // Connection Responses name a SCID that a request with that identifier named
  const scids = new Map<string, Set<number>>();
  for (const r of rows.filter((x) => x[1] === '0x02' || x[1]!.startsWith('0x02,'))) {
    const ids = r[2]!.split(',');
    const sc = r[3]!.split(',').map(Number);
    ids.forEach((id, k) => (scids.get(id) ?? scids.set(id, new Set()).get(id)!).add(sc[k]!));
  }
  const rsps = rows.filter((x) => x[1] === '0x03');
  const results = new Map<number, number>();
  for (const r of rsps) {
    if (Number(r[3]) === 0x0f00 || Number(r[3]) === 0x0e00) continue;
    assert.ok(scids.get(r[2]!)?.has(Number(r[3])), `Connection Response id ${r[2]} SCID ${r[3]}`);
    results.set(Number(r[4]), (results.get(Number(r[4])) ?? 0) + 1);
  }
  assert.ok(
    (results.get(0) ?? 0) >= 1 && (results.get(4) ?? 0) >= 1,
    `successes and "no resources": ${JSON.stringify([...results])}`,
  );

  // SDP: 101 + 1 requests, as many answers, TransactionIDs matched
  const sdp = tsharkFields(logB, ['btsdp.pdu', 'btsdp.tid'], 'btsdp');
  const reqT = sdp
    .filter((r) => Number(r[0]) === 0x02)
    .map((r) => Number(r[1]))
    .sort((x, y) => x - y);
  const rspT = sdp
    .filter((r) => Number(r[0]) === 0x03 || Number(r[0]) === 0x01)
    .map((r) => Number(r[1]))
    .sort((x, y) => x - y);
  assert.is(reqT.length, 102, 'SDP requests in the capture');
  assert.equal(rspT, reqT, 'one SDP answer per request, by TransactionID');
});

test.run();
