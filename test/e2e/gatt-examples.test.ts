/**
 * The GATT client across processes, each on its own socat pty of one `bthost controller` Unix
 * socket (a further process):
 *   - examples/gatt-browser scans, finds examples/le-counter (--once) advertising, connects, lists
 *     its services and characteristics and disconnects; both exit 0; captures clean.
 *   - `bthost advertise --connectable --name NAME` meets `bthost gatt ADDR` (browse, then --read of
 *     the Device Name); advertise prints each central, stops at SIGINT with exit 0.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCleanGattCapture } from './gatt-helpers.js';
import { haveSocat, type Proc, tsx, until, radio } from './proc-helpers.js';

function stop(procs: Proc[]): void {
  for (const p of procs.reverse()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
}

test('gatt-browser finds le-counter by scanning, lists services and characteristics; separate processes on ptys', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), 'bthost-gatt-examples-'));
  const procs: Proc[] = [];
  try {
    const [t0, t1] = await radio(dir, procs, ['node0', 'node1']);
    const counterLog = join(dir, 'le-counter.btsnoop');
    const browserLog = join(dir, 'gatt-browser.btsnoop');
    const counter = tsx('examples/le-counter.ts', ['-u', t0!, '--no-flow', '-l', counterLog, '--once']);
    procs.push(counter);
    await until(() => /up and running at ([0-9A-F:]{17})/.test(counter.out), 30_000, 'le-counter up');
    const addr = /up and running at ([0-9A-F:]{17})/.exec(counter.out)![1]!;
    const browser = tsx('examples/gatt-browser.ts', ['-u', t1!, '--no-flow', '-l', browserLog, '--profile', 'v1.8']);
    procs.push(browser);
    const [bs, cs] = await Promise.all([browser.exit, counter.exit]);
    assert.is(bs, 0, `gatt-browser exit code\n${browser.out.slice(-3000)}`);
    assert.is(cs, 0, `le-counter exit code\n${counter.out.slice(-3000)}`);
    assert.match(browser.out, new RegExp(`Connecting to ${addr} \\(public\\)`));
    const listing = browser.out.split('\n').filter((l) => /^(service| {2}characteristic) /.test(l));
    assert.equal(listing, [
      'service 1800 [0x0001-0x0003]',
      '  characteristic 2a00 [0x0002-0x0003-0x0003], properties 0x02',
      'service 180f [0x0004-0x0007]',
      '  characteristic 2a19 [0x0005-0x0006-0x0007], properties 0x12',
      'service 1801 [0x0008-0x000a]',
      '  characteristic 2b2a [0x0009-0x000a-0x000a], properties 0x02',
      'service ff10 [0x000b-0x0010]',
      '  characteristic ff11 [0x000c-0x000d-0x000e], properties 0x16',
      '  characteristic ff12 [0x000f-0x0010-0x0010], properties 0x02',
    ]);
    // v1.8 layouts printed by name: service_id and connection_id 0
    assert.match(browser.out, /GATT_EVENT_QUERY_COMPLETE handle=\d+ service_id=0 connection_id=0 att_status=0/);
    assert.match(browser.out, /GATT browser - DISCONNECTED/);
    assertCleanGattCapture(browserLog);
    assertCleanGattCapture(counterLog);
  } finally {
    stop(procs);
  }
});

test('bthost advertise --connectable meets bthost gatt ADDR (browse, --read) on ptys; SIGINT ends advertise with 0', async () => {
  assert.ok(haveSocat, 'socat is installed');
  const dir = mkdtempSync(join(tmpdir(), 'bthost-gatt-cli-pty-'));
  const procs: Proc[] = [];
  try {
    const [t0, t1] = await radio(dir, procs, ['node0', 'node1']);
    const advLog = join(dir, 'advertise.btsnoop');
    const adv = tsx('ports/cli/cli.ts', [
      'advertise',
      '--name',
      'Pty Thing',
      '--connectable',
      '-u',
      t0!,
      '--no-flow',
      '-l',
      advLog,
    ]);
    procs.push(adv);
    await until(() => /advertising as "Pty Thing" at ([0-9A-F:]{17}) \(connectable\)/.test(adv.out), 30_000, 'advertising');
    const addr = /at ([0-9A-F:]{17})/.exec(adv.out)![1]!;
    const browse = tsx('ports/cli/cli.ts', ['gatt', addr, '-u', t1!, '--no-flow']);
    procs.push(browse);
    assert.is(await browse.exit, 0, browse.out);
    assert.match(
      browse.out,
      /service 0x0001-0x0003 1800 \(Generic Access\)\n {2}characteristic 0x0003 2a00 \(Device Name\) \[read\]\n1 services/,
    );
    const readLog = join(dir, 'read.btsnoop');
    const read = tsx('ports/cli/cli.ts', ['gatt', addr, '--read', '3', '-u', t1!, '--no-flow', '-l', readLog]);
    procs.push(read);
    assert.is(await read.exit, 0, read.out);
    assert.match(read.out, /^0x0003: 507479205468696e67 "Pty Thing"$/m);
    await until(() => (adv.out.match(/connected: [0-9A-F:]{17} \(public\)/g) ?? []).length === 2, 10_000, 'two centrals seen');
    await until(() => (adv.out.match(/disconnected/g) ?? []).length === 2, 10_000, 'both left');
    adv.child.kill('SIGINT');
    assert.is(await adv.exit, 0, adv.out);
    assert.match(adv.out, /advertising stopped, 2 connections/);
    assertCleanGattCapture(advLog);
    assertCleanGattCapture(readLog);
  } finally {
    stop(procs);
  }
});

test.run();
