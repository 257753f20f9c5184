import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HciDump, HciDumpMemorySink } from '../../../src/hci/dump.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { fromHex } from '../../../src/core/bytes.js';
import { checkCapture, assertCleanCapture, tsharkFields, btmonText, readCapture } from '../../helpers/capture.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-dump-'));
const file = (name: string) => path.join(dir, name);
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

const CMD = 1,
  ACL = 2,
  SCO = 3,
  EVT = 4,
  ISO = 5;
const OUT = 0,
  IN = 1;

/**
 * A connection's worth of packets, hand-written from the Core spec (Vol 4 Part E for HCI,
 * Vol 3 Part A for L2CAP). HCI packets without the H4 type byte; multi-byte fields little endian.
 */
const SESSION: [type: number, incoming: number, hex: string][] = [
  // HCI_Reset: opcode 0x0C03 (OGF 0x03, OCF 0x003), no parameters
  [CMD, OUT, '03 0c 00'],
  // Command Complete (0x0E), len 4: Num_HCI_Command_Packets 1, opcode 0x0C03, status 0
  [EVT, IN, '0e 04 01 03 0c 00'],
  // HCI_Read_BD_ADDR: opcode 0x1009 (OGF 0x04, OCF 0x009)
  [CMD, OUT, '09 10 00'],
  // Command Complete, len 10: 1, 0x1009, status 0, BD_ADDR 11:22:33:44:55:66 (reversed on the wire)
  [EVT, IN, '0e 0a 01 09 10 00 66 55 44 33 22 11'],
  // Connection Complete (0x03), len 11: status 0, handle 0x000B, BD_ADDR AA:BB:CC:DD:EE:FF, link type ACL 1, encryption off
  [EVT, IN, '03 0b 00 0b 00 ff ee dd cc bb aa 01 00'],
  // ACL handle 0x000B, PB 10 (first, flushable), 12 bytes: L2CAP len 8, CID 1 (signalling),
  // Connection Request code 0x02, ident 1, len 4, PSM 0x1001, source CID 0x0040
  [ACL, OUT, '0b 20 0c 00  08 00 01 00  02 01 04 00 01 10 40 00'],
  // Number Of Completed Packets (0x13), len 5: 1 handle, 0x000B, 1 packet
  [EVT, IN, '13 05 01 0b 00 01 00'],
  // Connection Response code 0x03, ident 1, len 8: DCID 0x0041, SCID 0x0040, result 0 success, status 0
  [ACL, IN, '0b 20 10 00  0c 00 01 00  03 01 08 00 41 00 40 00 00 00 00 00'],
  // Information Request code 0x0A, ident 2, len 2: InfoType 0x0002 (extended features)
  [ACL, OUT, '0b 20 0a 00  06 00 01 00  0a 02 02 00 02 00'],
  // Information Response code 0x0B, ident 2, len 8: InfoType 2, result 0, features 0x00000080 (fixed channels)
  [ACL, IN, '0b 20 10 00  0c 00 01 00  0b 02 08 00 02 00 00 00 80 00 00 00'],
  // Disconnection Complete (0x05), len 4: status 0, handle 0x000B, reason 0x13 remote user terminated
  [EVT, IN, '05 04 00 0b 00 13'],
];

const T0 = 1_700_000_000_123_456; // 2023-11-14T22:13:20.123456Z in microseconds
function stepClock(start = T0, step = 1000) {
  let n = 0;
  const clock = () => start + step * n++;
  return { clock, calls: () => n };
}

function writeSession(dump: HciDump, packets = SESSION): void {
  for (const [t, inc, h] of packets) {
    const p = fromHex(h.replace(/\s+/g, ''));
    dump.log_packet(t, inc, p, p.length);
  }
}

function bytesOf(h: string): number[] {
  return Array.from(fromHex(h.replace(/\s+/g, '')));
}

// ------------------------------------------------------------------ exact bytes

test('btsnoop: file header and first record, byte for byte', () => {
  const { clock } = stepClock();
  const d = new HciDump({ now_us: clock });
  assert.is(d.open(file('session.btsnoop'), 'btsnoop'), 0);
  writeSession(d);
  d.close();
  const b = fs.readFileSync(file('session.btsnoop'));
  assert.equal(Array.from(b.subarray(0, 16)), [
    0x62,
    0x74,
    0x73,
    0x6e,
    0x6f,
    0x6f,
    0x70,
    0x00, // "btsnoop\0"
    0,
    0,
    0,
    1, // version 1
    0,
    0,
    0x03,
    0xea, // datalink 1002 = H4
  ]);
  // Timestamp: T0 + 0x00dcddb30f2f8000 (0000-01-01 -> 1970-01-01 in us) = 0x00e2e7d7274fa240
  assert.equal(Array.from(b.subarray(16, 16 + 24 + 4)), [
    0,
    0,
    0,
    4, // original length: H4 byte + 3
    0,
    0,
    0,
    4, // included length
    0,
    0,
    0,
    2, // flags: sent (bit0 = 0), command/event (bit1 = 1)
    0,
    0,
    0,
    0, // cumulative drops
    0x00,
    0xe2,
    0xe7,
    0xd7,
    0x27,
    0x4f,
    0xa2,
    0x40, // timestamp
    0x01,
    0x03,
    0x0c,
    0x00, // H4 command + HCI_Reset
  ]);
  // second record: the Command Complete, received event: flags 3, 1 ms later (0x...a240 + 1000 = 0x...a628)
  assert.equal(
    Array.from(b.subarray(44, 44 + 24 + 7)),
    [
      0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 0, 0x00, 0xe2, 0xe7, 0xd7, 0x27, 0x4f, 0xa6, 0x28, 0x04, 0x0e, 0x04, 0x01,
      0x03, 0x0c, 0x00,
    ],
  );
  // the first ACL record (6th): flags 0 (sent, data), H4 type 2
  const total = 16 + SESSION.reduce((s, [, , h]) => s + 24 + 1 + bytesOf(h).length, 0);
  assert.is(b.length, total);
  let pos = 16;
  for (let i = 0; i < 5; i++) pos += 24 + 1 + bytesOf(SESSION[i]![2]).length;
  assert.equal(Array.from(b.subarray(pos + 8, pos + 12)), [0, 0, 0, 0], 'ACL sent: flags 0');
  assert.is(b[pos + 24], 0x02, 'H4 ACL');
  pos += 24 + 17;
  pos += 24 + 8; // Number Of Completed Packets
  assert.equal(Array.from(b.subarray(pos + 8, pos + 12)), [0, 0, 0, 1], 'ACL received: flags 1');
});

test('pklg: first record and a log line, byte for byte', () => {
  const { clock } = stepClock();
  const d = new HciDump({ now_us: clock });
  assert.is(d.open(file('session.pklg'), 'pklg'), 0);
  writeSession(d, SESSION.slice(0, 2));
  d.log_message(1, 'hi');
  d.close();
  const b = fs.readFileSync(file('session.pklg'));
  assert.equal(
    Array.from(b),
    [
      // record 1: length 12 = 8 timestamp + 1 type + 3 packet; 1700000000 s = 0x6553f100; 123456 us = 0x0001e240
      0, 0, 0, 12, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x01, 0xe2, 0x40, 0x00, 0x03, 0x0c, 0x00,
      // record 2: event type 0x01, 1 ms later
      0, 0, 0, 15, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x01, 0xe6, 0x28, 0x01, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00,
      // record 3: note 0xfc "hi" and a NUL (for btmon, see dump.ts)
      0, 0, 0, 12, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x01, 0xea, 0x10, 0xfc, 0x68, 0x69, 0x00,
    ],
  );
});

test('pklg: ACL and SCO types by direction', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'pklg');
  const acl = fromHex('0b20000000'.slice(0, 8)); // handle 0x000b, empty ACL payload
  const sco = fromHex('0b0000'); // SCO handle 0x000b, 0 bytes
  d.log_packet(ACL, OUT, acl, 4);
  d.log_packet(ACL, IN, acl, 4);
  d.log_packet(SCO, OUT, sco, 3);
  d.log_packet(SCO, IN, sco, 3);
  const b = sink.bytes();
  assert.equal([b[12], b[12 + 17], b[12 + 34], b[12 + 50]], [0x02, 0x03, 0x08, 0x09]);
});

// ------------------------------------------------------------------ tshark and btmon

for (const fmt of ['btsnoop', 'pklg'] as const) {
  test(`${fmt}: tshark decodes every frame, none malformed; fields as written`, () => {
    const f = file(`fields.${fmt}`);
    const d = new HciDump({ now_us: stepClock().clock });
    d.open(f, fmt);
    writeSession(d);
    d.close();
    const r = assertCleanCapture(f);
    assert.is(r.frames, SESSION.length);
    assert.is(r.malformed, 0);
    assert.equal(r.tsharkProblems, []);
    assert.equal(tsharkFields(f, ['bthci_cmd.opcode'], 'bthci_cmd'), [['0x0c03'], ['0x1009']]);
    assert.equal(tsharkFields(f, ['bthci_evt.code'], 'bthci_evt'), [['0x0e'], ['0x0e'], ['0x03'], ['0x13'], ['0x05']]);
    assert.equal(tsharkFields(f, ['btl2cap.psm', 'btl2cap.scid'], 'btl2cap.cmd_code == 0x02'), [['0x1001', '0x0040']]);
    assert.equal(tsharkFields(f, ['btl2cap.dcid', 'btl2cap.result'], 'btl2cap.cmd_code == 0x03'), [['0x0041', '0x0000']]);
    assert.equal(tsharkFields(f, ['btl2cap.info_type'], 'btl2cap.cmd_code == 0x0a'), [['0x0002']]);
    assert.equal(tsharkFields(f, ['bthci_evt.bd_addr'], 'bthci_evt.code == 0x03'), [['aa:bb:cc:dd:ee:ff']]);
    // tshark's own reading of the timestamps: T0, T0 + 1 ms, ...
    const times = tsharkFields(f, ['frame.time_epoch']).map((row) => row[0]);
    assert.is(times[0], '1700000000.123456000');
    assert.is(times[10], '1700000000.133456000');
  });

  test(`${fmt}: btmon reads it without complaint and names the packets`, () => {
    const f = file(`btmon.${fmt}`);
    const d = new HciDump({ now_us: stepClock().clock });
    d.open(f, fmt);
    writeSession(d);
    d.close();
    const r = checkCapture(f);
    assert.equal(r.btmonProblems, []);
    assert.is(r.btmonFrames, SESSION.length);
    const text = btmonText(f);
    for (const s of [
      '< HCI Command: Reset (0x03|0x0003) plen 0',
      '> HCI Event: Command Complete (0x0e) plen 4',
      '< HCI Command: Read BD ADDR (0x04|0x0009) plen 0',
      'Address: 11:22:33:44:55:66',
      '> HCI Event: Connect Complete (0x03) plen 11',
      'L2CAP: Connection Request (0x02) ident 1 len 4',
      'PSM: 4097 (0x1001)',
      'L2CAP: Connection Response (0x03) ident 1 len 8',
      'L2CAP: Information Request (0x0a) ident 2 len 2',
      'L2CAP: Information Response (0x0b) ident 2 len 8',
      '> HCI Event: Disconnect Complete (0x05) plen 4',
    ])
      assert.ok(text.includes(s), `btmon shows "${s}"`);
  });

  test(`${fmt}: the checker flags a truncated packet`, () => {
    const f = file(`truncated.${fmt}`);
    const d = new HciDump({ now_us: stepClock().clock });
    d.open(f, fmt);
    writeSession(d, SESSION.slice(0, 5));
    // the Connection Request with its last 6 bytes cut off: ACL length still says 12
    const cut = fromHex('0b200c000800010002010400');
    d.log_packet(ACL, OUT, cut, cut.length);
    d.close();
    const r = checkCapture(f);
    assert.ok(r.problems.length > 0);
    assert.ok(
      r.formatProblems.some((p) => /ACL data length 12 but 8 bytes/.test(p)),
      r.formatProblems.join('; '),
    );
    assert.is(r.malformed, 1, 'tshark marks the frame malformed');
    assert.ok(
      r.tsharkProblems.some((p) => /^frame 6: malformed/.test(p)),
      r.tsharkProblems.join('; '),
    );
    assert.ok(
      r.btmonProblems.some((p) => /invalid packet size \(8 != 12\)/.test(p)),
      r.btmonProblems.join('; '),
    );
    assert.throws(() => assertCleanCapture(f), /capture is not clean[\s\S]*ACL data length 12/);
    // an ignore pattern for each reader's complaint makes it pass: the checker reports nothing else
    const ok = checkCapture(f, { ignore: [/ACL data length 12/, /frame 6/, /invalid packet size \(8 != 12\)/] });
    assert.equal(ok.problems, []);
  });

  test(`${fmt}: the checker flags a wrong length inside a packet and an L2CAP signalling error`, () => {
    const f = file(`badlen.${fmt}`);
    const d = new HciDump({ now_us: stepClock().clock });
    d.open(f, fmt);
    writeSession(d, SESSION.slice(0, 4));
    // Connection Complete whose parameter length says 11 but carries 12 bytes (tshark ignores the extra byte; btmon does not)
    const cc = fromHex('030b000b00ffeeddccbbaa010000');
    d.log_packet(EVT, IN, cc, cc.length);
    // L2CAP Command Reject with 2 data bytes too few for reason 0x0002 (Invalid CID needs 4)
    const rej = fromHex('0b200a000600010001010200 0200'.replace(' ', ''));
    d.log_packet(ACL, IN, rej, rej.length);
    d.close();
    const r = checkCapture(f);
    assert.ok(
      r.formatProblems.some((p) => /event parameter length 11 but 12 bytes/.test(p)),
      r.formatProblems.join('; '),
    );
    assert.ok(
      r.btmonProblems.some((p) => /Connect Complete.*invalid packet size \(12 != 11\)/.test(p)),
      r.btmonProblems.join('; '),
    );
    assert.ok(
      r.btmonProblems.some((p) => /invalid data size/.test(p)),
      r.btmonProblems.join('; '),
    );
    assert.ok(
      r.tsharkProblems.some((p) => /malformed \(Rcvd Command Reject/.test(p)),
      r.tsharkProblems.join('; '),
    );
  });

  test(`${fmt}: the checker flags a file cut in the middle of a record`, () => {
    const f = file(`cut.${fmt}`);
    const d = new HciDump({ now_us: stepClock().clock });
    d.open(f, fmt);
    writeSession(d);
    d.close();
    const b = fs.readFileSync(f);
    fs.writeFileSync(f, b.subarray(0, b.length - 5));
    const r = checkCapture(f);
    assert.ok(
      r.formatProblems.some((p) => /cut short/.test(p)),
      r.formatProblems.join('; '),
    );
    assert.ok(
      r.tsharkProblems.some((p) => /exited with 2/.test(p)),
      r.tsharkProblems.join('; '),
    );
  });
}

test('checker: a fragmented L2CAP PDU is clean; a broken fragment sequence is not', () => {
  const f = file('frag.btsnoop');
  const d = new HciDump({ now_us: stepClock().clock });
  d.open(f, 'btsnoop');
  writeSession(d, SESSION.slice(0, 5));
  // Connection Request in two ACL fragments: PB 10 with 6 bytes, PB 01 with the last 6
  const a = fromHex('0b200600080001000201');
  const b = fromHex('0b1006000400011040 00'.replace(' ', ''));
  d.log_packet(ACL, OUT, a, a.length);
  d.log_packet(ACL, OUT, b, b.length);
  d.close();
  assertCleanCapture(f);
  assert.equal(tsharkFields(f, ['btl2cap.psm'], 'btl2cap.psm'), [['0x1001']], 'tshark reassembles the PDU');

  const g = file('frag-bad.btsnoop');
  const e = new HciDump({ now_us: stepClock().clock });
  e.open(g, 'btsnoop');
  writeSession(e, SESSION.slice(0, 5));
  e.log_packet(ACL, OUT, a, a.length); // start, 6 of 12 bytes
  e.log_packet(ACL, OUT, a, a.length); // another start before the first is complete
  e.log_packet(ACL, IN, b, b.length); // continuation without start (other direction)
  e.close();
  const r = checkCapture(g);
  assert.ok(
    r.formatProblems.some((p) => /new L2CAP PDU on handle 0xb while 6 bytes/.test(p)),
    r.formatProblems.join('; '),
  );
  assert.ok(
    r.formatProblems.some((p) => /continuation fragment on handle 0xb without a start/.test(p)),
    r.formatProblems.join('; '),
  );
  assert.ok(
    r.formatProblems.some((p) => /capture ends inside an L2CAP PDU/.test(p)),
    r.formatProblems.join('; '),
  );
});

// ------------------------------------------------------------------ log lines

test('pklg: log lines are PacketLogger notes that tshark and btmon show; levels can be disabled', () => {
  const f = file('notes.pklg');
  const d = new HciDump({ now_us: stepClock().clock });
  d.open(f, 'pklg');
  d.log_message(1, 'hci: starting');
  writeSession(d, SESSION.slice(0, 2));
  d.enable_log_level(0, false);
  d.log_message(0, 'debug line that is filtered');
  d.log_message(2, 'l2cap: something failed');
  d.log_message(9, 'unknown level is dropped');
  d.log_message(1, 'ok'); // shorter than the note before it
  d.close();
  const r = assertCleanCapture(f);
  assert.is(r.records, 5);
  assert.equal(tsharkFields(f, ['packetlogger.info'], 'packetlogger.type == 0xfc'), [
    ['hci: starting'],
    ['l2cap: something failed'],
    ['ok'],
  ]);
  const text = btmonText(f);
  assert.ok(/= Note: hci: starting /.test(text));
  assert.ok(/= Note: l2cap: something failed /.test(text));
  assert.ok(/= Note: ok {10}/.test(text), 'no tail of the previous note (the NUL ends it for btmon)');
  assert.not.ok(text.includes('filtered'));
});

test('pklg: a long log line is cut at 255 bytes (+ NUL) without splitting a character', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'pklg');
  d.log_message(1, 'x'.repeat(254) + 'é' + 'tail'); // é is 2 bytes in UTF-8: it would end at byte 256
  const b = sink.bytes();
  assert.equal(Array.from(b.subarray(0, 4)), [0, 0, 0x01, 0x08]); // 8 + 1 + 254 + 1 = 264
  assert.is(b.length, 13 + 255);
  assert.is(b[b.length - 1], 0);
  const parsed = readCapture(b);
  assert.is(parsed.records[0]!.note, 'x'.repeat(254));
});

test('btsnoop: log lines are skipped (no text records in btsnoop) and counted', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'btsnoop');
  d.log_message(1, 'not in btsnoop');
  assert.is(sink.bytes().length, 16);
  assert.is(d.messages_skipped, 1);
  assert.is(d.records_written, 0);
});

test('logger sink forwards log lines', async () => {
  const { Logger } = await import('../../../src/core/log.js');
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'pklg');
  const log = new Logger();
  log.add_sink(d.log_sink);
  log.info('from the logger');
  assert.is(readCapture(sink.bytes()).records[0]!.note, 'from the logger');
});

// ------------------------------------------------------------------ enable, limit, clock

test('enable_packet_log(false) writes nothing and does not even read the clock', () => {
  const c = stepClock();
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: c.clock });
  d.open_sink(sink, 'pklg');
  d.enable_packet_log(false);
  assert.is(d.active, false);
  writeSession(d);
  assert.is(sink.bytes().length, 0);
  assert.is(c.calls(), 0);
  d.log_message(1, 'log lines still go through');
  assert.is(c.calls(), 1);
  d.enable_packet_log(true);
  writeSession(d, SESSION.slice(0, 1));
  assert.is(d.records_written, 2);
  const recs = readCapture(sink.bytes()).records;
  assert.equal(
    recs.map((r) => r.packet_type),
    [0, CMD],
  );
});

test('no log open: log_packet and log_message are no-ops', () => {
  const c = stepClock();
  const d = new HciDump({ now_us: c.clock });
  writeSession(d);
  d.log_message(1, 'x');
  assert.is(c.calls(), 0);
  assert.is(d.is_open, false);
  assert.is(d.format, null);
});

test('set_max_packets restarts the file with a fresh header (BTstack reset); notes do not count', () => {
  const f = file('limit.btsnoop');
  const d = new HciDump({ now_us: stepClock().clock });
  d.open(f, 'btsnoop');
  d.set_max_packets(3);
  writeSession(d, SESSION.slice(0, 5)); // 1..3 written, 4th restarts: file holds 4 and 5
  d.close();
  assert.is(d.restarts, 1);
  const b = fs.readFileSync(f);
  assert.equal(Array.from(b.subarray(0, 8)), [0x62, 0x74, 0x73, 0x6e, 0x6f, 0x6f, 0x70, 0x00]);
  assert.is(b.length, 16 + (24 + 13) + (24 + 14));
  assert.is(b[16 + 24], 0x04, 'first record is now the 4th packet (an event)');
  assert.equal(Array.from(b.subarray(16 + 25, 16 + 28)), [0x0e, 0x0a, 0x01]);
  const r = assertCleanCapture(f);
  assert.is(r.frames, 2);
});

test('set_max_packets with a pklg sink calls reset(); stop mode drops and counts', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'pklg');
  d.set_max_packets(2);
  d.log_message(1, 'notes are not packets');
  writeSession(d, SESSION.slice(0, 3));
  assert.is(sink.resets, 1);
  assert.equal(
    readCapture(sink.bytes()).records.map((r) => r.data[0]),
    [0x09],
  ); // Read BD_ADDR only

  const stop = new HciDumpMemorySink();
  const e = new HciDump({ now_us: () => 0 });
  e.open_sink(stop, 'btsnoop');
  e.set_max_packets(2, 'stop');
  writeSession(e, SESSION.slice(0, 5));
  assert.is(stop.resets, 0);
  assert.is(e.packets_dropped, 3);
  assert.equal(readCapture(stop.bytes()).records.length, 2);

  // a plain function sink cannot be reset: the limit stops it
  const chunks: number[] = [];
  const g = new HciDump({ now_us: () => 0 });
  g.open_sink((bytes) => chunks.push(bytes.length), 'pklg');
  g.set_max_packets(1);
  writeSession(g, SESSION.slice(0, 3));
  assert.equal(chunks, [16]);
  assert.is(g.packets_dropped, 2);
  assert.throws(() => g.set_max_packets(1, 'rotate' as never), TypeError);
});

test('deterministic timestamps from the virtual run loop: identical files, tshark reads the virtual time', () => {
  const make = (name: string) => {
    const loop = new VirtualRunLoop();
    const d = new HciDump({ now_us: () => loop.get_time_ms() * 1000 });
    const f = file(name);
    d.open(f, 'btsnoop');
    for (const [t, inc, h] of SESSION) {
      const p = fromHex(h.replace(/\s+/g, ''));
      d.log_packet(t, inc, p, p.length);
      loop.advance(1500);
    }
    d.close();
    return fs.readFileSync(f);
  };
  const a = make('virt-a.btsnoop');
  const b = make('virt-b.btsnoop');
  assert.ok(a.equals(b));
  // first record at virtual time 0: the timestamp is the btsnoop epoch offset itself
  assert.equal(Array.from(a.subarray(32, 40)), [0x00, 0xdc, 0xdd, 0xb3, 0x0f, 0x2f, 0x80, 0x00]);
  // second at 1.5 s: 0x00dcddb30f2f8000 + 1500000 = 0x00dcddb30f466360
  assert.equal(Array.from(a.subarray(44 + 16, 44 + 24)), [0x00, 0xdc, 0xdd, 0xb3, 0x0f, 0x46, 0x63, 0x60]);
  const times = tsharkFields(file('virt-a.btsnoop'), ['frame.time_epoch']).map((r) => r[0]);
  assert.equal(times.slice(0, 3), ['0.000000000', '1.500000000', '3.000000000']);
});

test('bigint clock and pklg time split', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 4_294_971_336_196_101n }); // 0x000f4240_f0d08005 us
  d.open_sink(sink, 'btsnoop');
  const p = fromHex('030c00');
  d.log_packet(CMD, OUT, p, 3);
  // 0x000f4240_f0d08005 + 0x00dcddb3_0f2f8000: low words overflow (0x1_00000005), carry into high = 0x00ec1ff4_00000005
  assert.equal(Array.from(sink.bytes().subarray(32, 40)), [0x00, 0xec, 0x1f, 0xf4, 0x00, 0x00, 0x00, 0x05]);
  const s2 = new HciDumpMemorySink();
  const e = new HciDump({ now_us: () => 12_345_678_901n });
  e.open_sink(s2, 'pklg');
  e.log_packet(CMD, OUT, p, 3);
  // 12345 s = 0x3039, 678901 us = 0x000a5bf5
  assert.equal(Array.from(s2.bytes().subarray(4, 12)), [0, 0, 0x30, 0x39, 0x00, 0x0a, 0x5b, 0xf5]);
});

// ------------------------------------------------------------------ ISO, bad arguments, I/O errors

test('ISO: btsnoop writes H4 type 5 (tshark decodes it; btmon skips it, and the checker allows that); pklg writes a note', () => {
  // ISO handle 0x0001, PB 10 (complete SDU), TS 0, data load 8: seq 1, SDU length 4, 4 bytes
  const iso = fromHex('01200800 0100 0400 01020304'.replace(/ /g, ''));
  const f = file('iso.btsnoop');
  const d = new HciDump({ now_us: stepClock().clock });
  d.open(f, 'btsnoop');
  writeSession(d, SESSION.slice(0, 2));
  d.log_packet(ISO, OUT, iso, iso.length);
  d.close();
  const r = assertCleanCapture(f);
  assert.is(r.frames, 3);
  assert.is(r.btmonFrames, 2);
  assert.equal(
    tsharkFields(f, ['bthci_iso.chandle', 'bthci_iso_data.packet_seq_num', 'bthci_iso_data.sdu_length'], 'bthci_iso'),
    [['0x0001', '1', '4']],
  );
  const b = fs.readFileSync(f);
  assert.equal(Array.from(b.subarray(b.length - 13)), [0x05, ...iso]);
  assert.equal(Array.from(b.subarray(b.length - 13 - 24, b.length - 13 - 12)), [0, 0, 0, 13, 0, 0, 0, 13, 0, 0, 0, 0]);

  const g = file('iso.pklg');
  const e = new HciDump({ now_us: stepClock().clock });
  e.open(g, 'pklg');
  e.log_packet(ISO, IN, iso, iso.length);
  e.close();
  assertCleanCapture(g);
  assert.equal(tsharkFields(g, ['packetlogger.info']), [['ISO in: handle 0x0001 pb 2 ts 0 data_load_length 8']]);
});

test('bad arguments never throw into the stack: unknown types ignored, len clamped', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'btsnoop');
  const p = fromHex('030c00');
  d.log_packet(0, OUT, p, 3);
  d.log_packet(6, OUT, p, 3);
  d.log_packet(0xff, OUT, p, 3);
  assert.is(d.records_written, 0);
  d.log_packet(CMD, OUT, p, 99); // len beyond the array: only the real bytes
  d.log_packet(CMD, OUT, p, -1);
  d.log_packet(CMD, OUT, p, NaN);
  const recs = readCapture(sink.bytes()).records;
  assert.equal(
    recs.map((r) => r.data.length),
    [3, 0, 3],
  );
  assert.throws(() => d.open_sink(sink, 'bluez' as never), TypeError);
  assert.throws(() => d.open(file('x'), 'hcidump' as never), TypeError);
  assert.throws(() => d.open_sink(sink, 1), TypeError, 'HCI_DUMP_BLUEZ is not supported');
  // BTstack's HCI_DUMP_PACKETLOGGER = 2 and HCI_DUMP_BTSNOOP = 3 work for ported code
  d.open_sink(sink, 2);
  assert.is(d.format, 'pklg');
  d.open_sink(sink, 3);
  assert.is(d.format, 'btsnoop');
});

test('I/O errors: open failure returns errno; a failing write closes the log and reports once', () => {
  const errors: Error[] = [];
  const d = new HciDump({ now_us: () => 0, on_error: (e) => errors.push(e) });
  assert.is(d.open(path.join(dir, 'no-such-dir', 'x.pklg'), 'pklg'), 2); // ENOENT
  assert.is(errors.length, 1);
  assert.is(d.is_open, false);

  if (fs.existsSync('/dev/full')) {
    const e2: Error[] = [];
    const full = new HciDump({ now_us: () => 0, on_error: (e) => e2.push(e) });
    assert.is(full.open('/dev/full', 'btsnoop'), 5); // header write fails: ENOSPC, reported, closed
    assert.is(e2.length, 1);
    assert.match(e2[0]!.message, /ENOSPC/);
    assert.is(full.is_open, false);
  }

  const e3: Error[] = [];
  let calls = 0;
  const x = new HciDump({ now_us: () => 0, on_error: (e) => e3.push(e) });
  x.open_sink(() => {
    calls++;
    throw new Error('disk gone');
  }, 'pklg');
  writeSession(x);
  x.log_message(1, 'still fine');
  assert.is(calls, 1, 'the log closed after the first failure');
  assert.equal(
    e3.map((e) => e.message),
    ['disk gone'],
  );
  assert.is(x.active, false);

  // a throwing on_error callback and a throwing clock do not escape either
  const y = new HciDump({
    now_us: () => {
      throw new Error('clock');
    },
    on_error: () => {
      throw new Error('cb');
    },
  });
  y.open_sink(() => {
    throw new Error('w');
  }, 'pklg');
  y.log_packet(CMD, OUT, fromHex('030c00'), 3);
  assert.is(y.is_open, false);
});

test('a FIFO works (live capture: wireshark -k -i FIFO); no seeking on it', async () => {
  const { spawn, spawnSync } = await import('node:child_process');
  const fifo = file('live.fifo');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return; // no mkfifo: nothing to test here
  const out = file('live-copy.btsnoop');
  const reader = spawn('sh', ['-c', 'cat "$0" > "$1"', fifo, out]);
  const done = new Promise((resolve) => reader.on('exit', resolve));
  const d = new HciDump({ now_us: stepClock().clock, on_error: (e) => assert.unreachable(e.message) });
  assert.is(d.open(fifo, 'btsnoop'), 0); // blocks until cat opens the other end
  writeSession(d);
  d.close();
  assert.is(await done, 0);
  const r = assertCleanCapture(out);
  assert.is(r.frames, SESSION.length);
});

test('close() closes the sink, and the dump can be reopened', () => {
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: () => 0 });
  d.open_sink(sink, 'pklg');
  d.close();
  d.close();
  assert.ok(sink.closed);
  const f = file('reopen.btsnoop');
  assert.is(d.open(f, 'btsnoop'), 0);
  assert.is(d.format, 'btsnoop');
  writeSession(d, SESSION.slice(0, 2));
  d.close();
  assertCleanCapture(f);
});

// ------------------------------------------------------------------ fuzz

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: random packets and arguments never throw; every accepted packet is one record', () => {
  const rnd = prng(0xb75);
  for (const fmt of ['btsnoop', 'pklg'] as const) {
    const sink = new HciDumpMemorySink();
    const d = new HciDump({ now_us: () => Math.floor(rnd() * 2 ** 52) });
    d.open_sink(sink, fmt);
    const expect: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const type = Math.floor(rnd() * 8);
      const n = Math.floor(rnd() * (rnd() < 0.05 ? 5000 : 64));
      const p = new Uint8Array(n);
      for (let j = 0; j < n; j++) p[j] = Math.floor(rnd() * 256);
      const len = rnd() < 0.1 ? Math.floor(rnd() * 2 * n) - 2 : n;
      d.log_packet(type, rnd() < 0.5 ? 1 : 0, p, len);
      if (type >= 1 && type <= 5 && !(fmt === 'pklg' && type === 5)) {
        expect.push(p.subarray(0, Math.max(0, Math.min(len, n))));
      } else if (type === 5) expect.push(new Uint8Array(0)); // the note: contents checked below by count only
    }
    const parsed = readCapture(sink.bytes());
    assert.is(parsed.records.length, expect.length, fmt);
    for (let i = 0; i < expect.length; i++) {
      if (parsed.records[i]!.packet_type === 0) continue;
      assert.ok(Buffer.from(parsed.records[i]!.data).equals(Buffer.from(expect[i]!)), `${fmt} record ${i + 1}`);
    }
  }
});

test('fuzz: readCapture never throws on random or mutated files', () => {
  const rnd = prng(0xca9);
  const sink = new HciDumpMemorySink();
  const d = new HciDump({ now_us: stepClock().clock });
  d.open_sink(sink, 'btsnoop');
  writeSession(d);
  const goodSnoop = sink.bytes();
  const s2 = new HciDumpMemorySink();
  d.open_sink(s2, 'pklg');
  writeSession(d);
  d.log_message(1, 'note');
  const goodPklg = s2.bytes();
  assert.equal(readCapture(goodSnoop).problems, []);
  assert.equal(readCapture(goodPklg).problems, []);
  let flagged = 0;
  for (let i = 0; i < 2000; i++) {
    const base =
      i % 3 === 0
        ? goodSnoop
        : i % 3 === 1
          ? goodPklg
          : new Uint8Array(Math.floor(rnd() * 200)).map(() => Math.floor(rnd() * 256));
    const b = base.slice(0, Math.floor(rnd() * (base.length + 1)));
    for (let k = Math.floor(rnd() * 4); k > 0 && b.length > 0; k--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const r = readCapture(b);
    assert.type(r.problems.length, 'number');
    if (r.problems.length > 0) flagged++;
  }
  assert.ok(flagged > 1000, `most damaged files are flagged (${flagged})`);
});

test.run();
