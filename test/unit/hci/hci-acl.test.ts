import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cc, connect_classic, connect_le, cs, u16, working } from './hci-script.js';
import { fromHex, hex, little_endian_read_16, little_endian_store_16 } from '../../../src/core/bytes.js';
import { Logger } from '../../../src/core/log.js';

/** Fill the outgoing buffer with an ACL packet (PB first flushable) holding an L2CAP PDU of n payload bytes. */
function prepare(h: ReturnType<typeof working>, handle: number, n: number, pb = 0x2): number {
  const hci = h.stack.hci;
  assert.ok(hci.hci_reserve_packet_buffer());
  const b = hci.hci_get_outgoing_packet_buffer();
  little_endian_store_16(b, 0, handle | (pb << 12));
  little_endian_store_16(b, 2, n + 4);
  little_endian_store_16(b, 4, n);
  little_endian_store_16(b, 6, 0x0040);
  for (let i = 0; i < n; i++) b[8 + i] = i & 0xff;
  return 8 + n;
}

function nocp(handle: number, count: number): string {
  return `13 05 01 ${u16(handle)} ${u16(count)}`;
}

test('fragmentation to the controller ACL size with credit accounting; PACKET_SENT at the end', () => {
  const h = working(); // BR/EDR buffers: 4 x 310
  const handle = connect_classic(h, 0x0042);
  h.clear();
  const hci = h.stack.hci;
  assert.ok(hci.hci_can_send_acl_packet_now(handle));
  // 2000-byte payload: 2004 ACL data bytes = 6 x 310 + 144
  const size = prepare(h, handle, 2000);
  assert.not.ok(hci.hci_can_send_acl_packet_now(handle), 'reserved buffer blocks can-send');
  assert.is(hci.hci_send_acl_packet_buffer(size), 0);
  let frags = h.t.take_acl();
  assert.is(frags.length, 4, 'four credits: four fragments');
  const f0 = fromHex(frags[0]!);
  assert.is(hex(f0.subarray(0, 8)), '42 20 36 01 d0 07 40 00', 'first: PB=10, 310 bytes, L2CAP header len 2000 cid 0x40');
  assert.is(f0.length, 4 + 310);
  const f1 = fromHex(frags[1]!);
  assert.is(hex(f1.subarray(0, 4)), '42 10 36 01', 'continuation: PB=01');
  assert.is(f1[4], (310 - 4) & 0xff, 'payload continues where the first fragment stopped');
  assert.not.ok(hci.hci_can_send_acl_packet_now(handle), 'fragments pending');
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 0);
  assert.not.ok(h.events.some((e) => e[0] === 0x6e));
  h.t.event(nocp(handle, 2));
  frags = h.t.take_acl();
  assert.is(frags.length, 2);
  h.t.event(nocp(handle, 3));
  frags = h.t.take_acl();
  assert.equal(frags.length, 1);
  const last = fromHex(frags[0]!);
  assert.is(hex(last.subarray(0, 4)), '42 10 90 00', 'last: 144 bytes');
  assert.is(last[last.length - 1], (2000 - 1) & 0xff);
  assert.not.ok(
    h.events.some((e) => hex(e) === '6e 00'),
    'not from inside the call that sent the last fragment',
  );
  h.rl.run(0);
  assert.ok(
    h.events.some((e) => hex(e) === '6e 00'),
    'HCI_EVENT_TRANSPORT_PACKET_SENT from the run loop',
  );
  assert.not.ok(hci.hci_is_packet_buffer_reserved(), 'buffer released');
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 2, '4 - 2 outstanding');
  assert.ok(hci.hci_can_send_acl_packet_now(handle));
  h.t.event(nocp(handle, 2));
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 4);
});

test('LE link uses the LE buffers (3 x 27) separately from BR/EDR', () => {
  const h = working();
  const classic = connect_classic(h, 0x0001);
  const le = connect_le(h, 0x0002);
  const hci = h.stack.hci;
  const size = prepare(h, le, 60, 0x0); // 64 data bytes = 27 + 27 + 10
  assert.is(hci.hci_send_acl_packet_buffer(size), 0);
  const frags = h.t.take_acl();
  assert.equal(
    frags.map((f) => f.slice(0, 11)),
    ['02 00 1b 00', '02 10 1b 00', '02 10 0a 00'],
  );
  assert.is(hci.hci_number_free_acl_slots_for_handle(le), 0);
  assert.is(hci.hci_number_free_acl_slots_for_handle(classic), 4, 'BR/EDR credits untouched');
  assert.ok(hci.hci_can_send_acl_classic_packet_now());
  assert.not.ok(hci.hci_can_send_acl_le_packet_now());
  // the transport hears of the pool holding packets in flight (LE: 3 x 27) once, with the first
  // fragment; classic packets joining them leave the smaller pool the answer
  assert.equal(h.t.acl_buffer_reports, [3 * 27]);
  assert.is(hci.hci_send_acl_packet_buffer(prepare(h, classic, 20, 0x0)), 0);
  assert.equal(h.t.acl_buffer_reports, [3 * 27]);
  // the LE packets complete: BR/EDR's pool (4 x 310); then the classic one: nothing in flight (0)
  h.t.event(nocp(le, 3));
  assert.equal(h.t.acl_buffer_reports, [3 * 27, 4 * 310]);
  h.t.event(nocp(classic, 1));
  assert.equal(h.t.acl_buffer_reports, [3 * 27, 4 * 310, 0]);
});

test('sending without credits: BTSTACK_ACL_BUFFERS_FULL, buffer released; unknown handle refused', () => {
  const h = working();
  const handle = connect_classic(h, 0x0010);
  const hci = h.stack.hci;
  for (let i = 0; i < 4; i++) {
    const size = prepare(h, handle, 10);
    assert.is(hci.hci_send_acl_packet_buffer(size), 0);
  }
  assert.is(h.t.take_acl().length, 4);
  assert.not.ok(hci.hci_can_send_acl_packet_now(handle));
  const size = prepare(h, handle, 10);
  assert.is(hci.hci_send_acl_packet_buffer(size), 0x57);
  assert.not.ok(hci.hci_is_packet_buffer_reserved());
  assert.equal(h.t.take_acl(), []);
  const size2 = prepare(h, 0x0333, 10);
  assert.is(hci.hci_send_acl_packet_buffer(size2), 0x02);
  assert.not.ok(hci.hci_is_packet_buffer_reserved());
  assert.not.ok(hci.hci_can_send_acl_packet_now(0x0333));
});

test('Number Of Completed Packets: unknown handle ignored; more than outstanding is a lie: nothing taken, all back after a quiet second', () => {
  const log = new Logger();
  const lines: string[] = [];
  log.add_sink((_l, m) => lines.push(m));
  const h = working({ log });
  const handle = connect_classic(h, 0x0010);
  const hci = h.stack.hci;
  for (let i = 0; i < 3; i++) hci.hci_send_acl_packet_buffer(prepare(h, handle, 10));
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 1);
  h.t.event(`13 09 02 99 00 01 00 ${u16(handle)} 01 00`); // unknown 0x99, then 1 for ours
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 2);
  assert.ok(lines.some((l) => /unknown handle/.test(l)));
  h.t.event(nocp(handle, 7));
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 2, 'a lie: nothing taken back, two in doubt');
  assert.ok(lines.some((l) => /7 for handle 0x10 but only 2 outstanding: 0 taken, 2 in doubt \(1 over-reports\)/.test(l)));
  assert.is(hci.state.nocp_overreports, 1);
  h.rl.advance(999);
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 2, 'still in doubt before HCI_NOCP_DOUBT_TIMEOUT_MS');
  h.rl.advance(1);
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 4, 'quiet for 1 s: taken back');
  // events still go to handlers (L2CAP listens to them)
  assert.ok(h.events.filter((e) => e[0] === 0x13).length === 2);
});

test('repeated lies take nothing back: the host never sends beyond the buffers the controller really freed', () => {
  const h = working(); // BR/EDR buffers: 4
  const handle = connect_classic(h, 0x0010);
  const hci = h.stack.hci;
  for (let i = 0; i < 4; i++) assert.is(hci.hci_send_acl_packet_buffer(prepare(h, handle, 10)), 0);
  assert.is(h.t.take_acl().length, 4);
  // 50 made-up completions, 200 ms apart (each one restarts the wait): the controller still holds 4
  for (let i = 0; i < 50; i++) {
    h.t.event(nocp(handle, 5 + i));
    h.rl.advance(200);
    assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 0, `after lie ${i + 1}`);
    assert.not.ok(hci.hci_can_send_acl_packet_now(handle));
  }
  assert.is(hci.state.nocp_overreports, 50);
  // the real completions come, truthfully: the credits follow them one for one
  h.t.event(nocp(handle, 1));
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 1);
  h.t.event(nocp(handle, 3));
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 4, 'doubt capped at what is outstanding: none left');
  h.rl.advance(5000);
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 4, 'the release never goes beyond what was sent');
  assert.equal(h.t.take_acl(), []);
});

test('doubt: a truthful entry restarts the wait and lowers the doubt; packets sent after the lie stay counted', () => {
  const h = working(); // BR/EDR buffers: 4
  const handle = connect_classic(h, 0x0010);
  const hci = h.stack.hci;
  for (let i = 0; i < 3; i++) hci.hci_send_acl_packet_buffer(prepare(h, handle, 10));
  h.t.event(nocp(handle, 9)); // a lie: 3 in doubt
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 1);
  h.rl.advance(900);
  h.t.event(nocp(handle, 2)); // truthful: 1 outstanding, doubt 1, the wait starts again
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 3);
  for (let i = 0; i < 2; i++) hci.hci_send_acl_packet_buffer(prepare(h, handle, 10)); // not in doubt
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 1);
  h.rl.advance(999);
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 1, 'the truthful entry restarted the wait');
  h.rl.advance(1);
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 2, 'only the one in doubt comes back');
  h.rl.advance(10_000);
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 2, 'the two sent after the lie wait for their completion');
  h.t.event(nocp(handle, 2));
  assert.is(hci.hci_number_free_acl_slots_for_handle(handle), 4);
});

test('reassembly: start + continuations into one pooled buffer, delivered as a complete ACL packet', () => {
  const h = working();
  const handle = connect_classic(h, 0x0042);
  const payload = new Uint8Array(600);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  const pdu = new Uint8Array(604);
  little_endian_store_16(pdu, 0, 600);
  little_endian_store_16(pdu, 2, 0x0041);
  pdu.set(payload, 4);
  const frag = (pb: number, part: Uint8Array) => {
    const b = new Uint8Array(4 + part.length);
    little_endian_store_16(b, 0, handle | (pb << 12));
    little_endian_store_16(b, 2, part.length);
    b.set(part, 4);
    return b;
  };
  h.t.acl(frag(2, pdu.subarray(0, 300)));
  assert.is(h.acl.length, 0);
  assert.is(h.stack.pools.packet_buffers.in_use, 1, 'reassembly uses one pooled buffer');
  h.t.acl(frag(1, pdu.subarray(300, 500)));
  h.t.acl(frag(1, pdu.subarray(500)));
  assert.is(h.acl.length, 1);
  const got = h.acl[0]!;
  assert.is(got.handle, handle);
  assert.is(hex(got.bytes.subarray(0, 8)), '42 20 5c 02 58 02 41 00', 'ACL header with the total length 604');
  assert.equal(got.bytes.subarray(8), payload);
  assert.is(h.stack.pools.packet_buffers.in_use, 0, 'buffer returned after delivery');
  // a PDU in a single packet is delivered without reassembly
  h.t.acl(
    frag(
      2,
      pdu.subarray(0, 8).map((v, i) => (i === 0 ? 4 : i === 1 ? 0 : v)),
    ),
  );
  assert.is(h.acl.length, 2);
  assert.is(h.acl[1]!.bytes.length, 12);
});

test('reassembly bad input: continuation without start, start during reassembly, overrun, short header', () => {
  const log = new Logger();
  const lines: string[] = [];
  log.add_sink((_l, m) => lines.push(m));
  const h = working({ log });
  const handle = connect_classic(h, 0x0042);
  const H = u16(handle | 0x2000);
  const C = u16(handle | 0x1000);
  h.t.acl(`${C} 03 00 aa bb cc`);
  assert.equal(h.acl, []);
  assert.ok(lines.some((l) => /without a start/.test(l)));
  // L2CAP length 10, only 4 payload bytes arrive, then a new start
  h.t.acl(`${H} 08 00 0a 00 40 00 01 02 03 04`);
  h.t.acl(`${H} 06 00 02 00 40 00 09 09`);
  assert.is(h.acl.length, 1, 'the incomplete PDU is dropped, the new one delivered');
  assert.is(hex(h.acl[0]!.bytes), `${H} 06 00 02 00 40 00 09 09`);
  assert.ok(lines.some((l) => /incomplete PDU dropped/.test(l)));
  // overrun: L2CAP length 4 + 2 bytes, continuation brings 5
  h.t.acl(`${H} 06 00 04 00 40 00 01 02`);
  h.t.acl(`${C} 05 00 03 04 05 06 07`);
  assert.is(h.acl.length, 1);
  assert.ok(lines.some((l) => /overruns/.test(l)));
  h.t.acl(`${C} 01 00 08`);
  assert.is(h.acl.length, 1, 'the rest of a dropped PDU is discarded quietly');
  // L2CAP header split across fragments
  h.t.acl(`${H} 02 00 03 00`);
  h.t.acl(`${C} 02 00 40 00`);
  h.t.acl(`${C} 03 00 aa bb cc`);
  assert.is(h.acl.length, 2);
  assert.is(hex(h.acl[1]!.bytes), `${H} 07 00 03 00 40 00 aa bb cc`);
  // ACL length beyond the packet, unknown handle, too short
  h.t.acl(`${H} 09 00 01 02`);
  h.t.acl('99 20 04 00 00 00 40 00');
  h.t.acl('42');
  assert.is(h.acl.length, 2);
  assert.is(h.stack.pools.packet_buffers.in_use, 0);
});

test('disconnection returns the link credits, drops pending fragments and the reassembly buffer', () => {
  const h = working();
  const a = connect_classic(h, 0x0001, '00:00:00:00:00:01');
  const b = connect_classic(h, 0x0002, '00:00:00:00:00:02');
  const hci = h.stack.hci;
  assert.is(hci.hci_send_acl_packet_buffer(prepare(h, a, 1500)), 0);
  assert.is(h.t.take_acl().length, 4);
  assert.not.ok(hci.hci_can_send_acl_packet_now(b), 'shared BR/EDR buffers all used by a');
  h.t.acl(`${u16(a | 0x2000)} 06 00 08 00 40 00 01 02`); // reassembly pending on a
  assert.is(h.stack.pools.packet_buffers.in_use, 1);
  h.clear();
  h.t.event(`05 04 00 ${u16(a)} 13`);
  h.rl.run(0);
  assert.is(h.stack.pools.packet_buffers.in_use, 0);
  assert.ok(hci.hci_can_send_acl_packet_now(b), 'credits of a returned, fragments dropped');
  assert.is(hci.hci_number_free_acl_slots_for_handle(b), 4);
  assert.equal(
    h.events.map((e) => hex(e)),
    [`05 04 00 ${u16(a)} 13`, '61 01 01', '6e 00'],
    'PACKET_SENT: the outgoing buffer is free again',
  );
  assert.equal(h.t.take_acl(), []);
});

test('no view per fragment: each fragment goes to the transport as a view of the outgoing buffer made once per offset', () => {
  const h = working(); // BR/EDR buffers: 4 x 310
  const handle = connect_classic(h, 0x0042);
  const hci = h.stack.hci;
  const refs: Array<{ packet: Uint8Array; size: number; head: string }> = [];
  const send = h.t.send_packet.bind(h.t);
  h.t.send_packet = (type, packet, size) => {
    if (type === 2) refs.push({ packet, size, head: hex(packet.subarray(0, 4)) });
    return send(type, packet, size);
  };
  const round = () => {
    assert.is(hci.hci_send_acl_packet_buffer(prepare(h, handle, 1000)), 0); // 1004 bytes: 310 + 310 + 310 + 74
    h.t.event(nocp(handle, 4));
    h.rl.run(0);
  };
  round();
  round();
  assert.equal(
    refs.map((r) => [r.size, r.head]),
    [
      [314, '42 20 36 01'],
      [314, '42 10 36 01'],
      [314, '42 10 36 01'],
      [78, '42 10 4a 00'],
      [314, '42 20 36 01'],
      [314, '42 10 36 01'],
      [314, '42 10 36 01'],
      [78, '42 10 4a 00'],
    ],
  );
  assert.is(refs[0]!.packet, hci.hci_get_outgoing_packet_buffer(), 'the first fragment is the buffer itself');
  for (let i = 0; i < 4; i++)
    assert.is(refs[4 + i]!.packet, refs[i]!.packet, `fragment ${i}: the same view in the second packet`);
  assert.is(refs[1]!.packet.byteOffset - refs[0]!.packet.byteOffset, 310, 'the view starts at the fragment');
});

test('gap_disconnect sends HCI Disconnect (0x13) and the link is gone after Disconnection Complete', () => {
  const h = working();
  const a = connect_classic(h, 0x0007);
  assert.is(h.stack.gap.gap_disconnect(a), 0);
  assert.equal(h.t.take_commands(), [`06 04 03 ${u16(a)} 13`]);
  h.t.event(cs(0x0406));
  assert.is(h.stack.gap.gap_get_connection_type(a), 1);
  h.t.event(`05 04 00 ${u16(a)} 16`);
  assert.is(h.stack.gap.gap_get_connection_type(a), 0);
  assert.is(h.stack.gap.gap_disconnect(a), 0x02);
  assert.ok(h.stack.pools.all_free());
});

test('GAP work recorded during ACL traffic goes out: from an ACL handler, and when a credit returns after ACL traffic', () => {
  const h = working();
  const handle = connect_classic(h, 0x0042);
  h.clear();
  h.t.take_commands();
  const hci = h.stack.hci;
  // ACL out and its Number Of Completed Packets: no command (nothing to do)
  assert.is(hci.hci_send_acl_packet_buffer(prepare(h, handle, 4)), 0);
  h.t.event(nocp(handle, 1));
  assert.equal(h.t.take_commands(), []);
  // an ACL handler asks GAP for something: its command goes out at once
  hci.hci_register_acl_packet_handler(() => h.stack.gap.gap_set_local_name('A'));
  h.t.acl(`${u16(handle | 0x2000)} 05 00 01 00 40 00 aa`);
  const sent = h.t.take_commands();
  assert.is(sent.length, 1);
  assert.is(sent[0]!.slice(0, 5), '13 0c', 'Write Local Name');
  // no credit now: the next GAP command waits, through ACL in and out, for the Command Complete
  hci.hci_register_acl_packet_handler(() => {});
  h.stack.gap.gap_set_class_of_device(0x200404);
  assert.equal(h.t.take_commands(), []);
  h.t.acl(`${u16(handle | 0x2000)} 05 00 01 00 40 00 bb`);
  assert.is(hci.hci_send_acl_packet_buffer(prepare(h, handle, 4)), 0);
  h.t.event(nocp(handle, 1));
  assert.equal(h.t.take_commands(), []);
  // the credit back: GAP's pending commands go out one per Command Complete (the name may bring
  // Write Extended Inquiry Response first), Write Class of Device among them
  const after: string[] = [];
  h.t.event(cc(0x0c13));
  for (let c = h.t.take_commands(); c.length > 0; c = h.t.take_commands()) {
    after.push(...c);
    h.t.event(cc(little_endian_read_16(fromHex(c[0]!), 0)));
  }
  assert.ok(after.includes('24 0c 03 04 04 20'), `Write Class of Device in ${JSON.stringify(after)}`);
});

test.run();
