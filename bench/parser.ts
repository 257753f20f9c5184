/**
 * Benchmark 5, parser head-to-head: one recorded-style H4 byte stream (events and fragmented ACL
 * on three links, cut into random chunk sizes) fed, in the same process, to
 *   ours: H4Deframer (src/hci/h4.ts) -> HCI ACL reassembly (src/hci/hci-acl.ts) of a booted Stack
 *   peer: the H4 parser of @stoprocent/bluetooth-hci-socket's UART driver -> the ACL
 *         reassembly in @stoprocent/noble's HCI layer (Hci.prototype.onSocketData)
 * at two levels: framing only (whole H4 packets out) and framing + ACL reassembly (whole L2CAP
 * PDUs out). Every run checks that both sides delivered exactly the generated packets and PDUs.
 *
 *   npx tsx bench/parser.ts [--quick] [--no-install] [--side bthost|noble] [--level framing|reassembly]
 *
 * --side / --level restrict the run (for profiling one side with node --cpu-prof).
 */
import { H4Deframer } from '../src/hci/h4.js';
import { cutChunks, generateH4Stream, type H4Stream } from './lib/h4-stream.js';
import { createFeedHost } from './lib/feed-host.js';
import { benchMain, isMain, log, newResult, type BenchOptions, type BenchResult } from './lib/harness.js';
import { read_flag, type FlagSpec, type ParsedFlags } from '../ports/options.js';
import { allocatedBy, MB, measure, median, tick, type Measurement } from './lib/measure.js';
import { loadPeer, type Peer } from './lib/peer.js';

interface Counts {
  events: number;
  acl: number;
  acl_bytes: number;
  pdus: number;
  pdu_bytes: number;
  pdu_check: number;
}

function zero(): Counts {
  return { events: 0, acl: 0, acl_bytes: 0, pdus: 0, pdu_bytes: 0, pdu_check: 0 };
}

interface Side {
  name: string;
  /** Fresh state, prologue fed (not measured). */
  prepare(): void;
  /** Feed every body chunk once. */
  pass(): void;
  /** Feed chunks [0, n) (for the allocation figure). */
  passSome(n: number): void;
  counts: Counts;
}

type Level = 'framing' | 'full';

function ourSide(level: Level, s: H4Stream, chunks: Buffer[]): Side {
  const side: Side = {
    name: 'bthost',
    counts: zero(),
    prepare() {},
    pass() {},
    passSome() {},
  };
  if (level === 'framing') {
    let d: H4Deframer;
    side.prepare = () => {
      const c = (side.counts = zero());
      d = new H4Deframer({
        accept: [2, 3, 4, 5],
        on_packet: (type, _packet, size) => {
          if (type === 4) c.events++;
          else if (type === 2) {
            c.acl++;
            c.acl_bytes += size - 4;
          }
        },
      });
      d.feed(s.prologue);
      c.events = 0;
    };
    side.pass = () => {
      for (let i = 0; i < chunks.length; i++) d.feed(chunks[i]!);
    };
    side.passSome = (n) => {
      for (let i = 0; i < n; i++) d.feed(chunks[i]!);
    };
  } else {
    let host: ReturnType<typeof createFeedHost>;
    side.prepare = () => {
      const c = (side.counts = zero());
      host = createFeedHost();
      host.stack.hci.hci_register_acl_packet_handler((_type, _handle, _packet, size) => {
        const n = size - 4; // ACL header; the rest is the L2CAP PDU with its basic header
        c.pdu_check += n * (1 + (c.pdus % 7));
        c.pdus++;
        c.pdu_bytes += n;
      });
      host.feed(s.prologue);
      host.settle();
    };
    side.pass = () => {
      for (let i = 0; i < chunks.length; i++) host.feed(chunks[i]!);
      host.settle();
      if (host.framing_errors()) throw new Error('bthost: framing errors on a valid stream');
    };
    side.passSome = (n) => {
      for (let i = 0; i < n; i++) host.feed(chunks[i]!);
      host.settle();
    };
  }
  return side;
}

function peerSide(level: Level, peer: Peer, s: H4Stream, chunks: Buffer[]): Side {
  let parser: InstanceType<Peer['HciSerialParser']>;
  const side: Side = {
    name: 'noble',
    counts: zero(),
    prepare() {
      const c = (side.counts = zero());
      parser = new peer.HciSerialParser();
      if (level === 'framing') {
        parser.on('data', (p: Buffer) => {
          if (p[0] === 4) c.events++;
          else if (p[0] === 2) {
            c.acl++;
            c.acl_bytes += p.length - 5;
          }
        });
        parser.write(s.prologue);
        c.events = 0;
      } else {
        const hci = new peer.Hci({ hciDriver: 'uart' });
        // what noble learns from Read Buffer Size during init; without it every NOCP leaves a pending promise
        hci.setAclBuffers(1021, 8);
        hci.on('aclDataPkt', (_handle: number, _cid: number, data: Buffer) => {
          const n = data.length + 4; // noble hands out the payload without the basic header
          c.pdu_check += n * (1 + (c.pdus % 7));
          c.pdus++;
          c.pdu_bytes += n;
        });
        parser.on('data', (p: Buffer) => hci.onSocketData(p));
        parser.write(s.prologue);
      }
    },
    pass() {
      for (let i = 0; i < chunks.length; i++) parser.write(chunks[i]!);
    },
    passSome(n) {
      for (let i = 0; i < n; i++) parser.write(chunks[i]!);
    },
  };
  return side;
}

/** How many leading chunks make up at least `bytes` bytes. */
function chunkCountFor(chunks: Buffer[], bytes: number): number {
  let n = 0;
  let total = 0;
  while (n < chunks.length && total < bytes) total += chunks[n++]!.length;
  return n;
}

function check(side: Side, level: Level, s: H4Stream, passes: number): void {
  const c = side.counts;
  const want =
    level === 'framing'
      ? { events: s.events * passes, acl: s.acl_packets * passes, acl_bytes: s.acl_data_bytes * passes }
      : { pdus: s.pdus * passes, pdu_bytes: s.pdu_bytes * passes };
  for (const [k, v] of Object.entries(want)) {
    const got = c[k as keyof Counts];
    if (got !== v) throw new Error(`${side.name} (${level}): delivered ${k}=${got}, expected ${v}`);
  }
  // order-sensitive: sum of size * (1 + index % 7) over every PDU delivered
  if (level === 'full') {
    if (c.pdu_check !== expectedCheck(s, passes)) throw new Error(`${side.name} (full): PDU sizes/order differ from the stream`);
  }
}

const checkCache = new Map<string, number>();
/** The pdu_check value for `passes` repetitions of the body (index continues across passes). */
function expectedCheck(s: H4Stream, passes: number): number {
  const key = `${s.pdus}:${passes}`;
  const hit = checkCache.get(key);
  if (hit !== undefined) return hit;
  let total = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < s.pdu_sizes.length; i++) total += s.pdu_sizes[i]! * (1 + ((p * s.pdus + i) % 7));
  }
  checkCache.set(key, total);
  return total;
}

interface SideFigures {
  mbps: number;
  cpu_ms_per_mb: number;
  scavenges_per_100mb: number;
  mark_sweeps_per_100mb: number;
  gc_pause_ms_per_100mb: number;
}

async function timeSide(side: Side, passes: number): Promise<Measurement> {
  side.prepare();
  const { m } = await measure(async () => {
    for (let p = 0; p < passes; p++) side.pass();
    await tick(); // let deferred work (stream callbacks, promises) finish inside the window
  });
  return m;
}

function summarize(ms: Measurement[], bytes: number): SideFigures {
  const per100 = 100 * MB;
  return {
    mbps: median(ms.map((m) => bytes / MB / (m.wall_ms / 1000))),
    cpu_ms_per_mb: median(ms.map((m) => m.cpu_ms / (bytes / MB))),
    scavenges_per_100mb: median(ms.map((m) => (m.gc.scavenge * per100) / bytes)),
    mark_sweeps_per_100mb: median(ms.map((m) => (m.gc.mark_sweep * per100) / bytes)),
    gc_pause_ms_per_100mb: median(ms.map((m) => (m.gc.pause_ms * per100) / bytes)),
  };
}

export interface ParserOptions extends BenchOptions {
  side?: 'bthost' | 'noble';
  level?: 'framing' | 'reassembly';
}

/** The parser benchmark's own flags (besides the harness's). */
const PARSER_FLAGS: FlagSpec = { side: { type: 'string' }, level: { type: 'string' } };

/** --side bthost|noble, --level framing|reassembly: checked, so a typo is a usage error. */
function readParserFlags(f: ParsedFlags): Pick<ParserOptions, 'side' | 'level'> {
  const side = read_flag(f, 'side', (v) =>
    v === 'bthost' || v === 'noble' ? v : { problem: `expected bthost or noble, got '${v}'` },
  );
  const level = read_flag(f, 'level', (v) =>
    v === 'framing' || v === 'reassembly' ? v : { problem: `expected framing or reassembly, got '${v}'` },
  );
  return { side, level };
}

export async function run(opts: ParserOptions): Promise<BenchResult> {
  const restricted = opts.side || opts.level ? `.${opts.side ?? 'both'}.${opts.level ?? 'all'}` : '';
  const r = newResult(`parser${restricted}`, '5. Parser head-to-head (H4 framing + ACL reassembly)', opts);
  const streamBytes = opts.quick ? 256 * 1024 : 8 * 1024 * 1024;
  const rounds = opts.quick ? 1 : 5;
  const targetMs = opts.quick ? 20 : 400;
  const s = generateH4Stream(streamBytes, 1);
  const chunks = cutChunks(s.data, 2, 4096);
  const bytes = s.data.length;
  const packetsPerByte = (s.acl_packets + s.events) / bytes;
  log(
    opts,
    `stream: ${(bytes / MB).toFixed(1)} MB, ${s.acl_packets} ACL packets, ${s.events} events, ${s.pdus} L2CAP PDUs, ${chunks.length} chunks`,
  );

  const peerOrReason = loadPeer(opts.install_peer !== false);
  const peer = 'unavailable' in peerOrReason ? null : peerOrReason;
  if (!peer) r.notes.push(`peer not measured: ${(peerOrReason as { unavailable: string }).unavailable}`);
  else
    r.notes.push(
      `peer: ${Object.entries(peer.versions)
        .map(([k, v]) => `${k}@${v}`)
        .join(', ')} (JavaScript only, UART driver)`,
    );

  r.figures.stream_MB = bytes / MB;
  r.units.stream_MB = 'MB (1e6 bytes) of H4 per pass';
  r.figures.chunks_per_pass = chunks.length;
  r.units.chunks_per_pass = 'chunks, log-uniform 1..4096 bytes';

  const levels = (['framing', 'full'] as Level[]).filter((l) => !opts.level || opts.level === (l === 'full' ? 'reassembly' : l));
  for (const level of levels) {
    const sides: Side[] = [];
    if (opts.side !== 'noble') sides.push(ourSide(level, s, chunks));
    if (peer && opts.side !== 'bthost') sides.push(peerSide(level, peer, s, chunks));
    // warm-up and calibration: one pass each, then enough passes to fill targetMs
    const passes = new Map<Side, number>();
    for (const side of sides) {
      side.prepare();
      const t0 = performance.now();
      side.pass();
      await tick();
      const dt = performance.now() - t0;
      check(side, level, s, 1);
      passes.set(side, Math.max(1, Math.min(2000, Math.ceil(targetMs / Math.max(dt, 0.01)))));
    }
    // allocation: heap growth while feeding the first ~256 KB of chunks, in a window with no GC
    const allocChunks = Math.min(chunks.length, chunkCountFor(chunks, 256 * 1024));
    const allocBytesIn = chunks.slice(0, allocChunks).reduce((a, c) => a + c.length, 0);
    const allocPerPacket = new Map<Side, number | null>();
    for (const side of sides) {
      side.prepare();
      const a = await allocatedBy(() => side.passSome(allocChunks));
      allocPerPacket.set(side, a === null ? null : a / (allocBytesIn * packetsPerByte));
    }
    const results = new Map<Side, Measurement[]>(sides.map((x) => [x, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...sides].reverse() : sides;
      for (const side of order) {
        const n = passes.get(side)!;
        const m = await timeSide(side, n);
        check(side, level, s, n);
        results.get(side)!.push({
          ...m,
          wall_ms: m.wall_ms / n,
          cpu_ms: m.cpu_ms / n,
          gc: {
            ...m.gc,
            scavenge: m.gc.scavenge / n,
            mark_sweep: m.gc.mark_sweep / n,
            incremental: m.gc.incremental / n,
            weak: m.gc.weak / n,
            pause_ms: m.gc.pause_ms / n,
          },
        });
      }
    }
    const ourSideObj = sides.find((x) => x.name === 'bthost');
    const peerSideObj = sides.find((x) => x.name === 'noble');
    const ours = ourSideObj ? summarize(results.get(ourSideObj)!, bytes) : null;
    const theirs = peerSideObj ? summarize(results.get(peerSideObj)!, bytes) : null;
    const label = level === 'framing' ? 'framing' : 'reassembly';
    r.figures[`${label}_bthost_MBps`] = ours ? ours.mbps : null;
    r.figures[`${label}_noble_MBps`] = theirs ? theirs.mbps : null;
    r.figures[`${label}_ratio`] = ours && theirs ? ours.mbps / theirs.mbps : null;
    r.figures[`${label}_cpu_ratio`] = ours && theirs ? theirs.cpu_ms_per_mb / ours.cpu_ms_per_mb : null;
    r.figures[`${label}_bthost_cpu_ms_per_MB`] = ours ? ours.cpu_ms_per_mb : null;
    r.figures[`${label}_noble_cpu_ms_per_MB`] = theirs ? theirs.cpu_ms_per_mb : null;
    r.figures[`${label}_bthost_scavenges_per_100MB`] = ours ? ours.scavenges_per_100mb : null;
    r.figures[`${label}_noble_scavenges_per_100MB`] = theirs ? theirs.scavenges_per_100mb : null;
    r.figures[`${label}_bthost_alloc_bytes_per_packet`] = ourSideObj ? allocPerPacket.get(ourSideObj)! : null;
    r.figures[`${label}_noble_alloc_bytes_per_packet`] = peerSideObj ? allocPerPacket.get(peerSideObj)! : null;
    r.units[`${label}_bthost_alloc_bytes_per_packet`] = 'JS heap bytes allocated per H4 packet (no GC in the window)';
    r.figures[`${label}_bthost_gc_pause_ms_per_100MB`] = ours ? ours.gc_pause_ms_per_100mb : null;
    r.figures[`${label}_noble_gc_pause_ms_per_100MB`] = theirs ? theirs.gc_pause_ms_per_100mb : null;
    r.units[`${label}_bthost_MBps`] = 'MB/s of H4 input';
    r.units[`${label}_noble_MBps`] = 'MB/s of H4 input';
    r.units[`${label}_ratio`] = 'x (bthost / noble, wall-clock throughput)';
    r.units[`${label}_cpu_ratio`] = 'x (noble / bthost, CPU ms per MB)';
    log(
      opts,
      `${label}: ${ours ? `bthost ${ours.mbps.toFixed(1)} MB/s` : ''}${theirs ? `, noble ${theirs.mbps.toFixed(1)} MB/s` : ''}${ours && theirs ? `, ratio ${(ours.mbps / theirs.mbps).toFixed(2)}x` : ''}`,
    );
  }
  r.targets.push({ figure: 'reassembly_ratio', target: '>= 5x', op: '>=', value: 5 });
  r.notes.push(
    'framing: whole H4 packets out of random chunks; reassembly: framing + ACL reassembly into whole L2CAP PDUs (ours through a booted Stack: HCI event handling and run() included)',
  );
  return r;
}

if (isMain(import.meta.url)) {
  await benchMain((o, f) => run({ ...o, ...readParserFlags(f) }), PARSER_FLAGS, readParserFlags);
}
