/**
 * The built package as a consumer sees it: the .d.ts/.d.cts files type-check in a strict
 * TypeScript project with skipLibCheck false, for ESM (an .mts file) and CJS (a .cts file)
 * resolution of 'bthost', 'bthost/v1.4', 'bthost/v1.8', 'bthost/serialport', 'bthost/virtual' and
 * 'bthost/port'; and the built bin runs a virtual command without loading serialport's native
 * binding (@serialport/bindings-cpp).
 *
 * Uses the repository's dist/ when it is newer than every source file, else builds with the
 * repository's tsup config into a temporary directory (the repository's dist/ is not touched).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, builtDist, packageJson } from './package-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-package-types-'));
const pkgDir = path.join(tmp, 'node_modules', 'bthost');
const pkg = packageJson();

/** node_modules/bthost in tmp as `npm install` leaves it: package.json, dist/, its dependencies. */
function installPackage(): void {
  fs.mkdirSync(pkgDir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkgDir, 'package.json'));
  // dependencies (serialport) resolve from the repository's node_modules
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkgDir, 'node_modules'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(tmp, 'node_modules', '@types'));
  const dist = builtDist(path.join(tmp, 'dist'));
  fs.symlinkSync(dist, path.join(pkgDir, 'dist'));
}

installPackage();

/** A consumer that uses values and types of every entry point (same text as ESM and as CJS). */
const CONSUMER = `
import { NodeRunLoop, Stack, VirtualRunLoop, btstack_event_iterator_create, codes_for, decode_event, sscanf_bd_addr } from 'bthost';
import type { BdAddr, BtstackEventIterator, Codes, CodesV18, EventInfo, HciTransport } from 'bthost';
import * as v14 from 'bthost/v1.4';
import { L2CAP_EVENT_CAN_SEND_NOW, l2cap_event_can_send_now_build, EVENTS } from 'bthost/v1.8';
import { H5SerialPortTransport, SerialPortTransport, parse_port_options, serialport_transport_from_options } from 'bthost/serialport';
import { RadioLink, VirtualTransport } from 'bthost/virtual';
import type { VirtualController } from 'bthost/virtual';
import { example_main, port_usage, type ExampleContext, type VirtualWorld } from 'bthost/port';

const codes: Codes = codes_for('v1.4');
const v18: CodesV18 = codes_for('v1.8');
const addr: BdAddr | null = sscanf_bd_addr('C0:FF:EE:00:00:02');
const packet = new Uint8Array(32);
const size: number = l2cap_event_can_send_now_build(packet, 0, 0x41);
const opened: BdAddr = v14.l2cap_event_channel_opened_get_address(packet);
const info: EventInfo | undefined = EVENTS.find((e) => e.code === L2CAP_EVENT_CAN_SEND_NOW);
const iter: BtstackEventIterator = btstack_event_iterator_create();
const name: string | undefined = decode_event(v18, packet, size)?.name;
const code: number = codes.HCI_EVENT_PACKET + v14.L2CAP_EVENT_CAN_SEND_NOW;
function open_port(tty: string): HciTransport | undefined {
  const port = serialport_transport_from_options(parse_port_options(['-u', tty]));
  const t: SerialPortTransport | H5SerialPortTransport | undefined = port?.transport;
  return t;
}
function make_stack(transport: HciTransport, run_loop: VirtualRunLoop | NodeRunLoop): Stack {
  return new Stack({ transport, run_loop });
}
function virtual_world(run_loop: NodeRunLoop): VirtualWorld {
  const link = new RadioLink(run_loop);
  const ours: VirtualController = link.create_controller({ name: 'consumer' });
  return { transport: new VirtualTransport(ours), peer: link.create_controller().bd_addr };
}
function run_example(): void {
  example_main('file:///consumer.mjs', {
    name: 'consumer',
    virtual_world,
    btstack_main(stack: Stack, ctx: ExampleContext<Record<string, never>>) {
      ctx.bt.hci_add_event_handler({ callback: () => ctx.exit(stack.hci.hci_get_state()) });
    },
  });
}
const usage: string = port_usage('consumer');
export { addr, opened, info, iter, name, code, open_port, make_stack, run_example, usage };
`;

test('the .d.ts and .d.cts files type-check in a consumer with skipLibCheck false (ESM and CJS resolution)', () => {
  const dir = path.join(tmp, 'consumer');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'esm.mts'), CONSUMER);
  fs.writeFileSync(path.join(dir, 'cjs.cts'), CONSUMER);
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        lib: ['ES2022'],
        types: ['node'],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
      },
      files: ['esm.mts', 'cjs.cts'],
    }),
  );
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir, '--listFilesOnly'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.is(r.status, 0, r.stdout + r.stderr);
  // both resolutions were taken: the ESM (.d.ts) and the CJS (.d.cts) declarations of every entry
  // (tsc lists real paths: a fresh repository dist/ is linked into node_modules/bthost, so match on dist/)
  const listed = r.stdout.split('\n').map((l) => l.trim().replace(/\\/g, '/'));
  for (const entry of ['index', 'codes-v1.4', 'codes-v1.8', 'serialport', 'virtual', 'port']) {
    for (const ext of ['d.ts', 'd.cts'])
      assert.ok(
        listed.some((l) => l.endsWith(`/dist/${entry}.${ext}`)),
        `${entry}.${ext} resolved`,
      );
  }
  const check = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.is(check.status, 0, `type errors in the published declarations:\n${check.stdout}${check.stderr}`);
  assert.is(check.stdout, '');
});

/** Run the built bin with a probe that reports how many @serialport/bindings-cpp modules were loaded. */
function runBin(bin: string, args: string[]): { status: number | null; stdout: string; stderr: string; bindings: number } {
  const probe = path.join(tmp, 'probe.cjs');
  fs.writeFileSync(
    probe,
    "process.on('exit', () => { const n = Object.keys(require.cache).filter((k) => k.includes('bindings-cpp')).length; process.stderr.write(`\\nPROBE bindings-cpp ${n}\\n`); });\n",
  );
  const r = spawnSync(process.execPath, ['--require', probe, path.join(pkgDir, bin), ...args], {
    cwd: tmp,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const m = /PROBE bindings-cpp (\d+)/.exec(r.stderr);
  assert.ok(m, `probe ran: ${r.stderr}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, bindings: Number(m![1]) };
}

test("the built bin does not load serialport's native binding for virtual runs (ESM and CJS builds)", () => {
  for (const bin of [pkg.bin.bthost!, './dist/cli.cjs']) {
    const help = runBin(bin, ['scan', '--help']);
    assert.is(help.status, 0, help.stderr);
    assert.match(help.stdout, /^usage: bthost scan/);
    assert.is(help.bindings, 0, `${bin} scan --help loaded @serialport/bindings-cpp`);
    const ping = runBin(bin, ['l2ping', 'C0:FF:EE:00:00:02', '-c', '1']);
    assert.is(ping.status, 0, ping.stderr);
    assert.match(ping.stdout, /^1 sent, 1 received, 0% loss$/m);
    assert.is(ping.bindings, 0, `${bin} l2ping on the virtual controller loaded @serialport/bindings-cpp`);
    // the probe sees the binding when a serial port is asked for
    const port = runBin(bin, ['info', '--port', '/dev/ttyBTHOST-NOPE']);
    assert.is(port.status, 1);
    assert.match(port.stderr, /^bthost: serial port \/dev\/ttyBTHOST-NOPE not found/);
    assert.ok(port.bindings > 0, `${bin} --port loads @serialport/bindings-cpp`);
  }
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
