/**
 * `bthost pair` and `--security` without a serial port: the in-process virtual peer
 * (C0:FF:EE:00:00:02) is a new device in every process, so a key kept in a --keys file is stale
 * the next time: `spp connect` / `l2cap connect` at --security 2 get Authentication Complete 0x06
 * PIN or Key Missing, delete the key and exit 1 with one line saying so; the next run pairs anew
 * and the data is echoed. Nobody at the address: exit 1 with one line. Usage errors of the pairing
 * flags and commands: exit 2 with one line. Every run's capture clean in tshark and btmon.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { bthostAsync, PEER, tmp } from './cli-helpers.js';
import { assertCleanCapture, tsharkFields } from '../helpers/capture.js';
import { list_keys, open_key_file } from '../../ports/cli/keys.js';
import { bd_addr_to_str } from '../../src/core/bytes.js';

const KEYS = path.join(tmp, 'virtual-keys.tlv');
const keysIn = () => list_keys(open_key_file(KEYS)).map((k) => `${bd_addr_to_str(k.bd_addr)} type ${k.type}`);
const STALE = `bthost: security level 2 not reached with ${PEER}: PIN or key missing (0x06) (the peer lost its key; ours is deleted too: connect again to pair anew)`;

/** Lines on stderr starting `bthost: ` (failure lines). */
const why = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('bthost: '));

test('pair with the virtual peer: exit 0, the key in --keys; later runs meet a peer without it: 0x06, key deleted, one line; then pairing anew', async () => {
  const logs = ['pair', 'spp-stale', 'spp-anew', 'l2cap-stale'].map((t) => path.join(tmp, `virtual-${t}.btsnoop`));
  const pair = await bthostAsync(['pair', PEER, '--keys', KEYS, '--log', logs[0]!]);
  assert.is(pair.status, 0, pair.stderr);
  assert.match(
    pair.stderr,
    `bonded with ${PEER}: Just Works, security level 2, link key type 7 (unauthenticated, P-256), stored in ${KEYS}\n`,
  );
  assert.equal(keysIn(), [`${PEER} type 7`]);

  const log = logs[1]!;
  const stale = await bthostAsync(['spp', 'connect', PEER, '--keys', KEYS, '--security', '2', '--log', log], 'lost\n');
  assert.is(stale.status, 1, stale.stderr);
  assert.equal(why(stale.stderr), [STALE]);
  assert.is(stale.stdout, '');
  assert.equal(keysIn(), [], 'the stale key is gone from the file');
  assert.equal(
    tsharkFields(log, ['bthci_evt.status'], 'bthci_evt.code == 0x06').map((r) => r[0]),
    ['0x06'],
    'Authentication Complete: PIN or Key Missing',
  );
  assert.equal(tsharkFields(log, ['frame.number'], 'bthci_cmd.opcode == 0x040b').length, 1, 'our key was offered');

  const anew = await bthostAsync(['spp', 'connect', PEER, '--keys', KEYS, '--security', '2', '--log', logs[2]!], 'paired anew\n');
  assert.is(anew.status, 0, anew.stderr);
  assert.is(anew.stdout, 'paired anew\n', 'echoed by the peer');
  assert.equal(keysIn(), [`${PEER} type 7`]);

  const l2 = await bthostAsync(
    ['l2cap', 'connect', PEER, '0x1001', '--keys', KEYS, '--security', '2', '--log', logs[3]!],
    'lost\n',
  );
  assert.is(l2.status, 1, l2.stderr);
  assert.equal(why(l2.stderr), [STALE]);
  assert.equal(keysIn(), []);
  for (const l of logs) assertCleanCapture(l);
});

test('pair with nobody at the address: exit 1 with one line', async () => {
  const log = path.join(tmp, 'virtual-nobody.btsnoop');
  const r = await bthostAsync(['pair', '11:22:33:44:55:66', '--page-timeout', '300', '--log', log]);
  assert.is(r.status, 1);
  assert.equal(why(r.stderr), [
    'bthost: no device answered at 11:22:33:44:55:66 (page timeout): is the address right, the device on, in range and connectable?',
  ]);
  assertCleanCapture(log);
});

test('usage errors of pair and the pairing flags: exit 2 with one line each', async () => {
  const cases: [string[], string][] = [
    [['pair'], 'bthost pair: missing address (XX:XX:XX:XX:XX:XX)'],
    [['pair', '--listen', PEER], `bthost pair: --listen takes no address, got '${PEER}'`],
    [['pair', PEER, '--level', '5'], "bthost pair: --level: expected 1..4, got '5'"],
    [['pair', PEER, '--page-timeout', 'soon'], 'bthost pair: --page-timeout: expected 1..40000 ms'],
    [
      ['pair', PEER, '--io', 'bogus'],
      "bthost pair: --io: expected display-only, display-yes-no, keyboard-only, no-io, got 'bogus'",
    ],
    [['pair', PEER, '--pin', '12345678901234567'], "bthost pair: --pin: a PIN has 1 to 16 characters, got '12345678901234567'"],
    [['pair', PEER, '--sc', 'maybe'], "bthost pair: --sc: expected on or off, got 'maybe'"],
    [['l2cap', 'listen', '0x1001', '--security', '5'], "bthost l2cap: --security: expected a level 0..4, got '5'"],
    [['spp', 'connect', PEER, '--security', 'high'], "bthost spp: --security: expected a level 0..4, got 'high'"],
  ];
  const runs = await Promise.all(cases.map(([args]) => bthostAsync(args)));
  runs.forEach((r, i) => {
    const [args, line] = cases[i]!;
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stdout, '');
    assert.is(r.stderr, `${line} (bthost ${args[0]} --help for usage)\n`, args.join(' '));
  });
});

test.run();
