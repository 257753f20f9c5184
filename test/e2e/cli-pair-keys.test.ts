/**
 * Bonds that outlive the process (issue 13, "Done when" 2): two bthost processes on two ptys of one
 * `bthost controller` pair with `--keys` files, exit, and later processes on the same controllers
 * (same addresses) use the stored key: HCI Link Key Request answered with Link Key Request Reply
 * (opcode 0x040B, Core Vol 4 Part E 7.1.10) on both sides, Encryption Change, no IO Capability
 * exchange, data moves at `--security 2`. Stale keys as BTstack handles them: the listener deleted
 * its key -> it answers Link Key Request Negative Reply (0x040C), the connector gets Authentication
 * Complete 0x06 PIN or Key Missing, deletes its key and exits 1 with one line; the next connection
 * pairs anew. The connector deleted its key -> its own negative reply, pairing at once, the listener's
 * key replaced. A listener at `--security 3` refuses a connector that can only do Just Works with
 * the security block result (0x0003). Every capture clean in tshark and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bthostAsync, Proc, tmp, type Run } from './cli-helpers.js';
import { clean, Controller, decodeHci as hci, oneLineWhy, type Step } from './cli-pair-helpers.js';
import { list_keys, open_key_file } from '../../ports/cli/keys.js';
import { bd_addr_to_str } from '../../src/core/bytes.js';

const KA = path.join(tmp, 'keys-a.tlv');
const KB = path.join(tmp, 'keys-b.tlv');

// HCI event codes (Core Vol 4 Part E 7.7) and command opcodes (7.1)
const AUTHENTICATION_COMPLETE = 0x06;
const ENCRYPTION_CHANGE = 0x08;
const LINK_KEY_REQUEST = 0x17;
const LINK_KEY_NOTIFICATION = 0x18;
const IO_CAPABILITY_REQUEST = 0x31;
const USER_CONFIRMATION_REQUEST = 0x33;
const SIMPLE_PAIRING_COMPLETE = 0x36;
const LINK_KEY_REQUEST_REPLY = 0x040b;
const LINK_KEY_REQUEST_NEGATIVE_REPLY = 0x040c;
const USER_CONFIRMATION_REQUEST_NEGATIVE_REPLY = 0x042d;

let ctl: Controller;
let pa = '';
let pb = '';
let addr_a = '';
let addr_b = '';
let seq = 0;

test.before(async () => {
  ctl = new Controller('cli-pair-keys');
  await ctl.ready();
  [pb, addr_b] = await ctl.pty();
  [pa, addr_a] = await ctl.pty();
});

test.after(async () => {
  await ctl.close();
});

const ev = (x: Step[], code: number) => x.findIndex((s) => s.kind === 'e' && s.code === code);
const cmd = (x: Step[], code: number) => x.findIndex((s) => s.kind === 'c' && s.code === code);
const has = (x: Step[], kind: 'e' | 'c', code: number) => x.some((s) => s.kind === kind && s.code === code);

const L2CAP_CONNECTION_REQUEST = 0x02;
const L2CAP_CONNECTION_RESPONSE = 0x03;

/** Results of the L2CAP Connection Responses in a capture. */
const l2capResults = (x: Step[]) => x.filter((s) => s.kind === 's' && s.code === L2CAP_CONNECTION_RESPONSE).map((s) => s.status);

const log = (tag: string) => path.join(tmp, `keys-${++seq}-${tag}.btsnoop`);

/** A bthost process on B's pty, ready when `ready` appears. */
async function listener(args: string[], ready: RegExp, logFile: string): Promise<Proc> {
  const p = new Proc([...args, '--port', pb, '--keys', KB, '--timeout', '20000', '--log', logFile]);
  void p.exited.then(() => hci(logFile));
  await p.waitFor(ready, 30_000);
  return p;
}

/** A bthost process on A's pty, with `input` on stdin; resolves when it exited. */
async function connector(args: string[], logFile: string, input = ''): Promise<Run> {
  const r = await bthostAsync([...args, '--port', pa, '--keys', KA, '--timeout', '20000', '--log', logFile], input);
  void hci(logFile);
  return r;
}

/** The keys in a file as `ADDR type T` (read in this process: bthost keys list is tested once). */
const keysIn = (file: string) => list_keys(open_key_file(file)).map((k) => `${bd_addr_to_str(k.bd_addr)} type ${k.type}`);

/** `bthost keys list --keys FILE` on both files. */
async function keysList(): Promise<[Run, Run]> {
  return Promise.all([bthostAsync(['keys', 'list', '--keys', KA]), bthostAsync(['keys', 'list', '--keys', KB])]);
}

test('pair with --keys files; both exit 0; bthost keys list shows the peer and its key type on each side', async () => {
  const lb = log('pair-b');
  const la = log('pair-a');
  const B = await listener(['pair', '--listen'], /waiting for a device to pair/, lb);
  const a = await connector(['pair', addr_b], la);
  const b = await B.exited;
  assert.is(a.status, 0, a.stderr);
  assert.is(b.status, 0, b.stderr);
  assert.match(
    a.stderr,
    `bonded with ${addr_b}: Just Works, security level 2, link key type 7 (unauthenticated, P-256), stored in ${KA}`,
  );
  assert.match(b.stderr, `bonded with ${addr_a}: Just Works, link key type 7 (unauthenticated, P-256), stored in ${KB}`);
  const [ka, kb] = await keysList();
  assert.is(ka.status, 0);
  assert.is(ka.stdout, `${KA}: 1 key\n  ${addr_b}  type 7 (unauthenticated, P-256)\n`);
  assert.is(kb.stdout, `${KB}: 1 key\n  ${addr_a}  type 7 (unauthenticated, P-256)\n`);
  clean(la, lb);
  const x = await hci(la);
  assert.ok(cmd(x, LINK_KEY_REQUEST_NEGATIVE_REPLY) >= 0 && ev(x, IO_CAPABILITY_REQUEST) >= 0, 'A had no key: it paired');
  assert.ok(has(x, 'e', LINK_KEY_NOTIFICATION));
});

/** B listens on PSM 0x1001 at --security 2, A connects and sends a line; both exit 0 and B printed it. */
async function encryptedChannel(tag: string): Promise<{ la: string; lb: string }> {
  const lb = log(`${tag}-b`);
  const la = log(`${tag}-a`);
  const B = await listener(['l2cap', 'listen', '0x1001', '--security', '2'], /listening on PSM 0x1001/, lb);
  const a = await connector(
    ['l2cap', 'connect', addr_b, '0x1001', '--security', '2', '--linger', '0'],
    la,
    `${tag}: over an encrypted link\n`,
  );
  const b = await B.exited;
  assert.is(a.status, 0, a.stderr);
  assert.is(b.status, 0, b.stderr);
  assert.is(b.stdout, `${tag}: over an encrypted link\n`, 'the data arrived');
  clean(la, lb);
  assert.equal(l2capResults(await hci(la)), [0], 'L2CAP connection accepted at once');
  return { la, lb };
}

test('both restart, the controllers too: the stored key is used (Link Key Request Reply both sides, Encryption Change), no pairing; data moves', async () => {
  // a power cycle of both radios: bthost controller again with the same --seed, ptys in the same order
  await ctl.close();
  ctl = new Controller('cli-pair-keys');
  await ctl.ready();
  const [b, a] = [addr_b, addr_a];
  [pb, addr_b] = await ctl.pty();
  [pa, addr_a] = await ctl.pty();
  assert.equal([addr_b, addr_a], [b, a], 'the same controller addresses');
  const { la, lb } = await encryptedChannel('reconnect');
  for (const [who, l] of [
    ['A', la],
    ['B', lb],
  ] as const) {
    const x = await hci(l);
    const req = ev(x, LINK_KEY_REQUEST);
    const reply = cmd(x, LINK_KEY_REQUEST_REPLY);
    const enc = ev(x, ENCRYPTION_CHANGE);
    assert.ok(req >= 0 && reply > req && enc > reply, `${who}: Link Key Request, Reply, then Encryption Change`);
    assert.is(x[enc]!.status, 0, `${who}: encryption on`);
    assert.not.ok(has(x, 'c', LINK_KEY_REQUEST_NEGATIVE_REPLY), `${who}: had its key`);
    assert.not.ok(has(x, 'e', IO_CAPABILITY_REQUEST) || has(x, 'e', USER_CONFIRMATION_REQUEST), `${who}: no pairing`);
    assert.not.ok(has(x, 'e', LINK_KEY_NOTIFICATION), `${who}: no new key`);
  }
  assert.ok(has(await hci(la), 'e', AUTHENTICATION_COMPLETE), 'A authenticated the link');
});

test('stale key: B deletes its key; A gets 0x06, deletes its own, exits 1 with one line; the next connection pairs anew', async () => {
  const del = await bthostAsync(['keys', 'delete', addr_a, '--keys', KB]);
  assert.is(del.status, 0, del.stderr);
  assert.is(del.stdout, `deleted the key for ${addr_a} from ${KB}\n`);
  const lb = log('stale-b');
  const la1 = log('stale-a1');
  const la2 = log('stale-a2');
  // one listener serves both attempts: the first never reaches L2CAP on its side
  const B = await listener(['l2cap', 'listen', '0x1001', '--security', '2'], /listening on PSM 0x1001/, lb);
  const a1 = await connector(['l2cap', 'connect', addr_b, '0x1001', '--security', '2'], la1, 'lost\n');
  assert.is(a1.status, 1, a1.stderr);
  assert.is(
    oneLineWhy(a1),
    `bthost: security level 2 not reached with ${addr_b}: PIN or key missing (0x06) (the peer lost its key; ours is deleted too: connect again to pair anew)`,
  );
  assert.equal(keysIn(KA), [], 'A deleted its stale key');
  assert.equal(keysIn(KB), []);
  let x = await hci(la1);
  assert.ok(cmd(x, LINK_KEY_REQUEST_REPLY) > ev(x, LINK_KEY_REQUEST), 'A offered its key');
  const auth = ev(x, AUTHENTICATION_COMPLETE);
  assert.is(x[auth]!.status, 0x06, 'Authentication Complete: PIN or Key Missing');
  assert.not.ok(has(x, 'e', ENCRYPTION_CHANGE) || has(x, 'e', IO_CAPABILITY_REQUEST));
  assert.not.ok(
    x.some((s) => s.kind === 's' && s.code === L2CAP_CONNECTION_REQUEST),
    'no L2CAP Connection Request',
  );

  const a2 = await connector(['l2cap', 'connect', addr_b, '0x1001', '--security', '2', '--linger', '0'], la2, 'paired anew\n');
  const b = await B.exited;
  assert.is(a2.status, 0, a2.stderr);
  assert.is(b.status, 0, b.stderr);
  assert.is(b.stdout, 'paired anew\n');
  clean(la1, la2, lb);
  x = await hci(la2);
  assert.ok(cmd(x, LINK_KEY_REQUEST_NEGATIVE_REPLY) > ev(x, LINK_KEY_REQUEST), 'A: no key now');
  assert.ok(ev(x, IO_CAPABILITY_REQUEST) >= 0 && ev(x, LINK_KEY_NOTIFICATION) >= 0, 'A paired again');
  assert.is(x[ev(x, ENCRYPTION_CHANGE)]!.status, 0);
  // B: the first connection's Link Key Request answered negatively, then the pairing of the second
  const y = await hci(lb);
  const neg = cmd(y, LINK_KEY_REQUEST_NEGATIVE_REPLY);
  assert.ok(neg > ev(y, LINK_KEY_REQUEST), 'B: Link Key Request Negative Reply');
  assert.ok(y.findIndex((s, i) => i > neg && s.kind === 'e' && s.code === LINK_KEY_NOTIFICATION) > neg, 'B: the new key');
  assert.equal(keysIn(KA), [`${addr_b} type 7`], 'a new key on both sides');
  assert.equal(keysIn(KB), [`${addr_a} type 7`]);
});

test('the connector deleted its key: its Link Key Request Negative Reply, pairing at once, B keeps the new key', async () => {
  const del = await bthostAsync(['keys', 'delete', '--all', '--keys', KA]);
  assert.is(del.stdout, `deleted the key for ${addr_b} from ${KA}\n`);
  const before = fs.readFileSync(KB);
  const { la, lb } = await encryptedChannel('lost-a');
  const x = await hci(la);
  assert.ok(cmd(x, LINK_KEY_REQUEST_NEGATIVE_REPLY) > ev(x, LINK_KEY_REQUEST));
  assert.ok(ev(x, IO_CAPABILITY_REQUEST) >= 0 && ev(x, LINK_KEY_NOTIFICATION) >= 0, 'A paired');
  const y = await hci(lb);
  assert.not.ok(has(y, 'e', LINK_KEY_REQUEST), 'B was not asked for its old key: A started pairing');
  assert.ok(has(y, 'e', LINK_KEY_NOTIFICATION), 'B got the new key');
  assert.not.equal(new Uint8Array(fs.readFileSync(KB)), new Uint8Array(before), "B's key file rewritten");
  assert.equal(keysIn(KA), [`${addr_b} type 7`]);
  assert.equal(keysIn(KB), [`${addr_a} type 7`]);
});

test('--security 3 listener, no-io connector: Just Works is not enough; L2CAP result 3 security block, one line, exit 1', async () => {
  const lb = log('mitm-b');
  const la = log('mitm-a');
  const B = await listener(
    ['l2cap', 'listen', '0x1003', '--security', '3', '--io', 'display-yes-no', '--yes'],
    /listening on PSM 0x1003/,
    lb,
  );
  const a = await connector(['l2cap', 'connect', addr_b, '0x1003', '--io', 'no-io'], la, 'refused\n');
  assert.is(a.status, 1, a.stderr);
  assert.is(oneLineWhy(a), `bthost: ${addr_b} refused PSM 0x1003 for security reasons (L2CAP: security block (0x66))`);
  B.kill('SIGINT');
  const b = await B.exited;
  assert.is(b.status, 130, b.stderr);
  assert.is(b.stdout, '', 'nothing reached the listener');
  clean(la, lb);
  const [x, y] = await Promise.all([hci(la), hci(lb)]);
  assert.equal(l2capResults(x), [1, 3], 'pending, then refused: security block');
  assert.equal(l2capResults(y), [1, 3]);
  // B's stored key is unauthenticated: B pairs again for MITM (its Link Key Request Negative Reply),
  // A has no input or output, so B refuses the Just Works confirmation itself; no new key anywhere
  const upgrade = cmd(y, LINK_KEY_REQUEST_NEGATIVE_REPLY);
  assert.ok(upgrade > cmd(y, LINK_KEY_REQUEST_REPLY), 'B: its old key first (the link at level 2), then not for level 3');
  assert.ok(cmd(y, USER_CONFIRMATION_REQUEST_NEGATIVE_REPLY) > upgrade, 'B: User Confirmation Request Negative Reply');
  assert.is(y[ev(y, AUTHENTICATION_COMPLETE)]!.status, 0x05, 'B: Authentication Failure');
  assert.is(x[ev(x, SIMPLE_PAIRING_COMPLETE)]!.status, 0x05, 'A: Simple Pairing Complete 0x05');
  assert.not.ok(has(x, 'e', LINK_KEY_NOTIFICATION) || has(y, 'e', LINK_KEY_NOTIFICATION), 'no key from a refused pairing');
});

test.run();
