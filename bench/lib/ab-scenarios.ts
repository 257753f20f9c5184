/**
 * Work units for an in-process A/B comparison of two checkouts (bench/compare.ts --inproc): each
 * scenario is built from one tree's bench/ and src/ modules (imported by absolute path, so the
 * two trees' code is loaded and compiled separately in one process) and returns `step()`, which
 * does a fixed amount of work. compare.ts alternates the trees' steps many times and compares
 * CPU time per step, so load from other processes hits both sides alike.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface AbScenario {
  /** Run once to warm up and open links. */
  warm(): void;
  /** One fixed amount of work. */
  step(): void;
  /** What a step does, for the table. */
  unit: string;
  /**
   * Scenarios that time each operation: the times of the last step, in microseconds. compare.ts
   * then also shows their median, p99 and p99.9, per round and side, like CPU time.
   */
  samples?: () => Float64Array;
}

type Mod = Record<string, unknown>;
const load = (tree: string, rel: string): Promise<Mod> => import(pathToFileURL(join(tree, rel)).href) as Promise<Mod>;

const MB = 1e6;

/** The scenarios by name: each makes a fresh world from `tree`. */
export const AB_SCENARIOS: Record<string, (tree: string) => Promise<AbScenario>> = {
  async 'rfcomm-667'(tree) {
    const m = await load(tree, 'bench/rfcomm-bulk.ts');
    const p = (m.rfcommSetup as (mfs: number) => { send: (b: number) => void })(667);
    return { warm: () => p.send(8 * MB), step: () => p.send(2 * MB), unit: '2 MB in 667-byte RFCOMM frames' };
  },
  async 'rfcomm-max'(tree) {
    const m = await load(tree, 'bench/rfcomm-bulk.ts');
    const p = (m.rfcommSetup as (mfs: number) => { send: (b: number) => void })(0xffff);
    return { warm: () => p.send(16 * MB), step: () => p.send(8 * MB), unit: '8 MB in the largest RFCOMM frames' };
  },
  async 'l2cap-672'(tree) {
    const m = await load(tree, 'bench/l2cap-bulk.ts');
    const p = (m.bulkSetup as (mtu: number) => { send: (b: number) => void })(672);
    return { warm: () => p.send(8 * MB), step: () => p.send(4 * MB), unit: '4 MB of 672-byte SDUs' };
  },
  async 'l2cap-65535'(tree) {
    const m = await load(tree, 'bench/l2cap-bulk.ts');
    const p = (m.bulkSetup as (mtu: number) => { send: (b: number) => void })(65535);
    return { warm: () => p.send(16 * MB), step: () => p.send(8 * MB), unit: '8 MB of 65535-byte SDUs' };
  },
  async echo(tree) {
    const { rl, echo } = await echoLink(tree);
    let left = 0;
    const start = (): void => echo(onEcho);
    const onEcho = (status: number): void => {
      if (status !== 0) throw new Error(`echo status ${status}`);
      if (--left > 0) rl.execute_on_main_thread(start);
    };
    const rounds = (n: number): void => {
      left = n;
      start();
      rl.run_until(() => left === 0, 1e12);
    };
    return { warm: () => rounds(20_000), step: () => rounds(5_000), unit: '5000 L2CAP echo round trips' };
  },
  async 'scale-70'(tree) {
    const m = await load(tree, 'bench/scale.ts');
    const p = (m.scaleWorld as () => { sendPackets: (n: number) => void })();
    return {
      warm: () => p.sendPackets(100_000),
      step: () => p.sendPackets(20_000),
      unit: '20000 100-byte SDUs round robin over 70 channels, 20 LE links up',
    };
  },
  /** As bench/latency.ts's echo: each round trip timed alone (performance.now()), 20000 per step. */
  async 'echo-latency'(tree) {
    const { rl, echo } = await echoLink(tree);
    let times = new Float64Array(0);
    let i = 0;
    let t0 = 0;
    const start = (): void => {
      t0 = performance.now();
      echo(onEcho);
    };
    const onEcho = (status: number): void => {
      times[i++] = (performance.now() - t0) * 1000;
      if (status !== 0) throw new Error(`echo status ${status}`);
      if (i < times.length) rl.execute_on_main_thread(start);
    };
    const rounds = (n: number): void => {
      if (times.length !== n) times = new Float64Array(n);
      i = 0;
      start();
      rl.run_until(() => i === n, 1e12);
    };
    return {
      warm: () => rounds(200_000),
      step: () => rounds(20_000),
      unit: '20000 L2CAP echo round trips, each timed',
      samples: () => times,
    };
  },
  async 'parser-reassembly'(tree) {
    const gen = await load(tree, 'bench/lib/h4-stream.ts');
    const fh = await load(tree, 'bench/lib/feed-host.ts');
    const s = (gen.generateH4Stream as (n: number, seed: number) => { data: Uint8Array; prologue: Uint8Array })(4 * MB, 1);
    const chunks = (gen.cutChunks as (d: Uint8Array, a: number, b: number) => Uint8Array[])(s.data, 2, 4096);
    const host = (fh.createFeedHost as () => FeedHostLike)();
    host.stack.hci.hci_register_acl_packet_handler(() => {});
    host.feed(s.prologue);
    host.settle();
    const pass = (): void => {
      for (const c of chunks) host.feed(c);
    };
    return { warm: () => (pass(), pass()), step: pass, unit: '4 MB H4 stream, framing + ACL reassembly' };
  },
};

/** Two stacks with an ACL link (a channel opened on it); echo(cb) sends a 20-byte Echo Request. */
async function echoLink(tree: string): Promise<{ rl: RunLoopLike; echo: (cb: (status: number) => void) => void }> {
  const pair = await load(tree, 'bench/lib/pair.ts');
  const w = (pair.createWorld as (n: number) => { nodes: Node2[]; rl: RunLoopLike })(2);
  const [a, b] = w.nodes as [Node2, Node2];
  const openChannel = pair.openChannel as (w: unknown, a: Node2, b: Node2, x: number, y: number) => { con_handle_a: number };
  const handle = openChannel(w, a, b, 672, 672).con_handle_a;
  const data = new Uint8Array(20).fill(0x5a);
  const l2cap = a.stack.l2cap;
  return {
    rl: w.rl,
    echo: (cb) => {
      if (l2cap.l2cap_send_echo_request(handle, data, 20, cb) !== 0) throw new Error('echo refused');
    },
  };
}

interface Node2 {
  stack: {
    l2cap: {
      l2cap_send_echo_request(h: number, d: Uint8Array, n: number, cb: (status: number) => void): number;
    };
  };
}
interface RunLoopLike {
  execute_on_main_thread(f: () => void): void;
  run_until(done: () => boolean, max: number): void;
}
interface FeedHostLike {
  stack: { hci: { hci_register_acl_packet_handler(h: () => void): void } };
  feed(c: Uint8Array): void;
  settle(): void;
}
