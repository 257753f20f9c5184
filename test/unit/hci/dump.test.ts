import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HciDump, HciDumpMemorySink } from '../../../src/hci/dump.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { fromHex } from '../../../src/core/bytes.js';
import { checkCapture, assertCleanCapture, tsharkFields, btmonText, readCapture } from '../../helpers/capture.js';
import { ACL, bytesOf, CMD, EVT, IN, ISO, OUT, SCO, SESSION, stepClock, T0, writeSession } from './dump-session.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-dump-'));
const file = (name: string) => path.join(dir, name);
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

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

test.run();
