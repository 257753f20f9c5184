/**
 * Packet captures of the virtual controller's runs, from each host's side of the HCI, checked
 * with our reader, tshark and btmon: zero malformed or invalid frames. Covers the boot command
 * set, inquiry in all modes, remote name, classic connection with role switch, SSP pairing,
 * encryption, ACL both ways with flow control, sniff, disconnection, link loss, and on LE:
 * advertising reports, connection, update, data length, fragmented ACL, encryption, disconnect.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HciDump, type HciDumpFormat } from '../../src/hci/dump.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { bench, le16, wire, type Host } from '../unit/controller/bench.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-ctlcap-'));
const EPOCH_US = 1_750_000_000_000_000n;

function attachDump(loop: { get_time_ms(): number }, h: Host, file: string, format: HciDumpFormat): HciDump {
  const d = new HciDump({ now_us: () => EPOCH_US + BigInt(Math.round(loop.get_time_ms() * 1000)) });
  assert.is(d.open(file, format), 0);
  h.dump = d;
  return d;
}

/** [status, handle, reason] of every Disconnection Complete in a capture, as tshark decodes it. */
function disconnections(file: string): number[][] {
  return tsharkFields(
    file,
    ['bthci_evt.status', 'bthci_evt.connection_handle', 'bthci_evt.reason'],
    'bthci_evt.code == 0x05',
  ).map((row) => row.map((v) => Number(v)));
}

/** Completed packets per connection handle, summed over every Number Of Completed Packets event. */
function completedPackets(file: string): Map<number, number> {
  const out = new Map<number, number>();
  const rows = tsharkFields(file, ['bthci_evt.connection_handle', 'bthci_evt.num_compl_packets'], 'bthci_evt.code == 0x13');
  for (const [handles, counts] of rows) {
    const h = handles!.split(',').map(Number);
    const n = counts!.split(',').map(Number);
    assert.is(h.length, n.length, `NOCP row ${handles} / ${counts}`);
    h.forEach((x, i) => out.set(x, (out.get(x) ?? 0) + n[i]!));
  }
  return out;
}

const REMOTE_USER_TERMINATED = 0x13;
const TERMINATED_BY_LOCAL_HOST = 0x16;
const CONNECTION_TIMEOUT = 0x08;

/** The commands a dual-mode host sends at boot (valid parameters). */
function boot(h: Host, name: string): void {
  const nm = new Uint8Array(248);
  nm.set(new TextEncoder().encode(name));
  const nameHex = Array.from(nm, (b) => b.toString(16).padStart(2, '0')).join(' ');
  for (const c of [
    '03 0c 00',
    '01 10 00',
    '02 10 00',
    '03 10 00',
    '04 10 01 01',
    '04 10 01 02',
    '09 10 00',
    '05 10 00',
    '01 0c 08 ff ff ff ff ff ff ff 3f',
    '02 20 00',
    '03 20 00',
    '1c 20 00',
    '01 20 08 7f 00 00 00 00 00 00 00',
    '05 0c 01 00',
    '33 0c 07 fd 03 40 08 00 08 00',
    '31 0c 01 00',
    '2f 0c 01 00',
    '56 0c 01 01',
    '7a 0c 01 01',
    '45 0c 01 02',
    '24 0c 03 0c 01 1f',
    `13 0c f8 ${nameHex}`,
    '14 0c 00',
    '1c 0c 04 00 08 12 00',
    '1e 0c 04 00 10 12 00',
    '43 0c 01 01',
    '47 0c 01 01',
    '18 0c 02 00 20',
    '20 0c 01 00',
    '0a 0c 01 00',
    '12 0c 07 00 00 00 00 00 00 01',
    '0f 08 02 05 00',
    '6d 0c 02 01 00',
    '23 0c 00',
    '1a 0c 01 03',
    '19 0c 00',
    '07 20 00',
    '0f 20 00',
    '10 20 00',
    '23 20 00',
    '24 20 04 fb 00 48 08',
    '2f 20 00',
    '18 20 00',
    '17 20 20 0f 0e 0d 0c 0b 0a 09 08 07 06 05 04 03 02 01 00 ff ee dd cc bb aa 99 88 77 66 55 44 33 22 11 00',
    '99 fc 00', // unknown vendor command: status 0x01 only
  ]) {
    h.cmd(c);
  }
}

/** L2CAP signalling Echo Request / Response on CID 0x0001. */
const echo = (code: number, id: number, n: number): Uint8Array => {
  const b = new Uint8Array(8 + n);
  const len = 4 + n;
  b.set([len & 0xff, len >> 8, 0x01, 0x00, code, id, n & 0xff, n >> 8]);
  for (let i = 0; i < n; i++) b[8 + i] = i & 0xff;
  return b;
};

/** ATT Write Command on CID 0x0004 with a `n`-byte value. */
const attWrite = (n: number): Uint8Array => {
  const b = new Uint8Array(7 + n);
  const len = 3 + n;
  b.set([len & 0xff, len >> 8, 0x04, 0x00, 0x52, 0x03, 0x00]);
  for (let i = 0; i < n; i++) b[7 + i] = (i * 3) & 0xff;
  return b;
};

test('classic run: boot, inquiry (3 modes), remote name, connect, SSP, encryption, ACL, sniff, disconnect, link loss', () => {
  const { loop, hosts } = bench(2, { seed: 'capture' });
  const [a, b] = hosts as [Host, Host];
  const fa = path.join(tmp, 'classic-a.btsnoop');
  const fb = path.join(tmp, 'classic-b.pklg');
  const da = attachDump(loop, a, fa, 'btsnoop');
  const db = attachDump(loop, b, fb, 'pklg');
  const go = (ms = 200): void => loop.advance(ms);
  boot(a, 'alpha');
  boot(b, 'bravo');
  go();
  const A = wire(a.c.bd_addr);
  const B = wire(b.c.bd_addr);
  for (const mode of ['02', '01', '00']) {
    a.cmd(`45 0c 01 ${mode}`);
    a.cmd('01 04 05 33 8b 9e 02 01');
    go(3000);
  }
  a.cmd(`19 04 0a ${B} 01 00 00 00`);
  go();
  // connect; b accepts and asks for the central role
  a.cmd(`05 04 0d ${B} 18 cc 01 00 00 00 01`);
  go();
  b.cmd(`09 04 07 ${A} 00`);
  go();
  const ha = a.find(0x03)![3]! | (a.find(0x03)![4]! << 8);
  const hb = b.find(0x03)![3]! | (b.find(0x03)![4]! << 8);
  const HA = le16(ha);
  const HB = le16(hb);
  a.cmd(`1b 04 02 ${HA}`);
  a.cmd(`1c 04 03 ${HA} 01`);
  a.cmd(`1d 04 02 ${HA}`);
  a.cmd(`09 08 02 ${HA}`);
  a.cmd(`0d 08 04 ${HA} 05 00`);
  b.cmd(`37 0c 04 ${HB} 00 7d`);
  go();
  // SSP numeric comparison
  a.cmd(`11 04 02 ${HA}`);
  go();
  a.cmd(`0c 04 06 ${B}`);
  go();
  a.cmd(`2b 04 09 ${B} 01 00 03`);
  go();
  b.cmd(`2b 04 09 ${A} 01 00 03`);
  go();
  a.cmd(`2c 04 06 ${B}`);
  b.cmd(`2c 04 06 ${A}`);
  go();
  a.cmd(`13 04 03 ${HA} 01`);
  go();
  a.cmd(`08 14 02 ${HA}`);
  a.cmd(`05 14 02 ${HA}`);
  go();
  // ACL both ways: echo request / response; flow control with 8 buffers
  for (let i = 1; i <= 9; i++) a.acl(ha, 0x2, echo(0x08, i, 16));
  go();
  for (let i = 1; i <= 8; i++) b.acl(hb, 0x2, echo(0x09, i, 16));
  go();
  a.acl(ha, 0x2, echo(0x08, 20, 1000)); // 1008 bytes in one ACL packet
  go();
  // sniff and back
  a.cmd(`03 08 0a ${HA} 20 03 20 00 04 00 01 00`);
  go();
  a.cmd(`04 08 02 ${HA}`);
  go();
  a.c.faults.hardware_error(0x01);
  b.cmd(`06 04 03 ${HB} 13`);
  go();
  // second connection: link key from the first pairing, then the link is lost
  const key = a.find(0x18)!.subarray(8, 24);
  const keyHex = Array.from(key, (x) => x.toString(16).padStart(2, '0')).join(' ');
  a.clear();
  b.clear();
  a.cmd(`05 04 0d ${B} 18 cc 01 00 00 00 01`);
  go();
  b.cmd(`09 04 07 ${A} 01`);
  go();
  const ha2 = a.find(0x03)![3]! | (a.find(0x03)![4]! << 8);
  const hb2 = b.find(0x03)![3]! | (b.find(0x03)![4]! << 8);
  a.cmd(`11 04 02 ${le16(ha2)}`);
  go();
  a.cmd(`0b 04 16 ${B} ${keyHex}`);
  go();
  b.cmd(`0b 04 16 ${A} ${keyHex}`);
  go();
  assert.ok(a.events().includes(`06 03 00 ${le16(ha2)}`), 'authenticated with the stored key');
  a.c.faults.drop_link(ha2);
  loop.run();
  da.close();
  db.close();
  const ra = assertCleanCapture(fa);
  const rb = assertCleanCapture(fb);
  assert.ok(ra.records > 100, `records: ${ra.records}`);
  assert.ok(rb.records > 60, `records: ${rb.records}`);
  // b's host ended the first link (a hears Remote User Terminated, b Terminated By Local Host);
  // the second was lost: both sides get Connection Timeout after the supervision timeout
  assert.equal(disconnections(fa), [
    [0, ha, REMOTE_USER_TERMINATED],
    [0, ha2, CONNECTION_TIMEOUT],
  ]);
  assert.equal(disconnections(fb), [
    [0, hb, TERMINATED_BY_LOCAL_HOST],
    [0, hb2, CONNECTION_TIMEOUT],
  ]);
  // a sent 8 echo requests that fit its 8 buffers (the 9th overflowed) and one of 1008 bytes;
  // b sent 8 echo responses: every one completed, on the first link only
  assert.equal([...completedPackets(fa)], [[ha, 9]]);
  assert.equal([...completedPackets(fb)], [[hb, 8]]);
});

test('LE run: advertising, active scan, connect, update, data length, fragmented ACL, encryption, disconnect, timeout', () => {
  const { loop, hosts } = bench(2, { seed: 'capture-le' });
  const [a, b] = hosts as [Host, Host];
  const fa = path.join(tmp, 'le-a.btsnoop');
  const fb = path.join(tmp, 'le-b.btsnoop');
  const da = attachDump(loop, a, fa, 'btsnoop');
  const db = attachDump(loop, b, fb, 'btsnoop');
  const go = (ms = 200): void => loop.advance(ms);
  boot(a, 'central');
  boot(b, 'peripheral');
  go();
  const B = wire(b.c.bd_addr);
  b.cmd('05 20 06 01 02 03 04 05 c6');
  b.cmd('06 20 0f a0 00 a0 00 00 00 00 00 00 00 00 00 00 07 00');
  b.cmd('08 20 20 0b 02 01 06 07 09 70 65 72 69 70 68' + ' 00'.repeat(20));
  b.cmd('09 20 20 04 03 19 c1 03' + ' 00'.repeat(27));
  b.cmd('0a 20 01 01');
  a.cmd('0b 20 07 01 60 00 30 00 00 00');
  a.cmd('0c 20 02 01 01');
  go(500);
  a.cmd('0c 20 02 00 00');
  a.cmd(`0d 20 19 60 00 30 00 00 00 ${B} 00 18 00 28 00 00 00 2a 00 00 00 00 00`);
  go();
  const ha = a.find(0x3e, 1)![4]! | (a.find(0x3e, 1)![5]! << 8);
  const hb = b.find(0x3e, 1)![4]! | (b.find(0x3e, 1)![5]! << 8);
  const HA = le16(ha);
  const HB = le16(hb);
  a.cmd(`16 20 02 ${HA}`);
  a.cmd(`1d 04 02 ${HA}`);
  a.cmd(`13 20 0e ${HA} 10 00 20 00 00 00 64 00 00 00 00 00`);
  go();
  // ATT MTU exchange (517) first, so that long writes are legal ATT
  a.acl(ha, 0x0, Uint8Array.of(0x03, 0x00, 0x04, 0x00, 0x02, 0x05, 0x02));
  go();
  b.acl(hb, 0x0, Uint8Array.of(0x03, 0x00, 0x04, 0x00, 0x03, 0x05, 0x02));
  go();
  a.acl(ha, 0x0, attWrite(100)); // 107 bytes: 27-octet fragments to b's host
  b.acl(hb, 0x0, attWrite(20));
  go();
  a.cmd(`22 20 06 ${HA} fb 00 48 08`);
  go();
  a.acl(ha, 0x0, attWrite(200));
  go();
  const RAND = '01 02 03 04 05 06 07 08';
  const LTK = '00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff';
  a.cmd(`19 20 1c ${HA} ${RAND} 34 12 ${LTK}`);
  go();
  b.cmd(`1a 20 12 ${HB} ${LTK}`);
  go();
  a.cmd(`19 20 1c ${HA} ${RAND} 34 12 ${LTK}`);
  go();
  b.cmd(`1a 20 12 ${HB} ${LTK}`);
  go();
  b.cmd(`06 04 03 ${HB} 13`);
  go();
  // reconnect (b advertises again) and lose the link
  a.clear();
  b.clear();
  b.cmd('0a 20 01 01');
  a.cmd(`0d 20 19 60 00 30 00 00 00 ${B} 00 18 00 28 00 00 00 2a 00 00 00 00 00`);
  go();
  const ha2 = a.find(0x3e, 1)![4]! | (a.find(0x3e, 1)![5]! << 8);
  const hb2 = b.find(0x3e, 1)![4]! | (b.find(0x3e, 1)![5]! << 8);
  a.c.faults.drop_link(ha2);
  go(1000);
  da.close();
  db.close();
  assertCleanCapture(fa);
  assertCleanCapture(fb);
  // b's host ended the first link; the second was lost (supervision timeout 0x2a = 420 ms)
  assert.equal(disconnections(fa), [
    [0, ha, REMOTE_USER_TERMINATED],
    [0, ha2, CONNECTION_TIMEOUT],
  ]);
  assert.equal(disconnections(fb), [
    [0, hb, TERMINATED_BY_LOCAL_HOST],
    [0, hb2, CONNECTION_TIMEOUT],
  ]);
  // a sent the MTU request and two writes, b the MTU response and one write
  assert.equal([...completedPackets(fa)], [[ha, 3]]);
  assert.equal([...completedPackets(fb)], [[hb, 2]]);
});

test.after(() => {
  if (!process.env.KEEP_CAPTURES) fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
