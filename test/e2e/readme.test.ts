/**
 * The README as a newcomer uses it: the two commands, the first program (extracted, built against
 * the package as `npm install` builds it, and run as written: it must print what the README says
 * it prints), the serial-port variant (constructs without throwing), every `npx bthost` line of
 * the CLI section (run on the virtual controller, exit 0), and the API reference build.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = process.cwd();
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-readme-'));

/** The body of a section: from its `## title` heading to the next `## ` heading. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has a section '${title}'`);
  const end = README.indexOf('\n## ', start + 4);
  return README.slice(start, end < 0 ? undefined : end);
}

/** Code blocks of a language in a text, in order. */
function blocks(text: string, lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]!);
  return out;
}

/** Build the package's ESM entry points into tmp/node_modules/bthost as `npm install` would. */
function installPackage(): string {
  const pkgDir = path.join(tmp, 'node_modules', 'bthost');
  fs.mkdirSync(pkgDir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkgDir, 'package.json'));
  // dependencies (serialport) resolve from the repository's node_modules
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkgDir, 'node_modules'));
  const config = path.join(tmp, 'tsup.config.mjs');
  const entry = {
    index: path.join(ROOT, 'src/index.ts'),
    'codes-v1.4': path.join(ROOT, 'src/codes/v1.4.ts'),
    'codes-v1.8': path.join(ROOT, 'src/codes/v1.8.ts'),
    serialport: path.join(ROOT, 'ports/serialport/index.ts'),
    virtual: path.join(ROOT, 'ports/virtual/index.ts'),
    port: path.join(ROOT, 'ports/port.ts'),
    cli: path.join(ROOT, 'ports/cli/cli.ts'),
  };
  fs.writeFileSync(
    config,
    `export default ${JSON.stringify({ entry, format: ['esm'], outDir: path.join(pkgDir, 'dist'), dts: false, splitting: false, sourcemap: false, clean: true, target: 'node20', silent: true })};\n`,
  );
  const r = spawnSync(path.join(ROOT, 'node_modules/.bin/tsup'), ['--config', config], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.is(r.status, 0, `tsup: ${r.stderr}${r.stdout}`);
  // the import paths of package.json's "exports" exist
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
    exports: Record<string, { import?: { default: string } }>;
  };
  for (const [k, v] of Object.entries(pkg.exports)) {
    if (v.import) assert.ok(fs.existsSync(path.join(pkgDir, v.import.default)), `exports ${k} -> ${v.import.default}`);
  }
  fs.writeFileSync(
    path.join(tmp, 'package.json'),
    JSON.stringify({ name: 'my-first-bthost-program', private: true, type: 'module' }),
  );
  return pkgDir;
}

test('two commands: npm ci, npm start', () => {
  const [cmds] = blocks(section('Two commands'), 'sh');
  assert.is(cmds, 'npm ci\nnpm start\n');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.is(pkg.scripts.start, 'tsx examples/demo.ts');
  assert.ok(pkg.scripts.prepare, 'npm ci builds the package (prepare)');
});

test('the first program: at most 20 lines, runs as written, prints what the README says', () => {
  const text = section('A first program');
  const [program, serial] = blocks(text, 'js');
  assert.ok(program, 'a js block');
  const lines = program!.trimEnd().split('\n');
  assert.ok(lines.length <= 20, `${lines.length} lines`);
  installPackage();
  const file = path.join(tmp, 'first.mjs');
  fs.writeFileSync(file, program!);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [file], { cwd: tmp, encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  // "It prints `found 80:70:83:D3:F9:21 my neighbour` after 1.28 s"
  const claimed = /It prints `([^`]+)`/.exec(text)?.[1];
  assert.ok(claimed, 'the README says what it prints');
  assert.is(r.stdout, `${claimed}\n`);
  assert.ok(Date.now() - t0 < 15_000);

  // the serial variant: the names exist and the objects construct (nothing is opened)
  assert.ok(serial, 'a serial-port js block');
  const head = `import { NodeRunLoop, Stack } from 'bthost';\nconst run_loop = new NodeRunLoop();\n`;
  const tail =
    "\nif (stack.hci.hci_get_state() !== 0) throw new Error('not off');\n" +
    "console.log(['constructed', transport_config.device_name, transport_config.baudrate_init, transport_config.flowcontrol].join(' '));\n";
  const sfile = path.join(tmp, 'serial.mjs');
  fs.writeFileSync(sfile, head + serial! + tail);
  const s = spawnSync(process.execPath, [sfile], { cwd: tmp, encoding: 'utf8', timeout: 30_000 });
  assert.is(s.status, 0, s.stderr);
  assert.is(s.stdout, 'constructed /dev/ttyACM0 1000000 true\n');
});

test('every `npx bthost` line of the CLI section runs on the virtual controller', () => {
  const [cmds] = blocks(section('The command-line tool'), 'sh');
  const lines = cmds!.split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.length >= 8, `${lines.length} commands`);
  for (const line of lines) {
    const cmd = line.replace(/\s+#.*$/, '');
    const m = /^(?:echo (\w+) \| )?npx bthost (.*)$/.exec(cmd);
    assert.ok(m, `understood: ${line}`);
    const input = m![1] !== undefined ? `${m![1]}\n` : '';
    const args = m![2]!.split(/\s+/);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'ports/cli/cli.ts'), ...args], {
      cwd: ROOT,
      input,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.is(r.status, 0, `${cmd}\n${r.stderr}`);
    if (input) assert.ok(r.stdout.includes(input), `${cmd}: echoed`);
  }
});

test('the built bin (package.json "bin": bthost) runs from the installed package', () => {
  const pkgDir = path.join(tmp, 'node_modules', 'bthost');
  if (!fs.existsSync(path.join(pkgDir, 'dist', 'cli.js'))) installPackage();
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = path.join(pkgDir, pkg.bin.bthost!);
  assert.match(fs.readFileSync(bin, 'utf8').split('\n')[0]!, /^#!\/usr\/bin\/env node$/);
  const r = spawnSync(process.execPath, [bin, 'l2ping', 'C0:FF:EE:00:00:02', '-c', '1'], {
    cwd: tmp,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^1 sent, 1 received, 0% loss$/m);
  const e = spawnSync(process.execPath, [bin, 'info', '--port', '/dev/ttyBTHOST-NOPE'], {
    cwd: tmp,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.is(e.status, 1);
  assert.match(e.stderr, /^bthost: serial port \/dev\/ttyBTHOST-NOPE not found/);
});

test('npm run docs: the API reference builds from the doc comments without a warning', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.is(pkg.scripts.docs, 'typedoc');
  assert.match(section('API reference'), /npm run docs/);
  const out = path.join(tmp, 'api');
  const r = spawnSync(path.join(ROOT, 'node_modules/.bin/typedoc'), ['--out', out, '--treatWarningsAsErrors'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.is(r.status, 0, r.stdout + r.stderr);
  for (const page of [
    'index.html',
    'classes/src.Stack.html',
    'functions/src.btstack_init_default.html',
    'classes/ports_serialport.SerialPortTransport.html',
  ]) {
    assert.ok(fs.existsSync(path.join(out, page)), page);
  }
});

test.run();
