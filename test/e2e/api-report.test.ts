/**
 * The public/internal boundary of the published package (issue 12 item 3):
 * - the built declarations (dist/*.d.ts and *.d.cts, chunks included) carry no member tagged
 *   @internal, and none of the stack's known internals (HCI's command credits, L2CAP's
 *   round-robin indexes and lookups) as a public member;
 * - the API report committed in docs/api-report/ is what the built declarations declare (CI fails
 *   on an unreviewed change of the public surface: `npm run api`), and the check does fail when a
 *   declaration is added without updating the report.
 * Uses the repository's dist/ when fresh, else builds into a temporary directory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, builtDist, declarationFiles } from './package-helpers.js';
import { api_entries, api_report } from '../../tools/api-report.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-api-report-test-'));
let dist = '';

test.before(() => {
  dist = builtDist(path.join(tmp, 'dist'));
});

/** Internals that earlier builds published (public members of Hci, L2cap, RunLoop, Gap). */
const KNOWN_INTERNALS = [
  'cmdCredits',
  'outstanding',
  'pendingRejects',
  'pendingDisconnects',
  'event_out',
  'rrIndex',
  'rrSignal',
  'channelForCid',
  'serviceFor',
  'sduViews',
];

test('dist/*.d.ts: no @internal member, no known internal as a public member', () => {
  const files = declarationFiles(dist);
  assert.ok(
    files.some((f) => f.endsWith('/index.d.ts')) && files.some((f) => f.endsWith('/index.d.cts')),
    'index.d.ts and index.d.cts built',
  );
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    assert.not.match(text, /@internal\b/, `${path.basename(file)} has an @internal member`);
    for (const name of KNOWN_INTERNALS) {
      // a class or interface member: indented, optionally readonly, not private/protected
      const member = new RegExp(`^\\s+(?:readonly\\s+)?${name}\\s*[(:?<]`, 'm');
      assert.not.match(text, member, `${path.basename(file)} declares ${name} as public`);
    }
  }
  // the public API is still there
  const index = fs.readFileSync(path.join(dist, 'index.d.ts'), 'utf8');
  assert.match(index, /\bStack\b/);
  assert.ok(
    files.map((f) => fs.readFileSync(f, 'utf8')).some((t) => /^\s+l2cap_create_channel\(/m.test(t)),
    'L2cap.l2cap_create_channel is declared',
  );
});

test('docs/api-report/: one committed report per entry point, matching the built declarations (npm run api)', () => {
  const entries = api_entries();
  assert.equal(
    entries.map((e) => e.subpath),
    ['bthost', 'bthost/v1.4', 'bthost/v1.8', 'bthost/serialport', 'bthost/virtual', 'bthost/port'],
  );
  for (const e of entries)
    assert.ok(fs.existsSync(path.join(ROOT, 'docs/api-report', `${e.name}.api.md`)), `${e.name}.api.md committed`);
  const index = fs.readFileSync(path.join(ROOT, 'docs/api-report/bthost.api.md'), 'utf8');
  assert.match(index, /^export class Stack /m);
  assert.not.match(index, /\b(cmdCredits|rrSignal)\b/);
  assert.not.match(index, /\bRadioLink\b/, 'the virtual controller is bthost/virtual, not bthost');
  const r = api_report({ dist, quiet: true });
  assert.ok(r.ok, `npm run api fails on this build:\n${r.problems.join('\n')}`);
  assert.equal(r.changed, []);
});

test('the check fails, showing the diff, when the built surface gains a declaration the report lacks', () => {
  const changed = path.join(tmp, 'changed-dist');
  fs.cpSync(dist, changed, { recursive: true, dereference: true });
  fs.appendFileSync(path.join(changed, 'index.d.ts'), '\nexport declare function api_report_probe(handle: number): void;\n');
  const reports = path.join(tmp, 'reports');
  fs.cpSync(path.join(ROOT, 'docs/api-report'), reports, { recursive: true });
  const r = api_report({ dist: changed, reports, quiet: true, only: ['bthost'] });
  assert.is(r.ok, false);
  assert.equal(r.changed, ['bthost.api.md']);
  assert.match(r.problems.join('\n'), /\+export function api_report_probe\(handle: number\): void;/);
  // the committed copy was not touched by the check
  assert.is(
    fs.readFileSync(path.join(reports, 'bthost.api.md'), 'utf8'),
    fs.readFileSync(path.join(ROOT, 'docs/api-report/bthost.api.md'), 'utf8'),
  );
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
