/**
 * The rig the third-party GATT tests share (third-party-noble-gatt, third-party-ble-host): one
 * virtual radio served on a Unix socket in the test process (serve_controllers), a wiretap in
 * front of it for the third-party host (its H4 stream both ways into a btsnoop file), a bthost
 * Stack on a socat pty (SerialPortTransport, real time), and the third-party host in a child
 * process driven by JSON lines (test/third-party/*-runner.cjs).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { hex } from '../../src/core/bytes.js';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import { serve_controllers, type ControllerServer } from '../../ports/virtual/server.js';
import { SerialPortTransport } from '../../ports/serialport/transport.js';
import { hci_transport_config_uart } from '../../src/chipset/index.js';
import { HciDump } from '../../src/hci/dump.js';
import { Stack } from '../../src/stack.js';
import * as C from '../../src/codes/v1.4.js';
import { spawnSocat, until, withKill, type PtyPair } from '../pty/pty-helpers.js';
import { H4Tap } from '../third-party/h4-tap.js';

export const haveSocat = spawnSync('socat', ['-V'], { encoding: 'utf8' }).status === 0;

export type JsonEvent = { ev: string; [k: string]: unknown };

/** A runner script in a child process: JSON commands on stdin, JSON events on stdout. */
export class JsonChild {
  readonly events: JsonEvent[] = [];
  stderr = '';
  readonly child: ChildProcess;
  constructor(script: string, args: string[], cwd?: string) {
    this.child = spawn(process.execPath, [script, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, DEBUG: '' },
      ...(cwd ? { cwd } : {}),
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as JsonEvent);
      } catch {
        this.events.push({ ev: 'stdout', line });
      }
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
  }
  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(JSON.stringify(cmd) + '\n');
  }
  find(pred: (e: JsonEvent) => boolean): JsonEvent | undefined {
    return this.events.find(pred);
  }
  all(ev: string): JsonEvent[] {
    return this.events.filter((e) => e.ev === ev);
  }
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ cmd: 'exit' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(t);
  }
}

export interface Rig {
  dir: string;
  loop: NodeRunLoop;
  server: ControllerServer;
  /** the controller socket (serve_controllers) */
  sock: string;
  /** the wiretap's socket: the third-party host connects here (directly or through a pty) */
  tapSock: string;
  tap: H4Tap;
  /** btsnoop of the third-party host's HCI (host view) */
  tapLog: string;
  /** bthost's packet log */
  stackLog: string;
  /** HCI events bthost received */
  events: Uint8Array[];
  /** A socat pty connected to `target` (a Unix socket); returns the pty path. */
  ptyTo(name: string, target: string): Promise<string>;
  /** A bthost Stack on a pty of the radio, powered on (WORKING), packet log open. */
  stack(): Promise<Stack>;
  /** Wait for pred; on timeout or when `peer` exited, throw with the trace. */
  wait(pred: () => boolean, ms: number, what: string, peer?: JsonChild | null): Promise<void>;
  trace(peer?: JsonChild | null): string;
  /** Power bthost off (pools checked by the caller), close the logs. */
  close(): Promise<void>;
}

export async function open_rig(prefix: string): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const sock = join(dir, 'radio.sock');
  const tapSock = join(dir, 'tap.sock');
  const tapLog = join(dir, 'third-party.btsnoop');
  const stackLog = join(dir, 'bthost.btsnoop');
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const link = new RadioLink(loop, { seed: prefix });
  const server = await serve_controllers(link, `unix:${sock}`, {});
  const dump = new HciDump();
  if (dump.open(tapLog, 'btsnoop') !== 0) throw new Error(`cannot open ${tapLog}`);
  const tap = await H4Tap.listen(tapSock, sock, dump);
  const ptys: PtyPair[] = [];
  const events: Uint8Array[] = [];
  let bt: Stack | null = null;

  const ptyTo = async (name: string, target: string): Promise<string> => {
    const d = join(dir, name);
    mkdirSync(d);
    const tty = join(d, 'a');
    ptys.push(withKill(d, tty, '', await spawnSocat(d, [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${target}`])));
    return tty;
  };
  const trace = (peer?: JsonChild | null): string =>
    [
      `peer events: ${JSON.stringify(peer?.events ?? [])}`,
      `peer stderr: ${peer?.stderr.slice(-2000) ?? ''}`,
      'tap (last 40):',
      ...tap.packets.slice(-40).map((p) => `  ${p.dir === 'out' ? '>' : '<'} ${p.type} ${hex(p.bytes)}`),
    ].join('\n');
  const wait = async (pred: () => boolean, ms: number, what: string, peer?: JsonChild | null): Promise<void> => {
    try {
      await until(() => pred() || (peer?.exited ?? false), ms, what);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${trace(peer)}`);
    }
    if (!pred()) throw new Error(`peer exited (${peer?.child.exitCode}) while waiting for ${what}\n${trace(peer)}`);
  };
  const stack = async (): Promise<Stack> => {
    const tty = await ptyTo('bthost', sock);
    const config = hci_transport_config_uart(tty, { flowcontrol: false });
    const s = new Stack({
      transport: new SerialPortTransport(config, { modem_lines: null }),
      run_loop: loop,
      transport_config: config,
    });
    bt = s;
    if (s.open_packet_log(stackLog, 'btsnoop') !== 0) throw new Error(`cannot open ${stackLog}`);
    s.hci.hci_add_event_handler({ callback: (_t, _c, p, n) => events.push(p.slice(0, n)) });
    s.hci.hci_power_control(C.HCI_POWER_ON);
    await until(() => s.hci.hci_get_state() === C.HCI_STATE_WORKING, 5000, 'bthost WORKING');
    return s;
  };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (bt) {
      const s = bt;
      if (s.hci.hci_get_state() !== C.HCI_STATE_OFF) {
        s.hci.hci_power_control(C.HCI_POWER_OFF);
        await until(() => s.hci.hci_get_state() === C.HCI_STATE_OFF, 5000, 'bthost OFF').catch(() => undefined);
      }
      s.close_packet_log();
      s.hci.hci_close();
    }
    dump.close();
    for (const p of ptys) await p.kill();
    await tap.close();
    await server.close();
    loop.trigger_exit();
  };
  return { dir, loop, server, sock, tapSock, tap, tapLog, stackLog, events, ptyTo, stack, wait, trace, close };
}

/** Remove the rig's directory (BTHOST_3P_KEEP=1 keeps it, with the captures, and prints where). */
export function remove_rig(rig: Rig | null): void {
  if (!rig) return;
  if (process.env.BTHOST_3P_KEEP) console.log(`kept ${rig.dir}`);
  else rmSync(rig.dir, { recursive: true, force: true });
}

/**
 * Run one GATT client query: `start(callback)` returns the query's status (0 = started); resolves
 * with every event up to and including GATT_EVENT_QUERY_COMPLETE.
 */
export function gatt_query(
  start: (cb: (t: number, ch: number, p: Uint8Array, n: number) => void) => number,
  what: string,
): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const got: Uint8Array[] = [];
    const timer = setTimeout(() => reject(new Error(`${what}: no GATT_EVENT_QUERY_COMPLETE in 5 s`)), 5000);
    const status = start((_t, _c, p, n) => {
      const e = p.slice(0, n);
      got.push(e);
      if (e[0] === C.GATT_EVENT_QUERY_COMPLETE) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    if (status !== 0) {
      clearTimeout(timer);
      reject(new Error(`${what}: query refused with status 0x${status.toString(16)}`));
    }
  });
}
