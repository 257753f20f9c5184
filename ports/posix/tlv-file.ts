/**
 * The file-backed tag-value store (BTstack's platform/posix btstack_tlv_posix, our own format and
 * code): the BtstackTlv contract of src/core/tlv.ts kept in one file per controller, rewritten
 * whole and atomically on every change. Keys are written rarely and must be on disk before the
 * stack goes on, so the calls are synchronous (node:fs *Sync).
 *
 * Write: the whole store goes to `<file>.tmp` in the same directory (mode 0600), which is fsync'ed,
 * renamed over `<file>`, and the directory is fsync'ed; a crash at any moment leaves either the old
 * or the new file, never a mix. A `<file>.tmp` found at open is the remnant of an interrupted write
 * and is removed (the file itself is still whole).
 *
 * Format, version 1 (all integers little endian):
 *
 *   header  20 bytes: magic "BTHTLV\r\n" (8), version u16 = 1, reserved u16 = 0, record count u32,
 *           CRC-32 of the 16 bytes before it (u32)
 *   record  tag u32, len u32, value (len bytes), CRC-32 of tag + len + value (u32); records sorted by tag
 *
 * CRC-32 is the IEEE 802.3 / zlib one (reflected polynomial 0xEDB88320). Reading never throws: a
 * file with a bad magic, version or header checksum reads as empty; a truncated or corrupt record
 * ends the read and the records before it are kept; either is reported in one log line. The next
 * change rewrites the file with what was kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  bd_addr_to_str,
  little_endian_read_16,
  little_endian_read_32,
  little_endian_store_16,
  little_endian_store_32,
  type BdAddr,
} from '../../src/core/bytes.js';
import { Logger } from '../../src/core/log.js';
import { BtstackTlvMemory, btstack_tag32_to_str, type BtstackTlvLimits } from '../../src/core/tlv.js';
import { ERROR_CODE_COMMAND_DISALLOWED, ERROR_CODE_HARDWARE_FAILURE } from '../../src/codes/v1.4.js';

/** The magic that starts every file: "BTHTLV\r\n". */
export const TLV_FILE_MAGIC: Readonly<Uint8Array> = Uint8Array.from([0x42, 0x54, 0x48, 0x54, 0x4c, 0x56, 0x0d, 0x0a]);
/** The format version this code writes and reads. */
export const TLV_FILE_VERSION = 1;
/** Bytes of the header: magic, version, reserved, count, CRC-32. */
export const TLV_FILE_HEADER_LEN = 20;
/** Bytes a record adds to its value: tag, len, CRC. */
export const TLV_FILE_RECORD_OVERHEAD = 12;

let crc_table: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, as zlib's crc32) of data. */
export function tlv_file_crc32(data: Uint8Array, start = 0, end = data.length): number {
  if (!crc_table) {
    crc_table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crc_table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = crc_table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** What a file holds: its tags and values, and the problem found, if any (null: the file is whole). */
export interface TlvFileContents {
  /** The records read (all of them, or those before the damage). */
  values: Map<number, Uint8Array>;
  /** What was wrong, for the log line; null when the file is whole. */
  problem: string | null;
}

/** Encode `values` (any order; written sorted by tag) as a version 1 file. */
export function tlv_file_encode(values: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const tags = [...values.keys()].sort((a, b) => a - b);
  let size = TLV_FILE_HEADER_LEN;
  for (const t of tags) size += TLV_FILE_RECORD_OVERHEAD + values.get(t)!.length;
  const out = new Uint8Array(size);
  out.set(TLV_FILE_MAGIC, 0);
  little_endian_store_16(out, 8, TLV_FILE_VERSION);
  little_endian_store_32(out, 12, tags.length);
  little_endian_store_32(out, 16, tlv_file_crc32(out, 0, 16));
  let pos = TLV_FILE_HEADER_LEN;
  for (const t of tags) {
    const v = values.get(t)!;
    little_endian_store_32(out, pos, t);
    little_endian_store_32(out, pos + 4, v.length);
    out.set(v, pos + 8);
    little_endian_store_32(out, pos + 8 + v.length, tlv_file_crc32(out, pos, pos + 8 + v.length));
    pos += TLV_FILE_RECORD_OVERHEAD + v.length;
  }
  return out;
}

/**
 * Decode a file's bytes; never throws. Values longer than limits.max_value_len or more than
 * limits.max_tags records end the read as corrupt.
 */
export function tlv_file_decode(bytes: Uint8Array, limits: Readonly<BtstackTlvLimits>): TlvFileContents {
  const values = new Map<number, Uint8Array>();
  if (bytes.length < TLV_FILE_HEADER_LEN) return { values, problem: `${bytes.length}-byte file, shorter than the header` };
  for (let i = 0; i < TLV_FILE_MAGIC.length; i++) {
    if (bytes[i] !== TLV_FILE_MAGIC[i]) return { values, problem: 'bad magic (not a bthost key store)' };
  }
  if (little_endian_read_32(bytes, 16) !== tlv_file_crc32(bytes, 0, 16)) return { values, problem: 'bad header checksum' };
  const version = little_endian_read_16(bytes, 8);
  if (version !== TLV_FILE_VERSION) return { values, problem: `unsupported version ${version}` };
  const count = little_endian_read_32(bytes, 12);
  let pos = TLV_FILE_HEADER_LEN;
  for (let k = 0; k < count; k++) {
    const at = `record ${k + 1} of ${count} at offset ${pos}`;
    if (k >= limits.max_tags) return { values, problem: `${at}: more than ${limits.max_tags} records` };
    if (pos + 8 > bytes.length) return { values, problem: `${at}: truncated` };
    const tag = little_endian_read_32(bytes, pos);
    const len = little_endian_read_32(bytes, pos + 4);
    if (len > limits.max_value_len) return { values, problem: `${at}: length ${len} over ${limits.max_value_len}` };
    const end = pos + 8 + len;
    if (end + 4 > bytes.length) return { values, problem: `${at}: truncated` };
    if (little_endian_read_32(bytes, end) !== tlv_file_crc32(bytes, pos, end)) return { values, problem: `${at}: bad checksum` };
    if (values.has(tag)) return { values, problem: `${at}: tag ${btstack_tag32_to_str(tag)} twice` };
    values.set(tag, bytes.slice(pos + 8, end));
    pos = end + 4;
  }
  if (pos !== bytes.length) return { values, problem: `${bytes.length - pos} bytes after the last record` };
  return { values, problem: null };
}

/** Options of btstack_tlv_posix_init_instance. */
export interface TlvFileOptions {
  /** Bounds (default: DEFAULT_TLV_LIMITS). */
  limits?: Partial<BtstackTlvLimits>;
  /** Where problems are reported, one line each (default: a line on stderr). Pass the stack's `log` to get them into the packet log. */
  log?: Logger;
}

function default_logger(): Logger {
  const log = new Logger();
  log.add_sink((_level, message) => console.error(message));
  return log;
}

/** The file-backed store; create it with btstack_tlv_posix_init_instance. */
export class BtstackTlvFile extends BtstackTlvMemory {
  private closed = false;
  private readonly log: Logger;

  /** @internal use btstack_tlv_posix_init_instance */
  constructor(
    /** The file the store lives in. */
    readonly path: string,
    options: TlvFileOptions = {},
  ) {
    super(options.limits);
    this.log = options.log ?? default_logger();
    this.remove_stale_temp();
    this.load();
  }

  /** The temp file a write goes through. */
  get temp_path(): string {
    return `${this.path}.tmp`;
  }

  /** Stop using the file (BTstack's btstack_tlv_posix_deinit): later store_tag calls return ERROR_CODE_COMMAND_DISALLOWED. */
  close(): void {
    this.closed = true;
  }

  /** @internal */
  protected override check_room(tag: number, len: number): number {
    return this.closed ? ERROR_CODE_COMMAND_DISALLOWED : super.check_room(tag, len);
  }

  /** @internal writes the file: temp file, fsync, rename, directory fsync */
  protected override persist(): number {
    if (this.closed) return ERROR_CODE_COMMAND_DISALLOWED;
    const bytes = tlv_file_encode(this.values);
    const tmp = this.temp_path;
    let fd = -1;
    try {
      fd = fs.openSync(tmp, 'w', 0o600);
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = -1;
      fs.renameSync(tmp, this.path);
    } catch (err) {
      if (fd >= 0) this.quietly(() => fs.closeSync(fd));
      this.quietly(() => fs.unlinkSync(tmp));
      this.log.error(`key store ${this.path}: write failed (${(err as Error).message}); the file keeps its previous contents`);
      return ERROR_CODE_HARDWARE_FAILURE;
    }
    this.fsync_directory();
    return 0;
  }

  private load(): void {
    let bytes: Uint8Array;
    try {
      bytes = this.read_bounded();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // a new store
      this.log.error(`key store ${this.path}: cannot read (${(err as Error).message}); starting empty`);
      return;
    }
    const { values, problem } = tlv_file_decode(bytes, this.limits);
    for (const [tag, value] of values) this.values.set(tag, value);
    if (problem) this.log.error(`key store ${this.path}: ${problem}; kept ${values.size} record(s)`);
  }

  /** The file's bytes, at most as many as a full store can take plus one (a longer file is corrupt anyway). */
  private read_bounded(): Uint8Array {
    const max = TLV_FILE_HEADER_LEN + this.limits.max_tags * (TLV_FILE_RECORD_OVERHEAD + this.limits.max_value_len) + 1;
    const fd = fs.openSync(this.path, 'r');
    try {
      const buf = new Uint8Array(Math.min(max, fs.fstatSync(fd).size));
      let off = 0;
      while (off < buf.length) {
        const n = fs.readSync(fd, buf, off, buf.length - off, off);
        if (n === 0) break;
        off += n;
      }
      return buf.subarray(0, off);
    } finally {
      fs.closeSync(fd);
    }
  }

  private remove_stale_temp(): void {
    try {
      fs.unlinkSync(this.temp_path);
      this.log.error(`key store ${this.path}: removed ${path.basename(this.temp_path)} left by an interrupted write`);
    } catch {
      // none (the usual case)
    }
  }

  /** Make the rename durable. Directories cannot be opened for fsync on some systems (Windows): best effort. */
  private fsync_directory(): void {
    let fd = -1;
    try {
      fd = fs.openSync(path.dirname(this.path), 'r');
      fs.fsyncSync(fd);
    } catch {
      // not supported here
    } finally {
      if (fd >= 0) this.quietly(() => fs.closeSync(fd));
    }
  }

  private quietly(f: () => void): void {
    try {
      f();
    } catch {
      // cleanup after a failure: the failure is what gets reported
    }
  }
}

/**
 * Open (or start) the store in `file` (BTstack's btstack_tlv_posix_init_instance): reads what the
 * file holds, reporting a damaged file on options.log. Never throws for the file's contents.
 */
export function btstack_tlv_posix_init_instance(file: string, options: TlvFileOptions = {}): BtstackTlvFile {
  return new BtstackTlvFile(file, options);
}

/** BTstack's btstack_tlv_posix_deinit. */
export function btstack_tlv_posix_deinit(tlv: BtstackTlvFile): void {
  tlv.close();
}

/**
 * The file of the store for the controller at `bd_addr` in `dir`: `bthost_AA-BB-CC-DD-EE-FF.tlv`
 * (BTstack's posix ports name theirs `btstack_<addr>.tlv`; ours has its own format, so its own name).
 */
export function btstack_tlv_posix_path_for_controller(dir: string, bd_addr: BdAddr): string {
  return path.join(dir, `bthost_${bd_addr_to_str(bd_addr).replace(/:/g, '-')}.tlv`);
}

/** Options of btstack_tlv_posix_open_for_controller. */
export interface ControllerTlvOptions extends TlvFileOptions {
  /** The local controller's address (Read BD_ADDR; `stack.hci.local_bd_addr` or the like once HCI_STATE_WORKING). */
  bd_addr: BdAddr;
  /** Directory of per-controller files (created if missing, mode 0700). */
  dir?: string;
  /** An explicit file (`--keys FILE`): wins over dir + address. */
  keys_file?: string;
}

/**
 * The store for this controller, as BTstack's posix ports open it once the controller's address is
 * known: `keys_file` when given, else `btstack_tlv_posix_path_for_controller(dir, bd_addr)`.
 * Throws a TypeError when neither a file nor a directory is given, and the fs error when the directory cannot be made.
 */
export function btstack_tlv_posix_open_for_controller(options: ControllerTlvOptions): BtstackTlvFile {
  const { keys_file, dir, bd_addr } = options;
  let file: string;
  if (keys_file !== undefined) {
    file = keys_file;
  } else {
    if (dir === undefined) throw new TypeError('key store: give a directory (dir) or a file (keys_file)');
    if (!(bd_addr instanceof Uint8Array) || bd_addr.length !== 6) throw new TypeError('key store: bd_addr must be 6 bytes');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    file = btstack_tlv_posix_path_for_controller(dir, bd_addr);
  }
  return btstack_tlv_posix_init_instance(file, options);
}
