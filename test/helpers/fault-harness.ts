/**
 * Fault-injection harness for end-to-end tests (issue 18).
 *
 * OUT OF PROCESS (CLI / example tests; real time over socat ptys):
 *
 *   import { faultRadio } from '../helpers/fault-harness.js';
 *   const r = await faultRadio(dir, procs, ['a', 'b'], { faults: 'c1:inflate-nocp=100@2000' });
 *   // r.ttys[i]: dir/NAME/tty, a pty on controller i (index i, in connection order)
 *   // run `bthost ... --port r.ttys[0]` etc.; later, at run time:
 *   await r.fault('c0:hardware-error');     // -> 'ok 1'
 *   await r.fault('c1:framing-error');      // a 0xff byte on controller 1's line
 *   await r.fault('c0:unplug');             // the socket closes: socat exits, the pty goes away
 *   await r.fault('list');                  // -> 'controllers 0 ADDR 1 ADDR'
 *
 * `faultRadio` starts `bthost controller --listen unix:dir/controller.sock --control
 * unix:dir/control.sock [--fault SPECS]` and one socat pty per name (all pushed to `procs`; the
 * caller kills them). SPECS (ports/virtual/fault-spec.ts, also in `bthost controller --help`):
 * `[cN:]ACTION[@MS]` comma-separated; cN = controller index (0-based, connection order), @MS =
 * delay after connect (--fault) or after the request (control). ACTIONs: fail=CMD:STATUS[:COUNT]
 * (CMD an opcode 0x0c03 or a name HCI_Reset), drop-acl=N, corrupt-acl=N, delay-acl=MS[:N],
 * stall-nocp, release-nocp, inflate-nocp=COUNT[:TIMES], credits=N[:TIMES] (Num_HCI_Command_Packets
 * on the line), hardware-error[=CODE], crash[=CODE] (restarts by itself: links lost), drop-link=HANDLE, stray=HEX, framing-error, silent, talk,
 * unplug, clear. A `silent` controller answers nothing (power-on timeout); `fail=HCI_Reset:0x03:1000`
 * gives every Reset an error status.
 *
 * IN PROCESS (virtual time): `new FaultyTransport(controller)` is a VirtualTransport with a
 * LineFaults (`t.line.set_inflate_nocp(100)`, `t.line.silent = true`, ...); `t.framing_error()`
 * and `t.unplug()` raise the transport events a serial port would; `apply(t, 'SPECS')` takes specs.
 */
import { existsSync, mkdirSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import type { RunLoop } from '../../src/core/run-loop.js';
import type { VirtualController } from '../../src/controller/controller.js';
import type { HciTransport, TransportEventHandler, TransportPacketHandler } from '../../src/hci/transport.js';
import { LineFaults, apply_fault, parse_fault_specs, type FaultTarget } from '../../ports/virtual/fault-spec.js';
import { run, tsx, until, type Proc } from '../e2e/proc-helpers.js';

export interface FaultRadio {
  /** One pty per name, in order (controller index = position, as they connected). */
  ttys: string[];
  /** The controller process. */
  controller: Proc;
  /** Path of the control socket. */
  control: string;
  /** Send one control line (SPECS or `list`); resolves with the answer line. */
  fault(line: string): Promise<string>;
}

/** Send one line to a control socket and wait for its answer line. */
export function control_send(path: string, line: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`control ${path}: no answer to '${line}' in ${ms} ms`));
    }, ms);
    s.setEncoding('utf8');
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('connect', () => s.write(line + '\n'));
    s.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      s.end();
      resolve(buf.slice(0, i));
    });
  });
}

/** `bthost controller` with a control socket (and --fault SPECS), one socat pty per name. */
export async function faultRadio(
  dir: string,
  procs: Proc[],
  names: string[],
  opts: { faults?: string } = {},
): Promise<FaultRadio> {
  const sock = join(dir, 'controller.sock');
  const control = join(dir, 'control.sock');
  const args = ['controller', '--listen', `unix:${sock}`, '--control', `unix:${control}`];
  if (opts.faults) args.push('--fault', opts.faults);
  const controller = tsx('ports/cli/cli.ts', args);
  procs.push(controller);
  await until(() => controller.out.includes('listening on'), 20_000, 'bthost controller listening');
  const ttys: string[] = [];
  for (const [i, name] of names.entries()) {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const tty = join(d, 'tty');
    procs.push(run('socat', [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`]));
    await until(() => existsSync(tty), 5000, `pty ${tty}`);
    // connection order = controller index
    await until(() => controller.out.includes(`controller ${i} `), 5000, `controller ${i} connected`);
    ttys.push(tty);
  }
  return { ttys, controller, control, fault: (line) => control_send(control, line) };
}

/** Whether a process is still running. */
export function alive(p: Proc): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** A VirtualTransport with byte-level line faults, for tests in virtual time. */
export class FaultyTransport implements HciTransport, FaultTarget {
  readonly name = 'virtual-faulty';
  readonly line = new LineFaults();
  private run_loop: RunLoop | null = null;
  private packet_handler: TransportPacketHandler | null = null;
  private event_handler: TransportEventHandler | null = null;
  private opened = false;
  private readonly copy = new Uint8Array(65540);

  constructor(readonly controller: VirtualController) {}

  init(run_loop: RunLoop): void {
    this.run_loop = run_loop;
  }
  register_packet_handler(h: TransportPacketHandler): void {
    this.packet_handler = h;
  }
  register_event_handler(h: TransportEventHandler): void {
    this.event_handler = h;
  }
  open(): void {
    const rl = this.run_loop ?? this.controller.run_loop;
    rl.execute_on_main_thread(() => {
      if (this.controller.powered_off) return this.event_handler?.({ type: 'open-failed', error: 'powered off' });
      this.opened = true;
      this.controller.attach_host((type, packet, size) => {
        this.copy.set(packet.subarray(0, size));
        this.line.rewrite(type, this.copy, size);
        this.packet_handler?.(type, this.copy, size);
      });
      this.event_handler?.({ type: 'opened' });
    });
  }
  close(): void {
    this.opened = false;
    this.controller.detach_host();
    (this.run_loop ?? this.controller.run_loop).execute_on_main_thread(() => this.event_handler?.({ type: 'closed' }));
  }
  can_send_packet_now(): boolean {
    return this.opened && !this.controller.powered_off;
  }
  send_packet(type: number, packet: Uint8Array, size: number): number {
    if (!this.opened) return 0x0c;
    if (!this.line.silent) this.controller.host_send(type, packet, size);
    return 0;
  }
  /** Stray bytes in process: the deframer would report a framing error. */
  write_raw(): void {
    this.framing_error();
  }
  framing_error(): void {
    this.event_handler?.({ type: 'framing-error', error: 'injected framing error' });
  }
  unplug(): void {
    this.opened = false;
    this.controller.detach_host();
    this.event_handler?.({ type: 'failed', error: 'injected unplug' });
  }
}

/** Apply SPECS (fault-spec.ts) to an in-process target now (cN and @MS are ignored). */
export function apply(t: FaultTarget, specs: string): void {
  const list = parse_fault_specs(specs);
  if (typeof list === 'string') throw new Error(list);
  for (const s of list) apply_fault(t, s.action);
}
