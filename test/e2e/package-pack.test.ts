/**
 * The examples a user copies (issue 12 item 8): `npm pack` the package once, install the tarball
 * into an empty project with npm (offline, no registry: serialport and its dependencies are
 * already in the project's node_modules, copied from this repository's), copy
 * examples/*.ts there unchanged, type-check them against the installed declarations (strict,
 * skipLibCheck false) and run some with tsx: gap-inquiry, l2cap-client and spp-client on their
 * virtual worlds, and the demo. Their output is checked, and spp-client's packet log with
 * tshark and btmon. The examples import only bthost's entry points, never ../src or ../ports.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, builtDist, packageJson } from './package-helpers.js';
import { assertCleanCapture } from '../helpers/capture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-pack-'));
const project = path.join(tmp, 'my-project');
const pkg = packageJson();
const EXAMPLES = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.ts'));
const ADDR = '([0-9A-F]{2}:){5}[0-9A-F]{2}';

function npm(args: string[], cwd: string): string {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
    // no registry: anything not in the given tarballs fails instead of being fetched
    env: { ...process.env, npm_config_offline: 'true', npm_config_registry: 'http://127.0.0.1:9/' },
  });
  assert.is(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `npm pack` the package: the repository itself when its dist/ is fresh, else a copy with a new build. */
function packBthost(): string {
  const dist = builtDist(path.join(tmp, 'dist'));
  let dir = ROOT;
  if (dist !== path.join(ROOT, 'dist')) {
    dir = path.join(tmp, 'stage');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    for (const f of pkg.files) {
      const from = f === 'dist' ? dist : path.join(ROOT, f);
      fs.cpSync(from, path.join(dir, f), { recursive: true });
    }
  }
  const out = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], dir)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const files = out[0]!.files.map((f) => f.path);
  for (const f of [
    'package.json',
    'README.md',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/virtual.js',
    'dist/port.js',
    'dist/port.d.ts',
  ]) {
    assert.ok(files.includes(f), `the tarball has ${f}`);
  }
  assert.not.ok(
    files.some((f) => f.startsWith('test/') || f.startsWith('examples/') || f.startsWith('node_modules/')),
    'no tests, examples or node_modules in the tarball',
  );
  return path.join(tmp, out[0]!.filename);
}

/**
 * The installed production dependencies of the package, transitively, by Node's lookup from the
 * repository: their directories relative to the repository (nested copies included).
 */
function dependencyDirs(): string[] {
  const dirs = new Set<string>();
  const visit = (from: string, deps: Record<string, string> | undefined) => {
    for (const name of Object.keys(deps ?? {})) {
      let dir = from;
      let found: string | null = null;
      for (;;) {
        const candidate = path.join(dir, 'node_modules', name);
        if (fs.existsSync(path.join(candidate, 'package.json'))) {
          found = candidate;
          break;
        }
        if (dir === ROOT) break;
        dir = path.dirname(dir);
      }
      assert.ok(found, `${name} (needed by ${path.relative(ROOT, from) || 'bthost'}) is installed`);
      const rel = path.relative(ROOT, found!);
      if (dirs.has(rel)) continue;
      dirs.add(rel);
      const p = JSON.parse(fs.readFileSync(path.join(found!, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      visit(found!, p.dependencies);
    }
  };
  visit(ROOT, pkg.dependencies);
  return [...dirs];
}

/**
 * An empty project with bthost installed by npm from its tarball. Its dependencies (serialport
 * and what it needs) are already in the project's node_modules, copied from the repository's as
 * an earlier install would have left them, so npm has nothing to fetch.
 */
function installProject(): void {
  const bthost = packBthost();
  fs.mkdirSync(project);
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'my-project', private: true, type: 'module' }, null, 2),
  );
  for (const rel of dependencyDirs()) {
    const to = path.join(project, rel);
    fs.cpSync(path.join(ROOT, rel), to, {
      recursive: true,
      // nested node_modules are dependencies of their own, copied when reached
      filter: (src) => !path.relative(path.join(ROOT, rel), src).split(path.sep).includes('node_modules'),
    });
    // its bin links, as npm made them (without them npm would fetch the package again)
    const manifest = JSON.parse(fs.readFileSync(path.join(to, 'package.json'), 'utf8')) as {
      name: string;
      bin?: string | Record<string, string>;
    };
    const bins =
      typeof manifest.bin === 'string' ? { [manifest.name.replace(/^@[^/]+\//, '')]: manifest.bin } : (manifest.bin ?? {});
    const binDir = path.join(to.slice(0, to.lastIndexOf(`${path.sep}node_modules${path.sep}`) + '/node_modules'.length), '.bin');
    for (const [name, file] of Object.entries(bins)) {
      fs.mkdirSync(binDir, { recursive: true });
      fs.symlinkSync(path.relative(binDir, path.join(to, file)), path.join(binDir, name));
    }
  }
  npm(['install', '--offline', '--ignore-scripts', bthost], project);
  const installed = path.join(project, 'node_modules', 'bthost');
  assert.not.ok(fs.lstatSync(installed).isSymbolicLink(), 'bthost is installed as a copy');
  const manifest = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  assert.match(manifest.dependencies.bthost ?? '', /^file:.*bthost-[\d.]+\.tgz$/, 'bthost installed from the tarball');
  assert.is(
    (JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { version: string }).version,
    pkg.version,
  );
  for (const f of EXAMPLES) fs.copyFileSync(path.join(ROOT, 'examples', f), path.join(project, f));
}

const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Run a copied example with tsx, from the project (as `npx tsx NAME.ts` there would). */
function run(example: string, args: string[] = [], timeout = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', TSX, example, ...args], { cwd: project, encoding: 'utf8', timeout });
}

// in a hook: a failed install fails this file's tests, not the loading of the whole suite
test.before(installProject);

test('the examples import only bthost entry points that package.json exports', () => {
  const subpaths = Object.keys(pkg.exports).map((k) => (k === '.' ? 'bthost' : `bthost/${k.slice(2)}`));
  for (const f of EXAMPLES) {
    const text = fs.readFileSync(path.join(project, f), 'utf8');
    const specifiers = [...text.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]!);
    // a compiled .gatt module (bthost gatt compile) is data only: it imports nothing
    assert.ok(specifiers.length > 0 || f.endsWith('-gatt.ts'), `${f} imports`);
    for (const s of specifiers) {
      assert.ok(
        s.startsWith('node:') || subpaths.includes(s) || /^\.\/[\w-]+\.js$/.test(s),
        `${f}: import '${s}' is not a package entry point`,
      );
    }
  }
});

test('the copied examples type-check against the installed declarations (strict, skipLibCheck false)', () => {
  fs.writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        lib: ['ES2022'],
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
      },
      files: EXAMPLES,
    }),
  );
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project, '--listFilesOnly'], {
    cwd: project,
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.is(r.status, 0, r.stdout + r.stderr);
  const listed = r.stdout.split('\n').map((l) => l.trim());
  assert.ok(
    listed.some((l) => l === path.join(project, 'node_modules/bthost/dist/index.d.ts')),
    'bthost resolved to the installed dist/index.d.ts',
  );
  assert.ok(
    listed.some((l) => l === path.join(project, 'node_modules/bthost/dist/port.d.ts')),
    'bthost/port resolved to the installed dist/port.d.ts',
  );
  assert.not.ok(
    listed.some((l) => l.startsWith(path.join(ROOT, 'src')) || l.startsWith(path.join(ROOT, 'ports'))),
    'nothing from the repository',
  );
  const check = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], {
    cwd: project,
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.is(check.status, 0, `type errors:\n${check.stdout}${check.stderr}`);
});

test('gap-inquiry: finds both virtual devices with their names, exits 0', () => {
  const r = run('gap-inquiry.ts');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^up and running at ${ADDR}$`, 'm'));
  assert.match(r.stdout, /^BTSTACK_EVENT_STATE state=2$/m, 'events printed by name (bthost/port)');
  assert.match(r.stdout, new RegExp(`^Device found: .* name 'Headset ${ADDR}'$`, 'm'));
  assert.match(r.stdout, /^Name: 'Keyboard'$/m);
  assert.match(r.stdout, /^Inquiry round done: 2 device\(s\)$/m);
});

test('l2cap-client: the echo server on its virtual world echoes every message, exits 0', () => {
  const r = run('l2cap-client.ts', ['--count', '5', '--size', '300']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^channel open: local cid 0x40, remote MTU \d+$/m);
  for (let i = 0; i < 5; i++) assert.match(r.stdout, new RegExp(`^L2CAP_DATA_PACKET cid 0x0040 300 bytes: echo ${i} ok$`, 'm'));
  assert.match(r.stdout, /^echo test passed: 5 messages of 300 bytes$/m);
});

test('spp-client: SDP finds the virtual spp-counter, RFCOMM lines both ways, exits 0, clean capture', () => {
  const log = path.join(tmp, 'spp-client.btsnoop');
  const r = run('spp-client.ts', ['--lines', '2', '-l', log]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Found RFCOMM channel 1: 'SPP Counter'$/m);
  assert.match(r.stdout, /^RCV: 'BTstack counter 0001'$/m);
  assert.match(r.stdout, /^SENT: 'Thanks for 'BTstack counter 0002' \(2\/2\)'$/m);
  assert.match(r.stdout, /^\[virtual spp-counter\] RCV: 'Thanks for 'BTstack counter 0002' \(2\/2\)'$/m);
  assert.match(r.stdout, /^RFCOMM channel closed$/m);
  const report = assertCleanCapture(log);
  assert.ok(report.records > 20, `${report.records} records`);
});

test('demo (npm start): both stacks, every byte delivered, pools back to full', () => {
  const r = run('demo.ts', ['--bytes', '20000', '--out', tmp]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^clean close: both stacks off, every byte delivered, every pool back to full$/m);
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
