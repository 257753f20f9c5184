/**
 * `bthost pair --le` end to end (issue 15's first done-when line): two bthost processes on two
 * ptys of one `bthost controller` pair over LE, A as central / initiator (`pair ADDR --le`), B as
 * peripheral / responder (`pair --le --listen`), with each association model of LE Secure
 * Connections and of LE legacy pairing (Vol 3 Part H 2.3.5.1): Just Works (no-io), Numeric
 * Comparison (display-yes-no both, --yes; both print the same value), Passkey Entry with the
 * central typing and with the peripheral typing (the passkey one process prints is typed into
 * the other's stdin); and a wrong passkey (both exit 1 with the SMP reason). Checked: the printed
 * outcome (model, SC / legacy, security level, key size, key file), the bond in each side's key
 * file (opened again after the processes exit: the same LTK on both sides; legacy: the LTK each
 * side distributed is the one the other stored), and both btsnoop captures clean in tshark and
 * btmon with the SMP exchange decoded by tshark's btsmp (opcodes in order, flags of the
 * Pairing Request). All pairings run side by side in before().
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sscanf_bd_addr } from '../../src/core/bytes.js';
import { tsharkFields } from '../helpers/capture.js';
import { open_key_store } from '../../ports/cli/keys.js';
import { tmp } from './cli-helpers.js';
import { clean, Controller, oneLineWhy, pairOnce, type PairRun } from './cli-pair-helpers.js';

const KEYS_DIR = path.join(tmp, 'keys-le');
process.env['BTHOST_KEYS_DIR'] = KEYS_DIR;

const PASSKEY_SHOWN = /passkey for \S+: (\d{6})/;
const types = { when: PASSKEY_SHOWN, line: (m: RegExpMatchArray) => m[1]! };

interface Case {
  a: string[];
  b: string[];
  /** Who types the passkey the other prints. */
  typer?: 'a' | 'b';
  model: string;
  sc: boolean;
  level: number;
}

const LEGACY = ['--legacy'];
const CASES: Record<string, Case> = {
  scJw: { a: [], b: [], model: 'Just Works', sc: true, level: 2 },
  scNc: {
    a: ['--io', 'display-yes-no', '--yes'],
    b: ['--io', 'display-yes-no', '--yes'],
    model: 'Numeric Comparison',
    sc: true,
    level: 4,
  },
  scPkA: { a: ['--io', 'keyboard-only'], b: ['--io', 'display-only'], typer: 'a', model: 'Passkey Entry', sc: true, level: 4 },
  scPkB: { a: ['--io', 'display-only'], b: ['--io', 'keyboard-only'], typer: 'b', model: 'Passkey Entry', sc: true, level: 4 },
  lgJw: { a: LEGACY, b: ['--sc', 'off'], model: 'Just Works', sc: false, level: 2 },
  lgPkA: {
    a: [...LEGACY, '--io', 'keyboard-only'],
    b: [...LEGACY, '--io', 'display-only'],
    typer: 'a',
    model: 'Passkey Entry',
    sc: false,
    level: 3,
  },
  lgPkB: {
    a: [...LEGACY, '--io', 'display-only'],
    b: [...LEGACY, '--io', 'keyboard-only'],
    typer: 'b',
    model: 'Passkey Entry',
    sc: false,
    level: 3,
  },
};

let ctl: Controller;
const runs: Record<string, PairRun> = {};
let wrong: PairRun;

test.before(async () => {
  ctl = new Controller('cli-pair-le');
  await ctl.ready();
  const started = Object.entries(CASES).map(async ([name, k]) => {
    runs[name] = await pairOnce(
      ctl,
      `le-${name}`,
      { flags: ['--le', ...k.a], ...(k.typer === 'a' ? { types } : {}) },
      { flags: ['--le', ...k.b], ...(k.typer === 'b' ? { types } : {}) },
    );
  });
  started.push(
    (async () => {
      wrong = await pairOnce(
        ctl,
        'le-wrong',
        {
          flags: ['--le', '--io', 'keyboard-only'],
          types: { when: PASSKEY_SHOWN, line: (m) => String((Number(m[1]) + 1) % 1_000_000).padStart(6, '0') },
        },
        { flags: ['--le', '--io', 'display-only'] },
      );
    })(),
  );
  await Promise.all(started);
});

test.after(async () => {
  await ctl.close();
});

const keyFile = (addr: string) => path.join(KEYS_DIR, `bthost_${addr.replace(/:/g, '-')}.tlv`);
const hexs = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('hex') : 'none');

/** The bond `owner` keeps for `peer` in its key file. */
function bond(owner: string, peer: string) {
  const db = open_key_store(keyFile(owner)).le_devices;
  const i = db.le_device_db_lookup(0, sscanf_bd_addr(peer)!);
  assert.ok(i >= 0, `${owner} has a bond for ${peer} in its key file`);
  return { remote: db.le_device_db_encryption_get(i), local: db.le_device_db_local_encryption_get(i) };
}

/** SMP PDUs of a capture in order (tshark's btsmp): opcode, then SC / Bonding / MITM flags (Pairing Request / Response). */
const smp = (log: string): string[][] =>
  tsharkFields(log, ['btsmp.opcode', 'btsmp.sc_flag', 'btsmp.bonding_flags', 'btsmp.mitm_flag'], 'btsmp');
const smpOpcodes = (rows: string[][]): number[] => rows.map((r) => parseInt(r[0]!, 16));

for (const [name, k] of Object.entries(CASES)) {
  test(`${k.sc ? 'LE Secure Connections' : 'LE legacy'} ${k.model}${k.typer ? ` (${k.typer === 'a' ? 'central' : 'peripheral'} types)` : ''}: both bonded, keys in both files, captures clean with SMP`, () => {
    const r = runs[name]!;
    assert.is(r.a.status, 0, r.a.stderr);
    assert.is(r.b.status, 0, r.b.stderr);
    const how = `${k.model}, ${k.sc ? 'LE Secure Connections' : 'LE legacy pairing'}, security level ${k.level}, key size 16`;
    assert.match(r.a.stderr, new RegExp(`^bonded with ${r.addr_b}: ${how}, stored in ${keyFile(r.addr_a)}$`, 'm'));
    assert.match(r.b.stderr, new RegExp(`^bonded with ${r.addr_a}: ${how}, stored in ${keyFile(r.addr_b)}$`, 'm'));
    if (k.model === 'Numeric Comparison') {
      const va = /confirm value for \S+: (\d{6})/.exec(r.a.stderr)![1];
      const vb = /confirm value for \S+: (\d{6})/.exec(r.b.stderr)![1];
      assert.is(va, vb, 'both sides show the same number');
    }
    const ba = bond(r.addr_a, r.addr_b);
    const bb = bond(r.addr_b, r.addr_a);
    assert.ok(ba.remote && bb.remote);
    assert.is(ba.remote.secure_connection, k.sc);
    assert.is(ba.remote.authenticated, k.level > 2);
    if (k.sc) {
      assert.is(hexs(ba.remote.ltk), hexs(bb.remote.ltk), 'the same LTK (f5) on both sides');
    } else {
      assert.is(hexs(ba.remote.ltk), hexs(bb.local?.ltk), 'A stored the LTK B distributed');
      assert.is(hexs(bb.remote.ltk), hexs(ba.local?.ltk), 'B stored the LTK A distributed');
      assert.is(ba.remote.ediv, bb.local!.ediv);
    }
    clean(r.la, r.lb);
    const rows = smp(r.la);
    const ops = smpOpcodes(rows);
    assert.equal(ops.slice(0, 2), [0x01, 0x02], 'Pairing Request, Pairing Response');
    if (k.sc) assert.ok(ops.includes(0x0c) && ops.includes(0x0d), 'Public Key and DHKey Check');
    else
      assert.ok(
        ops.includes(0x03) && ops.includes(0x06) && ops.includes(0x07),
        'confirm, Encryption Information, Central Identification',
      );
    assert.ok(ops.includes(0x08) && ops.includes(0x09), 'identity distributed');
    assert.equal(smpOpcodes(smp(r.lb)), ops, 'both captures carry the same exchange');
    assert.equal(rows[0]!.slice(1), [k.sc ? '1' : '0', '0x01', k.level > 2 ? '1' : '0'], 'Pairing Request: SC, Bonding, MITM');
  });
}

test('a wrong passkey: both exit 1 naming the SMP reason, nothing stored, captures clean', () => {
  const r = wrong;
  assert.is(r.a.status, 1, r.a.stderr);
  assert.is(r.b.status, 1, r.b.stderr);
  assert.match(oneLineWhy(r.a), /^bthost: pairing with \S+ failed: confirm value failed \(wrong passkey\?\) \(0x04\)$/);
  assert.match(oneLineWhy(r.b), /^bthost: pairing with \S+ failed: confirm value failed \(wrong passkey\?\) \(0x04\)$/);
  for (const [owner, peer] of [
    [r.addr_a, r.addr_b],
    [r.addr_b, r.addr_a],
  ] as const) {
    if (!fs.existsSync(keyFile(owner))) continue;
    assert.is(open_key_store(keyFile(owner)).le_devices.le_device_db_lookup(0, sscanf_bd_addr(peer)!), -1);
  }
  clean(r.la, r.lb);
  assert.ok(smpOpcodes(smp(r.la)).includes(0x05), 'Pairing Failed on the air');
});

test.run();
