/**
 * Packet log, modelled on BTstack's hci_dump: writes every HCI packet (and log lines) to a
 * btsnoop or Apple PacketLogger file, or to an in-memory sink, for Wireshark / btmon.
 *
 * Formats (both big endian, as BTstack, Wireshark and btmon read them):
 *
 * btsnoop (datalink 1002 = H4 UART): file header "btsnoop\0", u32 version 1, u32 datalink 1002.
 *   Per record: u32 original length, u32 included length (both count the H4 type byte),
 *   u32 flags (bit 0: 0 sent / 1 received; bit 1: 1 command or event / 0 data), u32 cumulative
 *   drops, i64 timestamp in microseconds since 0000-01-01 (Unix epoch + 0x00dcddb30f2f8000), then
 *   the H4 type byte and the HCI packet. btsnoop has no text records: log_message() lines are
 *   not written to a btsnoop log (as in BTstack); they are counted in `messages_skipped`.
 *
 * PacketLogger (.pklg): no file header. Per record: u32 length (of everything after this
 *   field: 8 timestamp bytes + 1 type byte + payload), u32 seconds, u32 microseconds (Unix
 *   time), u8 type, then the HCI packet without the H4 byte. Types: 0x00 command, 0x01 event,
 *   0x02 ACL sent, 0x03 ACL received, 0x08 SCO sent, 0x09 SCO received, 0xFC note (text;
 *   used for log_message lines: UTF-8, at most 255 bytes, plus a NUL). PacketLogger has no ISO
 *   type: an ISO packet is written as a 0xFC note summarising its header (as BTstack does).
 *
 * Cost: when no log is open or the packet log is disabled, log_packet() returns after one
 * property check. When enabled, each record is assembled in one reused scratch buffer and
 * written with a single synchronous write (write-through, so a crash loses nothing).
 *
 * Errors: the dump never throws into the stack. An I/O error closes the log, and is reported
 * once through `on_error` (default: console.error). Programmer errors (an unknown format
 * name) throw a TypeError from open()/open_sink().
 *
 * Packet limit (BTstack's hci_dump_set_max_packets): with set_max_packets(n), n > 0, the log
 * restarts when it holds n packets: a file is truncated and gets a fresh header, so it always
 * holds the most recent 1..n packets (BTstack's reset); a sink's reset() is called. With
 * set_max_packets(n, 'stop'), or for a sink without reset(), writing stops after n packets and
 * later packets are counted in `packets_dropped`. n <= 0 means no limit (the default).
 */
import * as fs from 'node:fs';

export type HciDumpFormat = 'btsnoop' | 'pklg';

/** BTstack packet types as passed to log_packet (no H4 byte in the packet). */
const HCI_COMMAND_DATA_PACKET = 0x01;
const HCI_ACL_DATA_PACKET = 0x02;
const HCI_SCO_DATA_PACKET = 0x03;
const HCI_EVENT_PACKET = 0x04;
const HCI_ISO_DATA_PACKET = 0x05;

/** BTstack's hci_dump log levels (HCI_DUMP_LOG_LEVEL_*). */
const LEVEL_COUNT = 4; // DEBUG 0, INFO 1, ERROR 2, PRINT 3 (v1.8)

/** BTstack's HCI_DUMP_MAX_MESSAGE_LEN: longest text record in bytes. */
const MAX_MESSAGE_LEN = 256;

/** btsnoop: microseconds from 0000-01-01 (proleptic Gregorian) to 1970-01-01. */
export const BTSNOOP_EPOCH_OFFSET_US = 0x00dcddb30f2f8000n;
const EPOCH_HI = 0x00dcddb3;
const EPOCH_LO = 0x0f2f8000;
const TWO_32 = 0x1_0000_0000;

const BTSNOOP_FILE_HEADER = Uint8Array.of(
  0x62,
  0x74,
  0x73,
  0x6e,
  0x6f,
  0x6f,
  0x70,
  0x00, // "btsnoop\0"
  0x00,
  0x00,
  0x00,
  0x01, // version 1
  0x00,
  0x00,
  0x03,
  0xea, // datalink 1002: H4
);
export const BTSNOOP_RECORD_HEADER_SIZE = 24;
export const PKLG_RECORD_HEADER_SIZE = 13;

/** PacketLogger record types. */
export const PKLG_TYPE_COMMAND = 0x00;
export const PKLG_TYPE_EVENT = 0x01;
export const PKLG_TYPE_ACL_SENT = 0x02;
export const PKLG_TYPE_ACL_RECEIVED = 0x03;
export const PKLG_TYPE_SCO_SENT = 0x08;
export const PKLG_TYPE_SCO_RECEIVED = 0x09;
export const PKLG_TYPE_NOTE = 0xfc;

/**
 * Where records go. `write` gets a view of a reused buffer that is valid during the call only
 * (copy it to keep it). `reset` (optional) discards everything written so far: used by the
 * packet limit; the file header (btsnoop) is written again right after it.
 */
export interface HciDumpSink {
  write(bytes: Uint8Array): void;
  reset?(): void;
  close?(): void;
}

export interface HciDumpOptions {
  /** Microseconds since the Unix epoch. Default: the wall clock. Inject for deterministic files. */
  now_us?: () => bigint | number;
  /** Called once when an I/O error closes the log. Default: console.error. */
  on_error?: (error: Error) => void;
}

export type HciDumpLimitMode = 'restart' | 'stop';

/** Wall clock in microseconds since the Unix epoch (sub-millisecond resolution). */
export function wall_clock_us(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** Collects what a dump writes, for tests and tools (keeps everything: not for long runs). */
export class HciDumpMemorySink implements HciDumpSink {
  private chunks: Uint8Array[] = [];
  private size = 0;
  resets = 0;
  closed = false;
  write(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
    this.size += bytes.length;
  }
  reset(): void {
    this.chunks = [];
    this.size = 0;
    this.resets++;
  }
  close(): void {
    this.closed = true;
  }
  /** Everything written (since the last reset) as one array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let pos = 0;
    for (const c of this.chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }
}

/**
 * Writes records synchronously at the file's current position (so pipes and FIFOs work, e.g.
 * a live `wireshark -k -i FIFO`). Throws on I/O errors (caught by HciDump). reset() truncates
 * by opening the path again.
 */
class FileSink implements HciDumpSink {
  constructor(
    private fd: number,
    private readonly path: string,
  ) {}
  write(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
  }
  reset(): void {
    fs.closeSync(this.fd);
    this.fd = -1;
    this.fd = fs.openSync(this.path, 'w');
  }
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * 'btsnoop' or 'pklg', or BTstack's hci_dump_format_t numbers for ported code:
 * HCI_DUMP_PACKETLOGGER (2) and HCI_DUMP_BTSNOOP (3). HCI_DUMP_BLUEZ (1, hcidump) is not supported.
 */
function formatCode(format: HciDumpFormat | number): number {
  if (format === 'btsnoop' || format === 3) return 1;
  if (format === 'pklg' || format === 2) return 2;
  throw new TypeError(
    `hci_dump: unsupported format ${String(format)} (expected 'btsnoop', 'pklg', HCI_DUMP_PACKETLOGGER or HCI_DUMP_BTSNOOP)`,
  );
}

const te = new TextEncoder();

export class HciDump {
  private sink: HciDumpSink | null = null;
  private file: FileSink | null = null;
  private fmt = 0; // 0 closed, 1 btsnoop, 2 pklg
  private packetLogEnabled = true;
  private levelEnabled = [true, true, true, true];
  private maxPackets = 0;
  private limitMode: HciDumpLimitMode = 'restart';
  private nrPackets = 0;
  private scratch = new Uint8Array(2048);
  private view = new DataView(this.scratch.buffer);
  private tsHi = 0; // last timestamp read by now(): microseconds since 1970, high and low u32
  private tsLo = 0;
  private readonly nowUs: () => bigint | number;
  private readonly onError: (error: Error) => void;
  private errorReported = false;

  /** True when log_packet writes something: a log is open and the packet log is enabled. */
  active = false;
  /** Records written since open (packets and messages). */
  records_written = 0;
  /** Packets not written because the 'stop' limit was reached. */
  packets_dropped = 0;
  /** log_message lines not written because the format (btsnoop) has no text records. */
  messages_skipped = 0;
  /** Number of times the packet limit restarted the log. */
  restarts = 0;

  constructor(options: HciDumpOptions = {}) {
    this.nowUs = options.now_us ?? wall_clock_us;
    this.onError = options.on_error ?? ((e) => console.error(`hci_dump: ${e.message}; packet log closed`));
  }

  /** The open format, or null when closed. */
  get format(): HciDumpFormat | null {
    return this.fmt === 1 ? 'btsnoop' : this.fmt === 2 ? 'pklg' : null;
  }

  get is_open(): boolean {
    return this.fmt !== 0;
  }

  /**
   * Create (truncate) `path` and log to it (BTstack's hci_dump_posix_fs_open).
   * Returns 0, or the system error number when the file cannot be created (also reported
   * through on_error). An already open log is closed first.
   */
  open(path: string, format: HciDumpFormat | number): number {
    const code = formatCode(format);
    this.close();
    let fd: number;
    try {
      fd = fs.openSync(path, 'w');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.report(err);
      return typeof err.errno === 'number' ? Math.abs(err.errno) : 1;
    }
    this.file = new FileSink(fd, path);
    return this.start(this.file, code) ? 0 : 5; // EIO when the header write failed
  }

  /** Log to a sink (a function receiving each record, or an HciDumpSink). */
  open_sink(sink: HciDumpSink | ((bytes: Uint8Array) => void), format: HciDumpFormat | number): void {
    const code = formatCode(format);
    this.close();
    this.start(typeof sink === 'function' ? { write: sink } : sink, code);
  }

  /** Close the log (the file is closed; a sink's close() is called). Safe to call twice. */
  close(): void {
    const sink = this.sink;
    this.sink = null;
    this.file = null;
    this.fmt = 0;
    this.active = false;
    if (sink?.close) {
      try {
        sink.close();
      } catch (e) {
        this.report(e as Error);
      }
    }
  }

  /** BTstack's hci_dump_enable_packet_log: packets are (not) written; log lines are unaffected. */
  enable_packet_log(enabled: boolean): void {
    this.packetLogEnabled = !!enabled;
    this.active = this.fmt !== 0 && this.packetLogEnabled;
  }

  /** BTstack's hci_dump_enable_log_level(level, enable): level 0 debug, 1 info, 2 error, 3 print. */
  enable_log_level(level: number, enabled: boolean | number): void {
    if (level >= 0 && level < LEVEL_COUNT) this.levelEnabled[level] = !!enabled;
  }

  /**
   * BTstack's hci_dump_set_max_packets: see the file comment. `mode` 'restart' (default, as
   * BTstack) starts the log over when n packets are in it; 'stop' stops writing packets.
   */
  set_max_packets(n: number, mode: HciDumpLimitMode = 'restart'): void {
    if (mode !== 'restart' && mode !== 'stop') throw new TypeError(`hci_dump: unknown limit mode ${String(mode)}`);
    this.maxPackets = n > 0 ? Math.floor(n) : 0;
    this.limitMode = mode;
    this.nrPackets = 0;
  }

  /**
   * BTstack's hci_dump_packet. `packet` is the HCI packet without the H4 type byte, `len` its
   * size. `incoming` 1 = from the controller. Unknown packet types are ignored.
   */
  log_packet(packet_type: number, incoming: number | boolean, packet: Uint8Array, len: number): void {
    if (!this.active) return;
    if (packet_type < HCI_COMMAND_DATA_PACKET || packet_type > HCI_ISO_DATA_PACKET) return;
    if (this.maxPackets > 0) {
      if (this.nrPackets >= this.maxPackets) {
        if (this.limitMode === 'stop' || !this.sink!.reset) {
          this.packets_dropped++;
          return;
        }
        if (!this.restart()) return;
      }
      this.nrPackets++;
    }
    if (!(len <= packet.length)) len = packet.length; // also catches NaN
    if (len < 0) len = 0;
    const inb = incoming ? 1 : 0;
    if (this.fmt === 1) this.writeBtsnoop(packet_type, inb, packet, len);
    else if (packet_type === HCI_ISO_DATA_PACKET) this.writeNote(isoSummary(inb, packet, len));
    else this.writePklg(pklgType(packet_type, inb), packet, len);
  }

  /**
   * BTstack's log_info/log_error lines (hci_dump_log): a PacketLogger note record (type 0xFC).
   * btsnoop has no text records, so lines are skipped there (counted in messages_skipped).
   * Not affected by enable_packet_log or the packet limit, as in BTstack.
   */
  log_message(level: number, text: string): void {
    if (this.fmt === 0) return;
    if (!(level >= 0 && level < LEVEL_COUNT) || !this.levelEnabled[level]) return;
    if (this.fmt === 1) {
      this.messages_skipped++;
      return;
    }
    this.writeNote(text);
  }

  /** A Logger sink (see src/core/log.ts) that forwards log lines here: logger.add_sink(dump.log_sink). */
  readonly log_sink = (level: number, message: string): void => this.log_message(level, message);

  // --- internals ---

  private start(sink: HciDumpSink, code: number): boolean {
    this.sink = sink;
    this.fmt = code;
    this.active = this.packetLogEnabled;
    this.nrPackets = 0;
    this.records_written = 0;
    this.packets_dropped = 0;
    this.messages_skipped = 0;
    this.restarts = 0;
    this.errorReported = false;
    if (code === 1) return this.emit(BTSNOOP_FILE_HEADER, false);
    return true;
  }

  private restart(): boolean {
    try {
      this.sink!.reset!();
    } catch (e) {
      this.fail(e as Error);
      return false;
    }
    this.nrPackets = 0;
    this.restarts++;
    if (this.fmt === 1) return this.emit(BTSNOOP_FILE_HEADER, false);
    return true;
  }

  private ensure(size: number): Uint8Array {
    if (this.scratch.length < size) {
      this.scratch = new Uint8Array(Math.max(size, this.scratch.length * 2));
      this.view = new DataView(this.scratch.buffer);
    }
    return this.scratch;
  }

  /** Reads the clock into tsHi/tsLo (u32 halves of microseconds since the Unix epoch). */
  private now(): void {
    let t: bigint | number = 0;
    try {
      t = this.nowUs();
    } catch {
      t = 0; // a broken clock must not stop the log
    }
    if (typeof t === 'bigint') {
      if (t < 0n) t = 0n;
      this.tsHi = Number((t >> 32n) & 0xffffffffn);
      this.tsLo = Number(t & 0xffffffffn);
      return;
    }
    if (!(t > 0)) t = 0;
    if (t > Number.MAX_SAFE_INTEGER) t = Number.MAX_SAFE_INTEGER;
    t = Math.floor(t);
    this.tsHi = Math.floor(t / TWO_32);
    this.tsLo = t % TWO_32;
  }

  private writeBtsnoop(type: number, inb: number, packet: Uint8Array, len: number): void {
    const total = BTSNOOP_RECORD_HEADER_SIZE + 1 + len;
    const b = this.ensure(total);
    const v = this.view;
    const flags = inb | (type === HCI_COMMAND_DATA_PACKET || type === HCI_EVENT_PACKET ? 2 : 0);
    v.setUint32(0, len + 1);
    v.setUint32(4, len + 1);
    v.setUint32(8, flags);
    v.setUint32(12, 0);
    this.now();
    const low = this.tsLo + EPOCH_LO;
    v.setUint32(16, (this.tsHi + EPOCH_HI + (low >= TWO_32 ? 1 : 0)) >>> 0);
    v.setUint32(20, low >>> 0);
    b[24] = type;
    b.set(len === packet.length ? packet : packet.subarray(0, len), 25);
    this.emit(b.subarray(0, total), true);
  }

  private pklgHeader(b: Uint8Array, payload: number, type: number): void {
    const v = this.view;
    v.setUint32(0, PKLG_RECORD_HEADER_SIZE - 4 + payload);
    this.now();
    // seconds and microseconds; hi * 2^32 + lo is exact for any time up to 2^53 us (year 2255).
    const us = this.tsHi * TWO_32 + this.tsLo;
    const secs = Math.floor(us / 1_000_000);
    v.setUint32(4, secs >>> 0);
    v.setUint32(8, us - secs * 1_000_000);
    b[12] = type;
  }

  private writePklg(type: number, packet: Uint8Array, len: number): void {
    const total = PKLG_RECORD_HEADER_SIZE + len;
    const b = this.ensure(total);
    this.pklgHeader(b, len, type);
    b.set(len === packet.length ? packet : packet.subarray(0, len), PKLG_RECORD_HEADER_SIZE);
    this.emit(b.subarray(0, total), true);
  }

  private writeNote(text: string): void {
    const b = this.ensure(PKLG_RECORD_HEADER_SIZE + MAX_MESSAGE_LEN);
    const body = b.subarray(PKLG_RECORD_HEADER_SIZE, PKLG_RECORD_HEADER_SIZE + MAX_MESSAGE_LEN - 1);
    // Up to 255 bytes of text plus a NUL, as in BTstack's 256-byte message buffer; encodeInto
    // never splits a character. The NUL is written (BTstack does not write it) because btmon
    // prints a note as a C string from a reused buffer: without it a short note shows the tail
    // of a longer one before it. Wireshark drops the trailing NUL when it shows the text.
    const { written } = te.encodeInto(text, body);
    b[PKLG_RECORD_HEADER_SIZE + written] = 0;
    this.pklgHeader(b, written + 1, PKLG_TYPE_NOTE);
    this.emit(b.subarray(0, PKLG_RECORD_HEADER_SIZE + written + 1), true);
  }

  private emit(bytes: Uint8Array, record: boolean): boolean {
    const sink = this.sink;
    if (!sink) return false;
    try {
      sink.write(bytes);
    } catch (e) {
      this.fail(e as Error);
      return false;
    }
    if (record) this.records_written++;
    return true;
  }

  private fail(error: Error): void {
    this.close();
    this.report(error);
  }

  private report(error: Error): void {
    if (this.errorReported) return;
    this.errorReported = true;
    try {
      this.onError(error);
    } catch {
      // a throwing error callback must not reach the stack either
    }
  }
}

function pklgType(type: number, inb: number): number {
  switch (type) {
    case HCI_COMMAND_DATA_PACKET:
      return PKLG_TYPE_COMMAND;
    case HCI_ACL_DATA_PACKET:
      return inb ? PKLG_TYPE_ACL_RECEIVED : PKLG_TYPE_ACL_SENT;
    case HCI_SCO_DATA_PACKET:
      return inb ? PKLG_TYPE_SCO_RECEIVED : PKLG_TYPE_SCO_SENT;
    default:
      return PKLG_TYPE_EVENT;
  }
}

/** Text for an ISO packet in a PacketLogger log (the format has no ISO record type). */
function isoSummary(inb: number, p: Uint8Array, len: number): string {
  if (len < 4) return `ISO ${inb ? 'in' : 'out'}: ${len} bytes (short)`;
  const handle = (p[0]! | (p[1]! << 8)) & 0x0fff;
  const pb = (p[1]! >> 4) & 3;
  const ts = (p[1]! >> 6) & 1;
  const dataLen = (p[2]! | (p[3]! << 8)) & 0x3fff;
  return `ISO ${inb ? 'in' : 'out'}: handle 0x${handle.toString(16).padStart(4, '0')} pb ${pb} ts ${ts} data_load_length ${dataLen}`;
}
