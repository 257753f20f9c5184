/**
 * `bthost pair` end to end: two bthost processes on two ptys of one `bthost controller` bond with
 * every association model (Core Vol 3 Part C 5.2.2.6 table 5.7): Just Works with Secure
 * Connections on (P-256 key, type 7) and off (P-192, type 4), Numeric Comparison accepted with
 * --yes (both print the same value), Passkey Entry both ways (the passkey one process prints is
 * typed into the other's stdin), legacy PIN (--ssp off on one side); and bad input: a refused
 * confirmation, a wrong passkey. Each side's btsnoop capture is clean in tshark and btmon and
 * shows the exchange (IO Capability Request, User Confirmation / Passkey events, Link Key
 * Notification). Keys go to the default per-controller files under $BTHOST_KEYS_DIR.
 * All eight pairings run side by side in before(); the tests check their results and captures.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmp } from './cli-helpers.js';
import { clean, Controller, decodeHci, oneLineWhy, pairOnce, type PairRun } from './cli-pair-helpers.js';

const KEYS_DIR = path.join(tmp, 'keys');
process.env['BTHOST_KEYS_DIR'] = KEYS_DIR;

const IO_CAPABILITY_REQUEST = 0x31;
const USER_CONFIRMATION_REQUEST = 0x33;
const USER_PASSKEY_REQUEST = 0x34;
const USER_PASSKEY_NOTIFICATION = 0x3b;
const PIN_CODE_REQUEST = 0x16;
const LINK_KEY_NOTIFICATION = 0x18;
const IO_CAPABILITY_REQUEST_REPLY = 0x042b;
const PIN_CODE_REQUEST_REPLY = 0x040d;

let ctl: Controller;
const PASSKEY_SHOWN = /passkey for \S+: (\d{6})/;
type Name = 'jw' | 'jwOff' | 'nc' | 'pkA' | 'pkB' | 'pin' | 'refused' | 'wrong';
let runs = {} as Record<Name, PairRun>;

test.before(async () => {
  ctl = new Controller('cli-pair');
  await ctl.ready();
  const started: Record<Name, Promise<PairRun>> = {
    jw: pairOnce(ctl, 'jw-sc', {}, {}),
    jwOff: pairOnce(ctl, 'jw-nosc', { flags: ['--sc', 'off'] }, { flags: ['--sc', 'off'] }),
    nc: pairOnce(ctl, 'nc', { flags: ['--io', 'display-yes-no', '--yes'] }, { flags: ['--io', 'display-yes-no', '--yes'] }),
    pkA: pairOnce(
      ctl,
      'pk-a-types',
      { flags: ['--io', 'keyboard-only'], types: { when: PASSKEY_SHOWN, line: (m) => m[1]! } },
      { flags: ['--io', 'display-only'] },
    ),
    pkB: pairOnce(
      ctl,
      'pk-b-types',
      { flags: ['--io', 'display-only', '--sc', 'off'] },
      { flags: ['--io', 'keyboard-only'], types: { when: PASSKEY_SHOWN, line: (m) => m[1]! } },
    ),
    pin: pairOnce(ctl, 'pin', { flags: ['--pin', '4711'] }, { flags: ['--ssp', 'off', '--pin', '4711'] }),
    refused: pairOnce(
      ctl,
      'nc-refused',
      { flags: ['--io', 'display-yes-no', '--yes'] },
      { flags: ['--io', 'display-yes-no'], types: { when: /confirm value/, line: () => 'n' } },
    ),
    wrong: pairOnce(
      ctl,
      'pk-wrong',
      {
        flags: ['--io', 'keyboard-only'],
        types: { when: PASSKEY_SHOWN, line: (m) => String((Number(m[1]) + 1) % 1_000_000).padStart(6, '0') },
      },
      { flags: ['--io', 'display-only'] },
    ),
  };
  // the checks below run tshark and btmon synchronously: only once no pairing waits for typed input
  const done = await Promise.all(
    Object.values(started).map((p) =>
      p.then((r) => {
        void decodeHci(r.la); // in the background, beside the other pairings and the clean() checks
        return r;
      }),
    ),
  );
  runs = Object.fromEntries(Object.keys(started).map((k, i) => [k, done[i]!])) as Record<Name, PairRun>;
  void decodeHci(runs.pkA.lb); // B's capture is asked about too
});

test.after(async () => {
  await ctl.close();
});

const keyFile = (addr: string) => path.join(KEYS_DIR, `bthost_${addr.replace(/:/g, '-')}.tlv`);

/** Event codes and command opcodes of a capture (tshark, decoded in the background). */
async function exchange(log: string): Promise<{ ev: number[]; cmd: number[] }> {
  const steps = await decodeHci(log);
  return {
    ev: steps.filter((s) => s.kind === 'e').map((s) => s.code),
    cmd: steps.filter((s) => s.kind === 'c').map((s) => s.code),
  };
}

test('every association model, SC on and off, two processes each, run side by side; captures clean and showing the exchange', async () => {
  const { jw, jwOff, nc, pkA, pkB, pin } = runs;
  const ok = async (r: PairRun, model: string, level: number, type: number) => {
    assert.is(r.a.status, 0, r.a.stderr);
    assert.is(r.b.status, 0, r.b.stderr);
    assert.match(
      r.a.stderr,
      new RegExp(`^bonded with ${r.addr_b}: ${model}, security level ${level}, link key type ${type} `, 'm'),
    );
    assert.match(r.b.stderr, new RegExp(`^bonded with ${r.addr_a}: ${model}, link key type ${type} `, 'm'));
    clean(r.la, r.lb);
    return exchange(r.la);
  };
  let x = await ok(jw, 'Just Works', 2, 7);
  assert.ok(
    x.ev.includes(IO_CAPABILITY_REQUEST) && x.ev.includes(USER_CONFIRMATION_REQUEST) && x.ev.includes(LINK_KEY_NOTIFICATION),
  );
  assert.ok(x.cmd.includes(IO_CAPABILITY_REQUEST_REPLY));
  assert.ok(fs.existsSync(keyFile(jw.addr_a)) && fs.existsSync(keyFile(jw.addr_b)), 'default per-controller key files');
  await ok(jwOff, 'Just Works', 2, 4);
  x = await ok(nc, 'Numeric Comparison', 4, 8);
  const va = /confirm value for \S+: (\d{6})/.exec(nc.a.stderr)![1];
  const vb = /confirm value for \S+: (\d{6})/.exec(nc.b.stderr)![1];
  assert.is(va, vb, 'both sides show the same number');
  assert.ok(x.ev.includes(USER_CONFIRMATION_REQUEST));
  x = await ok(pkA, 'Passkey Entry', 4, 8);
  assert.ok(x.ev.includes(USER_PASSKEY_REQUEST), 'A was asked for the passkey');
  assert.ok((await exchange(pkA.lb)).ev.includes(USER_PASSKEY_NOTIFICATION), 'B showed it');
  x = await ok(pkB, 'Passkey Entry', 3, 5);
  assert.ok(x.ev.includes(USER_PASSKEY_NOTIFICATION), 'A showed the passkey');
  x = await ok(pin, 'legacy PIN', 3, 0);
  assert.ok(x.ev.includes(PIN_CODE_REQUEST) && !x.ev.includes(IO_CAPABILITY_REQUEST), 'PIN, no SSP');
  assert.ok(x.cmd.includes(PIN_CODE_REQUEST_REPLY));
});

test('bad input: a refused confirmation, a wrong passkey: both processes exit 1 with one line', async () => {
  const { refused, wrong } = runs;
  for (const r of [refused, wrong]) {
    assert.is(r.a.status, 1, r.a.stderr);
    assert.is(r.b.status, 1, r.b.stderr);
    clean(r.la, r.lb);
  }
  assert.is(oneLineWhy(refused.b), `bthost: pairing with ${refused.addr_a} failed: confirmation refused`);
  assert.match(oneLineWhy(refused.a), /^bthost: pairing with \S+ failed: authentication failure \(0x05\)/);
  assert.match(oneLineWhy(wrong.a), /^bthost: pairing with \S+ failed: authentication failure \(0x05\)/);
  assert.match(oneLineWhy(wrong.b), /^bthost: pairing with \S+ failed: authentication failure \(0x05\)/);
});

test.run();
