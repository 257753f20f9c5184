/**
 * Capture checker for btsnoop (datalink 1002, H4) and PacketLogger (.pklg) files written by
 * src/hci/dump.ts. Every end-to-end test writes a capture and calls assertCleanCapture(path).
 *
 * Three independent readers look at each file:
 *  1. our own record walker (readCapture): file and record headers, lengths, H4 types,
 *     directions, timestamps, the HCI length fields of every packet, and L2CAP reassembly
 *     per ACL handle and direction (a start fragment arriving before the previous PDU was
 *     complete, a continuation without a start, more bytes than the L2CAP length announced);
 *  2. tshark: frames flagged `_ws.malformed`, and expert infos of severity error, plus warnings
 *     that mean broken bytes (e.g. "Length too short"); benign ones are kept as warnings;
 *  3. btmon (`btmon -r` reads btsnoop and, detected by its first bytes, PacketLogger files):
 *     the lines it prints for bad packets, all lower-case or "Malformed" ("invalid packet size
 *     (3 != 6)", "invalid size", "invalid signal packet size", "too short packet", "frame too
 *     short", "* Malformed HCI Event packet (len 0)"), and whether it decoded every record.
 *     Capitalised status names such as "Invalid HCI Command Parameters" are protocol values,
 *     not problems. btmon 5.66 silently skips ISO records in btsnoop files (H4 type 5); those
 *     are not counted against it. In PacketLogger files ISO packets are notes (see dump.ts).
 *     btmon 5.66 segfaults on ATT Read By Type Requests for 0x2803 / 0x2902 (GATT characteristic
 *     and CCCD discovery); when it crashes on a btsnoop file that has them, it reads a copy
 *     without those records (btmonCrashesOn).
 *
 * Everything is synchronous (spawnSync with timeouts).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export type CaptureFormat = 'btsnoop' | 'pklg' | 'unknown';

export interface CaptureRecord {
  /** 1-based position in the file. */
  index: number;
  /** BTstack packet type 1..5 (command, ACL, SCO, event, ISO), or 0 for a PacketLogger note. */
  packet_type: number;
  incoming: boolean;
  /** Microseconds since the Unix epoch. */
  ts_us: bigint;
  /** The HCI packet without the H4 type byte (a note's UTF-8 text bytes). */
  data: Uint8Array;
  /** PacketLogger record type (undefined for btsnoop). */
  pklg_type?: number;
  /** Text of a PacketLogger note (without the trailing NUL). */
  note?: string;
}

export interface ParsedCapture {
  format: CaptureFormat;
  records: CaptureRecord[];
  /** Structural problems found by our own walker. */
  problems: string[];
}

export interface CaptureReport {
  path: string;
  format: CaptureFormat;
  /** Records found by our walker. */
  records: number;
  /** Frames tshark read. */
  frames: number;
  /** Frames tshark marked malformed or with an error-level expert info (not ignored). */
  malformed: number;
  tsharkProblems: string[];
  /** Benign tshark expert warnings (unknown/undecoded vendor commands, ...): not failures. */
  tsharkWarnings: string[];
  /** Record headers btmon printed. */
  btmonFrames: number;
  btmonProblems: string[];
  /** Problems found by the record walker (file structure, HCI lengths, L2CAP reassembly). */
  formatProblems: string[];
  /** Everything that makes the capture unclean. */
  problems: string[];
}

export interface CheckOptions {
  /** Problem messages matching any of these are dropped (for tests that log bad packets on purpose). */
  ignore?: RegExp[];
  /** Per-tool time limit. Default 120 s. */
  timeoutMs?: number;
}

const BTSNOOP_MAGIC = [0x62, 0x74, 0x73, 0x6e, 0x6f, 0x6f, 0x70, 0x00];
const BTSNOOP_EPOCH_OFFSET_US = 0x00dcddb30f2f8000n;
const PKLG_TYPES: Record<number, [number, boolean]> = {
  0x00: [1, false],
  0x01: [4, true],
  0x02: [2, false],
  0x03: [2, true],
  0x08: [3, false],
  0x09: [3, true],
  0xfc: [0, false],
};
const TYPE_NAMES = ['note', 'command', 'ACL', 'SCO', 'event', 'ISO'];

function be32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}
function le16(b: Uint8Array, p: number): number {
  return b[p]! | (b[p + 1]! << 8);
}

/** Parse a btsnoop (1002) or PacketLogger capture and check its structure. Never throws. */
export function readCapture(bytes: Uint8Array): ParsedCapture {
  const problems: string[] = [];
  const records: CaptureRecord[] = [];
  let format: CaptureFormat = 'unknown';
  if (bytes.length >= 8 && BTSNOOP_MAGIC.every((v, i) => bytes[i] === v)) {
    format = 'btsnoop';
    readBtsnoop(bytes, records, problems);
  } else if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0) {
    format = 'pklg';
    readPklg(bytes, records, problems);
  } else {
    problems.push(bytes.length === 0 ? 'empty file' : 'neither a btsnoop nor a PacketLogger file');
  }
  if (format !== 'unknown' && records.length === 0 && problems.length === 0) problems.push('no records');
  checkHci(records, problems);
  return { format, records, problems };
}

function readBtsnoop(b: Uint8Array, records: CaptureRecord[], problems: string[]): void {
  if (b.length < 16) {
    problems.push('btsnoop: file header cut short');
    return;
  }
  const version = be32(b, 8);
  const datalink = be32(b, 12);
  if (version !== 1) problems.push(`btsnoop: version ${version}, expected 1`);
  if (datalink !== 1002) {
    problems.push(`btsnoop: datalink ${datalink}, expected 1002 (H4)`);
    return;
  }
  let pos = 16;
  let lastTs = -1n;
  while (pos < b.length) {
    const index = records.length + 1;
    const where = `record ${index} at offset ${pos}`;
    if (pos + 24 > b.length) {
      problems.push(`${where}: header cut short (${b.length - pos} of 24 bytes)`);
      return;
    }
    const orig = be32(b, pos);
    const incl = be32(b, pos + 4);
    const flags = be32(b, pos + 8);
    const ts = (BigInt(be32(b, pos + 16)) << 32n) | BigInt(be32(b, pos + 20));
    if (incl !== orig) problems.push(`${where}: included length ${incl} != original length ${orig}`);
    if (incl === 0) {
      problems.push(`${where}: empty record (no H4 type byte)`);
      pos += 24;
      continue;
    }
    if (pos + 24 + incl > b.length) {
      problems.push(`${where}: data cut short (${b.length - pos - 24} of ${incl} bytes)`);
      return;
    }
    const type = b[pos + 24]!;
    const data = b.subarray(pos + 25, pos + 24 + incl);
    pos += 24 + incl;
    if (flags > 3) problems.push(`${where}: unknown flag bits 0x${flags.toString(16)}`);
    if (type < 1 || type > 5) {
      problems.push(`${where}: H4 type 0x${type.toString(16)} is not 1..5`);
      continue;
    }
    const incoming = (flags & 1) === 1;
    const cmdEvt = type === 1 || type === 4;
    if (((flags & 2) !== 0) !== cmdEvt) {
      problems.push(
        `${where}: flags 0x${flags.toString(16)} say ${flags & 2 ? 'command/event' : 'data'} but H4 type is ${TYPE_NAMES[type]}`,
      );
    }
    if (type === 1 && incoming) problems.push(`${where}: command marked as received`);
    if (type === 4 && !incoming) problems.push(`${where}: event marked as sent`);
    if (ts < BTSNOOP_EPOCH_OFFSET_US) problems.push(`${where}: timestamp before 1970`);
    const ts_us = ts - BTSNOOP_EPOCH_OFFSET_US;
    if (ts_us < lastTs) problems.push(`${where}: timestamp goes backwards`);
    lastTs = ts_us;
    records.push({ index, packet_type: type, incoming, ts_us, data });
  }
}

function readPklg(b: Uint8Array, records: CaptureRecord[], problems: string[]): void {
  let pos = 0;
  let lastTs = -1n;
  const td = new TextDecoder('utf-8', { fatal: false });
  while (pos < b.length) {
    const index = records.length + 1;
    const where = `record ${index} at offset ${pos}`;
    if (pos + 13 > b.length) {
      problems.push(`${where}: header cut short (${b.length - pos} of 13 bytes)`);
      return;
    }
    const len = be32(b, pos);
    if (len < 9 || len >= 65536 + 9) {
      problems.push(`${where}: record length ${len} out of range (little-endian or corrupt?)`);
      return;
    }
    if (pos + 4 + len > b.length) {
      problems.push(`${where}: data cut short (${b.length - pos - 4} of ${len} bytes)`);
      return;
    }
    const secs = be32(b, pos + 4);
    const usecs = be32(b, pos + 8);
    const t = b[pos + 12]!;
    const data = b.subarray(pos + 13, pos + 4 + len);
    pos += 4 + len;
    if (usecs >= 1_000_000) problems.push(`${where}: microseconds ${usecs} >= 1000000`);
    const ts_us = BigInt(secs) * 1_000_000n + BigInt(usecs);
    if (ts_us < lastTs) problems.push(`${where}: timestamp goes backwards`);
    lastTs = ts_us;
    const known = PKLG_TYPES[t];
    if (!known) {
      problems.push(`${where}: PacketLogger type 0x${t.toString(16)} is not one bthost writes`);
      continue;
    }
    const rec: CaptureRecord = { index, packet_type: known[0], incoming: known[1], ts_us, data, pklg_type: t };
    if (t === 0xfc) rec.note = td.decode(data).replace(/\0+$/, '');
    records.push(rec);
  }
}

/** HCI length fields and L2CAP reassembly. */
function checkHci(records: CaptureRecord[], problems: string[]): void {
  // per handle+direction: bytes still expected for the current L2CAP PDU (-1 = none pending),
  // or the partial basic header collected when a start fragment was shorter than 4 bytes.
  const pending = new Map<number, { need: number; head: number[] }>();
  for (const r of records) {
    const d = r.data;
    const where = `record ${r.index} (${TYPE_NAMES[r.packet_type]} ${r.incoming ? 'in' : 'out'})`;
    switch (r.packet_type) {
      case 1:
        if (d.length < 3) problems.push(`${where}: command shorter than its 3-byte header`);
        else if (3 + d[2]! !== d.length) problems.push(`${where}: command parameter length ${d[2]} but ${d.length - 3} bytes`);
        else if (le16(d, 0) === 0x0c03) pending.clear(); // HCI_Reset drops all links
        break;
      case 4:
        if (d.length < 2) problems.push(`${where}: event shorter than its 2-byte header`);
        else if (2 + d[1]! !== d.length) problems.push(`${where}: event parameter length ${d[1]} but ${d.length - 2} bytes`);
        else if (d[0] === 0x05 && d.length >= 5) {
          // Disconnection Complete: the handle's partial PDUs are gone.
          const h = le16(d, 3) & 0x0fff;
          pending.delete(h * 2);
          pending.delete(h * 2 + 1);
        }
        break;
      case 3:
        if (d.length < 3) problems.push(`${where}: SCO packet shorter than its 3-byte header`);
        else if (3 + d[2]! !== d.length) problems.push(`${where}: SCO data length ${d[2]} but ${d.length - 3} bytes`);
        break;
      case 5:
        if (d.length < 4) problems.push(`${where}: ISO packet shorter than its 4-byte header`);
        else if (4 + (le16(d, 2) & 0x3fff) !== d.length)
          problems.push(`${where}: ISO data length ${le16(d, 2) & 0x3fff} but ${d.length - 4} bytes`);
        break;
      case 2: {
        if (d.length < 4) {
          problems.push(`${where}: ACL packet shorter than its 4-byte header`);
          break;
        }
        const dlen = le16(d, 2);
        if (4 + dlen !== d.length) {
          problems.push(`${where}: ACL data length ${dlen} but ${d.length - 4} bytes`);
          break;
        }
        const handle = le16(d, 0) & 0x0fff;
        const pb = (d[1]! >> 4) & 3;
        const key = handle * 2 + (r.incoming ? 1 : 0);
        const payload = d.subarray(4);
        let st = pending.get(key);
        if (pb === 1) {
          if (!st) {
            problems.push(`${where}: continuation fragment on handle 0x${handle.toString(16)} without a start`);
            break;
          }
        } else {
          if (st)
            problems.push(
              `${where}: new L2CAP PDU on handle 0x${handle.toString(16)} while ${st.need >= 0 ? st.need : 'some'} bytes of the previous one are missing`,
            );
          st = { need: -1, head: [] };
          pending.set(key, st);
        }
        let i = 0;
        while (st.need < 0 && i < payload.length) {
          st.head.push(payload[i++]!);
          if (st.head.length === 4) st.need = st.head[0]! | (st.head[1]! << 8);
        }
        const rest = payload.length - i;
        if (st.need >= 0) {
          if (rest > st.need) {
            problems.push(`${where}: ${rest - st.need} bytes beyond the L2CAP length on handle 0x${handle.toString(16)}`);
            pending.delete(key);
          } else {
            st.need -= rest;
            if (st.need === 0) pending.delete(key);
          }
        }
        if (pb === 3 && pending.has(key)) {
          problems.push(`${where}: packet boundary 'complete PDU' but the L2CAP PDU is incomplete`);
          pending.delete(key);
        }
        break;
      }
    }
  }
  for (const [key, st] of pending) {
    problems.push(
      `capture ends inside an L2CAP PDU on handle 0x${(key >> 1).toString(16)} (${key & 1 ? 'in' : 'out'}, ${st.need >= 0 ? st.need : 'unknown'} bytes missing)`,
    );
  }
}

// ---------------------------------------------------------------- tshark

const SEV_WARN = 0x00600000;
const SEV_ERROR = 0x00800000;
const AGG = '\x1f';

/** tshark expert infos that are context, not broken bytes. */
const TSHARK_BENIGN = [
  /^Frame is out of any "connection handle" session$/, // ACL before its Connection Complete (capture started late)
  /^Unknown (command|event)$/, // vendor-specific opcodes and events
  /^(Command|Event) undecoded$/,
  /^(Manufacturer data|HCI Revision|LMP Subversion) changed$/,
];

function stripNoise(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Running as user .* This could be dangerous\.$/.test(l));
}

function run(cmd: string, args: string[], timeoutMs: number): { out: string; err: string; problem?: string } {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (r.error) {
    const e = r.error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'not installed' : e.code === 'ETIMEDOUT' ? `timed out after ${timeoutMs} ms` : e.message;
    return { out: r.stdout ?? '', err: r.stderr ?? '', problem: why };
  }
  if (r.status !== 0) {
    const msg = stripNoise(r.stderr ?? '')
      .map((l) => l.replace(new RegExp(`^${cmd}: `), ''))
      .join(' / ');
    return { out: r.stdout ?? '', err: r.stderr ?? '', problem: `exited with ${r.status ?? r.signal}${msg ? `: ${msg}` : ''}` };
  }
  return { out: r.stdout, err: r.stderr };
}

interface TsharkScan {
  frames: number;
  malformed: number;
  problems: string[];
  warnings: string[];
}

function scanTshark(path: string, ignore: RegExp[], timeoutMs: number): TsharkScan {
  const res: TsharkScan = { frames: 0, malformed: 0, problems: [], warnings: [] };
  const r = run(
    'tshark',
    [
      '-n',
      '-r',
      path,
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-E',
      'occurrence=a',
      '-E',
      `aggregator=${AGG}`,
      '-e',
      'frame.number',
      '-e',
      '_ws.col.Info',
      '-e',
      '_ws.malformed',
      '-e',
      '_ws.expert.severity',
      '-e',
      '_ws.expert.message',
    ],
    timeoutMs,
  );
  if (r.problem) res.problems.push(r.problem);
  else for (const l of stripNoise(r.err)) res.problems.push(l.replace(/^tshark: /, ''));
  for (const line of r.out.split('\n')) {
    if (line === '') continue;
    const [num, info = '', malformed = '', sevs = '', msgs = ''] = line.split('\t');
    res.frames++;
    const sev = sevs === '' ? [] : sevs.split(AGG).map(Number);
    const msg = msgs === '' ? [] : msgs.split(AGG);
    let bad = false;
    if (malformed !== '') {
      const text = `frame ${num}: malformed (${info.split(AGG).join(' ')})`;
      if (!ignore.some((re) => re.test(text))) {
        res.problems.push(text);
        bad = true;
      }
    }
    for (let i = 0; i < msg.length; i++) {
      const m = msg[i]!;
      const s = sev[i] ?? 0;
      if (s < SEV_WARN) continue; // notes and chats (sequence info etc.)
      if (/^Malformed Packet/.test(m) && malformed !== '') continue; // already reported
      const text = `frame ${num}: ${s >= SEV_ERROR ? 'error' : 'warning'}: ${m} (${info.split(AGG).join(' ')})`;
      if (ignore.some((re) => re.test(text))) continue;
      if (TSHARK_BENIGN.some((re) => re.test(m))) {
        res.warnings.push(text);
        continue;
      }
      res.problems.push(text);
      if (s >= SEV_ERROR) bad = true;
    }
    if (bad) res.malformed++;
  }
  return res;
}

/**
 * Decoded fields per frame, as tshark prints them (`-T fields`): one row per frame that matches
 * `filter` (a display filter), one string per field; several occurrences joined with ','.
 * Throws when tshark fails (unknown field, bad filter, unreadable file).
 */
export function tsharkFields(path: string, fields: string[], filter?: string, timeoutMs = 120_000): string[][] {
  const args = ['-n', '-r', path, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  if (filter) args.push('-Y', filter);
  const r = run('tshark', args, timeoutMs);
  if (r.problem) throw new Error(`tshark ${r.problem}`);
  return r.out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

// ---------------------------------------------------------------- btmon

/** Lines btmon prints for bytes it could not decode (found by feeding it broken packets). */
const BTMON_BAD = [
  /\binvalid\b/, // "invalid packet size (3 != 6)", "invalid size", "invalid signal packet size", "Role: invalid (0x05)"
  /too short/i, // "too short packet", "frame too short", "data element size too short"
  /\bMalformed\b/, // "* Malformed HCI Event packet (len 0)"
];
const BTMON_HEADER = /^[<>=@*] /;

/** btmon's text for a capture (btsnoop or PacketLogger), without pager or colours. */
export function btmonText(path: string, timeoutMs = 120_000): string {
  const r = run('btmon', ['-P', '-c', 'never', '-C', '160', '-r', path], timeoutMs);
  if (r.problem) throw new Error(`btmon ${r.problem}`);
  return r.out;
}

interface BtmonScan {
  frames: number;
  problems: string[];
}

function scanBtmon(path: string, ignore: RegExp[], timeoutMs: number): BtmonScan {
  const res: BtmonScan = { frames: 0, problems: [] };
  const r = run('btmon', ['-P', '-c', 'never', '-C', '160', '-r', path], timeoutMs);
  if (r.problem) res.problems.push(r.problem);
  let header = '';
  for (const raw of r.out.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('Bluetooth monitor ver')) continue;
    if (BTMON_HEADER.test(line)) {
      res.frames++;
      header = line.replace(/\s{2,}/g, ' ').trim();
    }
    if (line.startsWith('= Note:')) continue; // a note's text is the application's, not btmon's verdict
    if (BTMON_BAD.some((re) => re.test(line))) {
      const text = line === header || line.replace(/\s{2,}/g, ' ').trim() === header ? header : `${header}: ${line.trim()}`;
      if (!ignore.some((re) => re.test(text))) res.problems.push(text);
    }
  }
  return res;
}

// ---------------------------------------------------------------- the checker

/** An ATT Read By Type Request (Vol 3 Part F 3.4.4.1) for 0x2803 or 0x2902, which btmon 5.66 crashes on. */
function btmonCrashesOn(r: CaptureRecord): boolean {
  const d = r.data;
  if (r.packet_type !== 2 || d.length < 15 || ((d[1]! >> 4) & 3) === 1) return false;
  if (le16(d, 6) !== 0x0004 || d[8] !== 0x08 || le16(d, 2) !== d.length - 4) return false;
  const uuid = le16(d, 13);
  return le16(d, 4) === 7 && (uuid === 0x2803 || uuid === 0x2902);
}

/** The btsnoop file without the records whose 1-based index is in `skip`. */
function btsnoopWithout(b: Uint8Array, skip: Set<number>): Uint8Array {
  const parts: Uint8Array[] = [b.subarray(0, 16)];
  let pos = 16;
  for (let index = 1; pos + 24 <= b.length; index++) {
    const end = Math.min(b.length, pos + 24 + be32(b, pos + 4));
    if (!skip.has(index)) parts.push(b.subarray(pos, end));
    pos = end;
  }
  return Buffer.concat(parts);
}

/** Run all three readers over a capture file. Never throws (a missing tool is a problem). */
export function checkCapture(path: string, options: CheckOptions = {}): CaptureReport {
  const ignore = options.ignore ?? [];
  const timeoutMs = options.timeoutMs ?? 120_000;
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    const p = `cannot read ${path}: ${(e as Error).message}`;
    return {
      path,
      format: 'unknown',
      records: 0,
      frames: 0,
      malformed: 0,
      tsharkProblems: [],
      tsharkWarnings: [],
      btmonFrames: 0,
      btmonProblems: [],
      formatProblems: [p],
      problems: [p],
    };
  }
  const parsed = readCapture(bytes);
  const formatProblems = parsed.problems.filter((p) => !ignore.some((re) => re.test(p)));
  const ts = scanTshark(path, ignore, timeoutMs);
  let bm = scanBtmon(path, ignore, timeoutMs);
  const n = parsed.records.length;
  // btmon 5.66 dies (NULL dereference, SIGSEGV) on every ATT Read By Type Request for
  // «Characteristic» (0x2803) or «Client Characteristic Configuration» (0x2902), whatever precedes
  // it: a one-record btsnoop reproduces it. Such records are left to the walker and tshark, and
  // btmon reads a copy without them.
  let btmonSkipped = 0;
  if (parsed.format === 'btsnoop' && bm.problems.some((p) => p.includes('SIGSEGV'))) {
    const skip = new Set(parsed.records.filter(btmonCrashesOn).map((r) => r.index));
    if (skip.size > 0) {
      const copy = `${path}.btmon-copy`;
      fs.writeFileSync(copy, btsnoopWithout(bytes, skip));
      try {
        bm = scanBtmon(copy, ignore, timeoutMs);
      } finally {
        fs.rmSync(copy, { force: true });
      }
      btmonSkipped = skip.size;
    }
  }
  if (parsed.format !== 'unknown' && formatProblems.length === 0 && ts.frames !== n) {
    ts.problems.push(`tshark read ${ts.frames} frames, the file has ${n} records`);
  }
  // btmon 5.66 skips ISO in btsnoop (H4 type 5) without a word.
  const btmonExpected =
    (parsed.format === 'btsnoop' ? parsed.records.filter((r) => r.packet_type !== 5).length : n) - btmonSkipped;
  if (parsed.format !== 'unknown' && formatProblems.length === 0 && bm.frames !== btmonExpected) {
    bm.problems.push(`btmon decoded ${bm.frames} records, expected ${btmonExpected}`);
  }
  const problems = [
    ...formatProblems.map((p) => `format: ${p}`),
    ...ts.problems.map((p) => `tshark: ${p}`),
    ...bm.problems.map((p) => `btmon: ${p}`),
  ];
  return {
    path,
    format: parsed.format,
    records: n,
    frames: ts.frames,
    malformed: ts.malformed,
    tsharkProblems: ts.problems,
    tsharkWarnings: ts.warnings,
    btmonFrames: bm.frames,
    btmonProblems: bm.problems,
    formatProblems,
    problems,
  };
}

/** One-paragraph summary of a report. */
export function formatReport(r: CaptureReport): string {
  const head = `${r.path}: ${r.format}, ${r.records} records, tshark ${r.frames} frames (${r.malformed} malformed), btmon ${r.btmonFrames} records`;
  if (r.problems.length === 0) return `${head}: clean`;
  const shown = r.problems.slice(0, 40).map((p) => `  - ${p}`);
  if (r.problems.length > 40) shown.push(`  ... and ${r.problems.length - 40} more`);
  return `${head}: ${r.problems.length} problem(s)\n${shown.join('\n')}`;
}

/** For uvu tests: throws an Error listing the problems unless the capture is clean. */
export function assertCleanCapture(path: string, options: CheckOptions = {}): CaptureReport {
  const r = checkCapture(path, options);
  if (r.problems.length > 0) throw new Error(`capture is not clean: ${formatReport(r)}`);
  return r;
}
