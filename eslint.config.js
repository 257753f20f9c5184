// ESLint (flat config): the layering of src/, the run loop's monopoly on time and the 600-line
// limit, as rules.
// docs/ARCHITECTURE.md "Layering and lint" explains them; test/unit/meta/lint.test.ts shows each
// one firing on a fixture (test/fixtures/lint/). Formatting is Prettier's (.prettierrc.json), not
// ESLint's. `npm run lint` = ESLint + `prettier --check`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

// Host layers, bottom to top: core <- codes <- hci <- l2cap <- rfcomm | sdp | sm <- att <- gatt. A layer
// imports only the layers below it and itself (rfcomm, sdp and sm are siblings: none imports another;
// att sits on sm, whose crypto it uses; gatt, the GATT client, on att, whose PDU codec it uses). Every
// directory of src/ but the CLI (which moves to ports/) has an entry here: test/unit/meta/lint.test.ts checks that a new one gets placed. Beside
// them: the chipset contract (src/chipset/chipset.ts) sits with core (hci calls it), the chipset
// drivers sit above hci's command codec (they build vendor HCI commands); the virtual controller is
// the other end of the wire: it shares only the codecs (hci/commands.ts, hci/h4.ts) with the host.
// src/stack.ts, src/btstack.ts and src/index.ts assemble the host: every layer, not the controller.
// Keys and values are paths under src/.
export const LAYERS = {
  core: ['core'],
  codes: ['core', 'codes'],
  'chipset/chipset.ts': ['core', 'chipset/chipset.ts'],
  chipset: ['core', 'codes', 'chipset', 'hci/commands.ts'],
  hci: ['core', 'codes', 'hci', 'chipset/chipset.ts'],
  l2cap: ['core', 'codes', 'hci', 'l2cap'],
  rfcomm: ['core', 'codes', 'hci', 'l2cap', 'rfcomm'],
  sdp: ['core', 'codes', 'hci', 'l2cap', 'sdp'],
  sm: ['core', 'codes', 'hci', 'l2cap', 'sm'],
  att: ['core', 'codes', 'hci', 'l2cap', 'sm', 'att'],
  gatt: ['core', 'codes', 'hci', 'l2cap', 'sm', 'att', 'gatt'],
  controller: ['core', 'codes', 'controller', 'hci/commands.ts', 'hci/h4.ts'],
};
const LAYER_ORDER = 'layers: core <- codes <- hci <- l2cap <- rfcomm | sdp | sm <- att <- gatt';
// The host: everything in src/ but the controller itself and the CLI (which moves to ports/).
const HOST = [
  'core',
  'codes',
  'chipset',
  'hci',
  'l2cap',
  'rfcomm',
  'sdp',
  'sm',
  'att',
  'gatt',
  'stack.ts',
  'btstack.ts',
  'index.ts',
];
const TOP = ['stack.ts', 'btstack.ts', 'index.ts'];

const src = (p) => `./src/${p}`;

const zones = [
  {
    target: './src',
    from: './ports',
    message: 'src/ must not import ports/: ports (transports, mains, the CLI) build on the stack, never the reverse.',
  },
  {
    target: HOST.map(src),
    from: './src/controller',
    message:
      'The host must not import the virtual controller (src/controller): it reaches a controller only through an HciTransport.',
  },
  ...Object.entries(LAYERS).map(([layer, allowed]) => ({
    // the chipset drivers: src/chipset but its contract, which has a zone of its own
    target: layer === 'chipset' ? src('chipset/!(chipset.ts)') : src(layer),
    from: './src',
    // the controller has its own zone above (one report per import)
    except: [...allowed, ...(layer === 'controller' ? [] : ['controller'])].map((p) => `./${p}`),
    message: `Upward import: src/${layer} may import only ${allowed.map((p) => `src/${p}`).join(', ')} (${LAYER_ORDER}).`,
  })),
  {
    target: TOP.map(src),
    from: ['./src/cli', './src/cli.ts'],
    message: 'Upward import: the stack (src/stack.ts, src/btstack.ts, src/index.ts) must not import the CLI.',
  },
];

const TIMER_MESSAGE = (name) =>
  `${name} in src/: time and scheduling go through the run loop (set_timer/add_timer, execute_on_main_thread, get_time_ms); only src/core/run-loop.ts touches Node's timers and clock.`;
const TIMER_GLOBALS = ['setTimeout', 'setInterval', 'setImmediate'];
const TIMER_MODULES = ['timers', 'node:timers', 'timers/promises', 'node:timers/promises'];
// the package's own name resolves to no file here (tsconfig "paths" map it for examples): inside
// src/ it would hide an import from the zones, so src/ imports its modules by relative path only
const SELF_IMPORT = {
  group: ['bthost', 'bthost/*'],
  message: 'src/ imports its own modules by relative path, never through the package name (the layering rules could not see it).',
};

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'docs/api/**',
      'bench/results/**',
      '**/node_modules/**',
      // deliberate violations, linted by test/unit/meta/lint.test.ts at virtual paths under src/
      'test/fixtures/lint/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    languageOptions: { parser: tseslint.parser, sourceType: 'module' },
    // typescript-eslint's rules are known (an eslint-disable comment may name one) but none is on:
    // this config is about layering, not style
    plugins: { '@typescript-eslint': tseslint.plugin },
    // outside src/ an eslint-disable comment may address a rule this config does not run (an
    // editor's recommended set): not a finding
    linterOptions: { reportUnusedDisableDirectives: 'off' },
  },
  {
    // docs/ARCHITECTURE.md: no hand-written file over 600 lines (the code tables that
    // tools/gen-codes.ts writes are not hand-written)
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    ignores: ['src/codes/v1.*.ts'],
    rules: { 'max-lines': ['error', { max: 600, skipBlankLines: false, skipComments: false }] },
  },
  {
    // in src/ no comment can switch a layering or timer rule off: a change of the rules is a change
    // of this file, visible in review
    files: ['src/**/*.ts'],
    linterOptions: { noInlineConfig: true },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { [path.join(ROOT, 'tools/lint/resolve-ts.cjs')]: {} } },
    rules: {
      // tools/lint/resolve-ts.cjs places every relative import by its path, existing or not
      'import/no-restricted-paths': ['error', { basePath: ROOT, zones }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/core/run-loop.ts'],
    rules: {
      'no-restricted-globals': ['error', ...TIMER_GLOBALS.map((name) => ({ name, message: TIMER_MESSAGE(name) }))],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: TIMER_MESSAGE('Date.now') },
        ...['globalThis', 'global'].flatMap((object) =>
          TIMER_GLOBALS.map((property) => ({ object, property, message: TIMER_MESSAGE(`${object}.${property}`) })),
        ),
      ],
      'no-restricted-imports': [
        'error',
        { paths: TIMER_MODULES.map((name) => ({ name, message: TIMER_MESSAGE(`'${name}'`) })), patterns: [SELF_IMPORT] },
      ],
    },
  },
  {
    files: ['src/core/run-loop.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SELF_IMPORT] }] },
  },
);
