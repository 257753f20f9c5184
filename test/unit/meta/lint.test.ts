/**
 * The lint rules (eslint.config.js, .prettierrc.json) fire: every fixture in test/fixtures/lint/
 * breaks one rule and is linted, through ESLint's Node API with the repository's config, as if it
 * were a file at a path under src/ (lintText with that filePath; the file need not exist), and the
 * test checks the rule id, the message a developer reads and the line. The clean fixtures pass. The
 * fixtures themselves stay out of `tsc`, `eslint .` and `prettier --check .`. Imports are placed in
 * their layer by path, so the fixtures do not depend on which files exist in src/ today.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import * as prettier from 'prettier';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/lint');

const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: path.join(ROOT, 'eslint.config.js') });

interface Found {
  rule: string | null;
  line: number;
  message: string;
}

/** The problems ESLint reports for fixture `name` placed at `at` (a path under the repository). */
async function lint(name: string, at: string): Promise<Found[]> {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, at) });
  return result!.messages.map((m) => ({ rule: m.ruleId, line: m.line, message: m.message }));
}

const zone = (imported: string, why: string): string => `Unexpected path "${imported}" imported in restricted zone. ${why}`;
const PORTS = 'src/ must not import ports/: ports (transports, mains, the CLI) build on the stack, never the reverse.';
const CONTROLLER =
  'The host must not import the virtual controller (src/controller): it reaches a controller only through an HciTransport.';
const ORDER = '(layers: core <- codes <- hci <- l2cap <- rfcomm | sdp | sm <- att <- gatt).';
const upward = (layer: string, allowed: string): string => `Upward import: src/${layer} may import only ${allowed} ${ORDER}`;
const timer = (name: string): string =>
  `${name} in src/: time and scheduling go through the run loop (set_timer/add_timer, execute_on_main_thread, get_time_ms); ` +
  "only src/core/run-loop.ts touches Node's timers and clock.";

const RESTRICTED = 'import/no-restricted-paths';

test('src/ -> ports/: import, export from and import() are each reported', async () => {
  assert.equal(await lint('src-imports-ports.ts', 'src/hci/fixture.ts'), [
    { rule: RESTRICTED, line: 4, message: zone('../../ports/virtual/transport.js', PORTS) },
    { rule: RESTRICTED, line: 6, message: zone('../../ports/serialport/main.js', PORTS) },
    { rule: RESTRICTED, line: 9, message: zone('../../ports/virtual/cli.js', PORTS) },
  ]);
});

// [fixture, linted as, the import, the layer, what that layer may import]
const UPWARD: [string, string, string, string, string][] = [
  ['core-imports-codes.ts', 'src/core/fixture.ts', '../codes/index.js', 'core', 'src/core'],
  ['codes-imports-hci.ts', 'src/codes/fixture.ts', '../hci/commands.js', 'codes', 'src/core, src/codes'],
  [
    'hci-imports-l2cap.ts',
    'src/hci/fixture.ts',
    '../l2cap/l2cap.js',
    'hci',
    'src/core, src/codes, src/hci, src/chipset/chipset.ts',
  ],
  ['l2cap-imports-rfcomm.ts', 'src/l2cap/fixture.ts', '../rfcomm/rfcomm.js', 'l2cap', 'src/core, src/codes, src/hci, src/l2cap'],
  ['l2cap-imports-sdp.ts', 'src/l2cap/fixture.ts', '../sdp/server.js', 'l2cap', 'src/core, src/codes, src/hci, src/l2cap'],
  ['l2cap-imports-stack.ts', 'src/l2cap/fixture.ts', '../stack.js', 'l2cap', 'src/core, src/codes, src/hci, src/l2cap'],
  [
    'rfcomm-imports-sdp.ts',
    'src/rfcomm/fixture.ts',
    '../sdp/spp.js',
    'rfcomm',
    'src/core, src/codes, src/hci, src/l2cap, src/rfcomm',
  ],
  [
    'sdp-imports-rfcomm.ts',
    'src/sdp/fixture.ts',
    '../rfcomm/rfcomm.js',
    'sdp',
    'src/core, src/codes, src/hci, src/l2cap, src/sdp',
  ],
  [
    'hci-imports-chipset-driver.ts',
    'src/hci/fixture.ts',
    '../chipset/bcm.js',
    'hci',
    'src/core, src/codes, src/hci, src/chipset/chipset.ts',
  ],
  [
    'chipset-imports-hci.ts',
    'src/chipset/fixture.ts',
    '../hci/hci.js',
    'chipset',
    'src/core, src/codes, src/chipset, src/hci/commands.ts',
  ],
  ['sm-imports-att.ts', 'src/sm/fixture.ts', '../att/att-db.js', 'sm', 'src/core, src/codes, src/hci, src/l2cap, src/sm'],
  [
    'att-imports-rfcomm.ts',
    'src/att/gatt/fixture.ts',
    '../../rfcomm/rfcomm.js',
    'att',
    'src/core, src/codes, src/hci, src/l2cap, src/sm, src/att',
  ],
  [
    'att-imports-gatt.ts',
    'src/att/fixture.ts',
    '../gatt/gatt-client.js',
    'att',
    'src/core, src/codes, src/hci, src/l2cap, src/sm, src/att',
  ],
  [
    'gatt-imports-rfcomm.ts',
    'src/gatt/fixture.ts',
    '../rfcomm/rfcomm.js',
    'gatt',
    'src/core, src/codes, src/hci, src/l2cap, src/sm, src/att, src/gatt',
  ],
  [
    'controller-imports-hci.ts',
    'src/controller/fixture.ts',
    '../hci/hci.js',
    'controller',
    'src/core, src/codes, src/controller, src/hci/commands.ts, src/hci/h4.ts',
  ],
];

for (const [fixture, at, imported, layer, allowed] of UPWARD) {
  test(`upward import: ${fixture} (as ${at})`, async () => {
    assert.equal(await lint(fixture, at), [{ rule: RESTRICTED, line: 4, message: zone(imported, upward(layer, allowed)) }]);
  });
}

test('upward import: the chipset contract (src/chipset/chipset.ts) imports only core', async () => {
  const found = await lint('chipset-imports-hci.ts', 'src/chipset/chipset.ts');
  assert.equal(found, [
    {
      rule: RESTRICTED,
      line: 4,
      message: zone('../hci/hci.js', upward('chipset/chipset.ts', 'src/core, src/chipset/chipset.ts')),
    },
  ]);
});

test('upward import: the stack (src/stack.ts) does not import the CLI', async () => {
  assert.equal(await lint('stack-imports-cli.ts', 'src/stack.ts'), [
    {
      rule: RESTRICTED,
      line: 4,
      message: zone(
        './cli/options.js',
        'Upward import: the stack (src/stack.ts, src/btstack.ts, src/index.ts) must not import the CLI.',
      ),
    },
  ]);
});

test('host -> virtual controller: a layer (hci) and the main entry (src/index.ts, export from) are reported once each', async () => {
  assert.equal(await lint('hci-imports-controller.ts', 'src/hci/fixture.ts'), [
    { rule: RESTRICTED, line: 4, message: zone('../controller/controller.js', CONTROLLER) },
  ]);
  assert.equal(await lint('index-imports-controller.ts', 'src/index.ts'), [
    { rule: RESTRICTED, line: 4, message: zone('./controller/index.js', CONTROLLER) },
  ]);
});

test('an import of a file that does not exist is placed by its path all the same', async () => {
  const why = upward('hci', 'src/core, src/codes, src/hci, src/chipset/chipset.ts');
  assert.equal(await lint('missing-file.ts', 'src/hci/fixture.ts'), [
    { rule: RESTRICTED, line: 4, message: zone('../l2cap/not-written-yet.js', why) },
  ]);
});

test('setTimeout, setInterval, setImmediate, Date.now in src/ are reported', async () => {
  const global = (name: string): string => `Unexpected use of '${name}'. ${timer(name)}`;
  assert.equal(await lint('set-timeout.ts', 'src/l2cap/fixture.ts'), [
    { rule: 'no-restricted-globals', line: 5, message: global('setTimeout') },
  ]);
  assert.equal(await lint('set-interval.ts', 'src/rfcomm/fixture.ts'), [
    { rule: 'no-restricted-globals', line: 5, message: global('setInterval') },
  ]);
  assert.equal(await lint('set-immediate.ts', 'src/sdp/fixture.ts'), [
    { rule: 'no-restricted-globals', line: 5, message: global('setImmediate') },
  ]);
  assert.equal(await lint('date-now.ts', 'src/hci/fixture.ts'), [
    { rule: 'no-restricted-properties', line: 5, message: `'Date.now' is restricted from being used. ${timer('Date.now')}` },
  ]);
});

test('timers through globalThis and node:timers are reported too', async () => {
  assert.equal(await lint('timers-other-ways.ts', 'src/hci/fixture.ts'), [
    {
      rule: 'no-restricted-imports',
      line: 4,
      message: `'node:timers' import is restricted from being used. ${timer("'node:timers'")}`,
    },
    {
      rule: 'no-restricted-properties',
      line: 7,
      message: `'globalThis.setTimeout' is restricted from being used. ${timer('globalThis.setTimeout')}`,
    },
  ]);
});

test('src/core/run-loop.ts may use Node timers; ports/ and test/ are not held to src/ rules', async () => {
  for (const fixture of ['set-timeout.ts', 'set-interval.ts', 'date-now.ts', 'timers-other-ways.ts']) {
    assert.equal(await lint(fixture, 'src/core/run-loop.ts'), [], fixture);
    assert.equal(await lint(fixture, 'ports/virtual/fixture.ts'), [], fixture);
  }
  assert.equal(await lint('src-imports-ports.ts', 'ports/fixture.ts'), []);
});

test('clean fixtures: allowed imports (l2cap down to core, the controller to the codecs, hci to the chipset contract) pass', async () => {
  assert.equal(await lint('clean-l2cap.ts', 'src/l2cap/fixture.ts'), []);
  assert.equal(await lint('clean-controller.ts', 'src/controller/fixture.ts'), []);
  assert.equal(await lint('clean-hci.ts', 'src/hci/fixture.ts'), []);
});

test('a hand-written file over 600 lines is reported (src/, ports/, test/ alike); 600 pass; the generated code tables are exempt', async () => {
  const lines = (n: number): string => Array.from({ length: n }, (_, i) => `export const c${i} = ${i};\n`).join('');
  const at = async (text: string, file: string): Promise<Array<[string | null, number]>> => {
    const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, file) });
    return result!.messages.map((m) => [m.ruleId, m.line]);
  };
  for (const file of ['src/l2cap/fixture.ts', 'ports/fixture.ts', 'test/unit/fixture.test.ts'])
    assert.equal(await at(lines(601), file), [['max-lines', 601]], file);
  assert.equal(await at(lines(600), 'src/l2cap/fixture.ts'), []);
  assert.equal(await at(lines(601), 'src/codes/v1.8-object.ts'), []);
});

test('in src/ an eslint-disable comment cannot switch a rule off', async () => {
  const text = '/* eslint-disable */\nexport const t = Date.now();\n';
  const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, 'src/hci/fixture.ts') });
  assert.equal(
    result!.messages.map((m) => [m.ruleId, m.line]),
    [
      [null, 1],
      ['no-restricted-properties', 2],
    ],
  );
});

/** Whether Prettier, with the repository's options for `at`, accepts the fixture as formatted. */
async function formatted(name: string, at: string): Promise<boolean> {
  const file = path.join(ROOT, at);
  const options = await prettier.resolveConfig(file, { editorconfig: true });
  assert.ok(options, 'a Prettier config applies to ' + at);
  return prettier.check(fs.readFileSync(path.join(FIXTURES, name), 'utf8'), { ...options, filepath: file });
}

test('Prettier: an unformatted file fails the check, the clean fixtures pass it', async () => {
  assert.is(await formatted('unformatted.ts', 'src/core/fixture.ts'), false);
  for (const [name, at] of [
    ['clean-l2cap.ts', 'src/l2cap/fixture.ts'],
    ['clean-controller.ts', 'src/controller/fixture.ts'],
    ['clean-hci.ts', 'src/hci/fixture.ts'],
  ]) {
    assert.is(await formatted(name!, at!), true, name);
  }
  const options = await prettier.resolveConfig(path.join(ROOT, 'src/core/fixture.ts'));
  assert.equal(
    await prettier.format('export const a = {b: "c"}', { ...options, filepath: 'x.ts' }),
    "export const a = { b: 'c' };\n",
  );
});

test('every directory of src/ is placed in a layer (but the CLI, which moves to ports/)', async () => {
  const { LAYERS } = (await import(pathToFileURL(path.join(ROOT, 'eslint.config.js')).href)) as {
    LAYERS: Record<string, string[]>;
  };
  const dirs = fs
    .readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'cli')
    .map((d) => d.name);
  assert.equal(
    dirs.filter((d) => !(d in LAYERS)),
    [],
    'add the new directory to LAYERS in eslint.config.js',
  );
});

test('what the real runs see: fixtures and generated code are left out, src/ is in', async () => {
  assert.ok(await eslint.isPathIgnored(path.join(FIXTURES, 'set-timeout.ts')), 'eslint . skips the fixtures');
  assert.not.ok(await eslint.isPathIgnored(path.join(ROOT, 'src/hci/hci.ts')));
  const ignorePath = [path.join(ROOT, '.gitignore'), path.join(ROOT, '.prettierignore')];
  const ignored = async (p: string): Promise<boolean> => (await prettier.getFileInfo(path.join(ROOT, p), { ignorePath })).ignored;
  assert.ok(await ignored('test/fixtures/lint/unformatted.ts'));
  assert.ok(await ignored('src/codes/v1.4.ts'));
  assert.ok(await ignored('src/codes/v1.8.ts'));
  assert.ok(await ignored('dist/index.js'));
  assert.not.ok(await ignored('src/hci/hci.ts'));
  assert.not.ok(await ignored('src/codes/runtime.ts'));
  const tsconfig = fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8');
  assert.match(tsconfig, /"exclude": \[[^\]]*"test\/fixtures\/lint"/, 'tsc skips the fixtures');
});

test.run();
