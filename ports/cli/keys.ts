/**
 * The link key store of the `bthost` commands, and `bthost keys [list | delete ADDR | delete --all]`.
 *
 * Where the keys are kept (BTstack's posix ports keep one TLV file per controller address):
 *   --keys FILE          that file, with or without --port
 *   --port, no --keys    KEYS_DIR/bthost_<BD_ADDR>.tlv, KEYS_DIR = $BTHOST_KEYS_DIR or ~/.bthost
 *                        (the directory is made, mode 0700, when the first key is stored)
 *   neither              in memory: the virtual controller's peers live only as long as the process
 * The file is ports/posix/tlv-file.ts (atomic rewrite per change) holding the TLV link key db
 * (src/hci/link-key-db-tlv.ts) and the LE bonds (src/sm/le-device-db-tlv.ts) in one store: open it
 * once (open_key_store) and give both dbs the same store object, since each store object rewrites
 * the whole file. `bthost keys` works on the files alone, without a controller: with --keys on
 * that file, else on every bthost_*.tlv in KEYS_DIR; it lists and deletes link keys and LE bonds.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bd_addr_cmp, bd_addr_to_str, type BdAddr } from '../../src/core/bytes.js';
import { Logger } from '../../src/core/log.js';
import type { BtstackTlv } from '../../src/core/tlv.js';
import { btstack_link_key_db_tlv_get_instance } from '../../src/hci/link-key-db-tlv.js';
import type { BtstackLinkKeyDb, LinkKeyEntry } from '../../src/hci/link-key-db.js';
import { le_device_db_tlv_get_instance } from '../../src/sm/le-device-db-tlv.js';
import type { LeDeviceDb, LeDeviceDbEncryption } from '../../src/sm/le-device-db.js';
import {
  btstack_tlv_posix_init_instance,
  btstack_tlv_posix_path_for_controller,
  type BtstackTlvFile,
} from '../posix/tlv-file.js';
import { link_key_type_text } from './agent.js';
import { parse_addr, usage_error } from './common.js';
import { Flags, type CliOptions } from './options.js';

/** The directory of per-controller key files: $BTHOST_KEYS_DIR, else ~/.bthost. */
export function keys_dir(): string {
  return process.env['BTHOST_KEYS_DIR'] || path.join(os.homedir(), '.bthost');
}

/** Key store problems as `bthost: key store ...` lines on stderr. */
function stderr_logger(): Logger {
  const log = new Logger();
  log.add_sink((_level, message) => process.stderr.write(`bthost: ${message}\n`));
  return log;
}

/** A file store whose directory is made when the first value is stored (listing keys makes nothing). */
class MkdirOnWrite implements BtstackTlv {
  constructor(readonly file: BtstackTlvFile) {}
  get_tag(tag: number): Uint8Array | null {
    return this.file.get_tag(tag);
  }
  store_tag(tag: number, data: Uint8Array, len?: number): number {
    try {
      fs.mkdirSync(path.dirname(this.file.path), { recursive: true, mode: 0o700 });
    } catch {
      // the write below fails and says why
    }
    return this.file.store_tag(tag, data, len);
  }
  delete_tag(tag: number): void {
    this.file.delete_tag(tag);
  }
}

/** The link key db in `file`. */
export function open_key_file(file: string): BtstackLinkKeyDb {
  return open_key_store(file).link_keys;
}

/** Link keys and LE bonds (src/sm/le-device-db-tlv.ts, tags 'BTD' i) on one TLV file: one writer per file. */
export function open_key_store(file: string): { link_keys: BtstackLinkKeyDb; le_devices: LeDeviceDb } {
  const log = stderr_logger();
  const tlv = new MkdirOnWrite(btstack_tlv_posix_init_instance(file, { log }));
  return { link_keys: btstack_link_key_db_tlv_get_instance(tlv), le_devices: le_device_db_tlv_get_instance(tlv, undefined, log) };
}

/** One LE bond as `bthost keys` shows it. */
export interface LeBondEntry {
  index: number;
  addr_type: number;
  addr: BdAddr;
  /** Which keys the bond holds: LTK (the peer's), local-LTK (ours, legacy), IRK, CSRK, local-CSRK. */
  keys: string[];
  /** The LTK's properties (the peer's LTK, else ours), null without one. */
  enc: LeDeviceDbEncryption | null;
}

/** Every LE bond of a db, in slot order. */
export function list_le_bonds(db: LeDeviceDb): LeBondEntry[] {
  const out: LeBondEntry[] = [];
  for (let i = 0; i < db.le_device_db_max_count(); i++) {
    const info = db.le_device_db_info(i);
    if (!info) continue;
    const remote = db.le_device_db_encryption_get(i);
    const local = db.le_device_db_local_encryption_get(i);
    const keys: string[] = [];
    if (remote) keys.push('LTK');
    if (local) keys.push('local-LTK');
    if (info.irk.some((b) => b !== 0)) keys.push('IRK');
    if (db.le_device_db_remote_csrk_get(i)) keys.push('CSRK');
    if (db.le_device_db_local_csrk_get(i)) keys.push('local-CSRK');
    out.push({ index: i, addr_type: info.addr_type, addr: info.addr, keys, enc: remote ?? local });
  }
  return out;
}

/** `LE public  C0:FF:EE:00:00:01  keys LTK,IRK  authenticated no  SC yes  key size 16` */
export function le_bond_text(b: LeBondEntry): string {
  const yn = (v: boolean): string => (v ? 'yes' : 'no');
  const enc = b.enc
    ? `  authenticated ${yn(b.enc.authenticated)}  SC ${yn(b.enc.secure_connection)}  key size ${b.enc.key_size}`
    : '  no LTK';
  return `LE ${b.addr_type === 0 ? 'public' : 'random'}  ${bd_addr_to_str(b.addr)}  keys ${b.keys.join(',') || 'none'}${enc}`;
}

/** The file this command keeps its keys in (see the header), or null: in memory. */
export function key_file_for(options: CliOptions, local: BdAddr): string | null {
  if (options.keys !== undefined) return options.keys;
  if (!options.port.tty) return null;
  return btstack_tlv_posix_path_for_controller(keys_dir(), local);
}

/** Every key of a db, in slot order. */
export function list_keys(db: BtstackLinkKeyDb): LinkKeyEntry[] {
  const out: LinkKeyEntry[] = [];
  const it = { context: null };
  if (!db.iterator_init(it)) return out;
  for (let e = db.iterator_get_next(it); e; e = db.iterator_get_next(it)) out.push(e);
  db.iterator_done(it);
  return out;
}

/** The files `bthost keys` works on. */
function stores(options: CliOptions): string[] {
  if (options.keys !== undefined) return [options.keys];
  const dir = keys_dir();
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => /^bthost_([0-9A-F]{2}-){5}[0-9A-F]{2}\.tlv$/.test(n));
  } catch {
    // no directory: no stores
  }
  return names.sort().map((n) => path.join(dir, n));
}

export async function keys_main(options: CliOptions): Promise<number> {
  const flags = new Flags(options.rest, [], ['--all']);
  if (flags.errors.length) return usage_error('keys', flags.errors[0]!);
  const [sub = 'list', ...args] = flags.positional;
  const files = stores(options);
  const where = options.keys !== undefined ? options.keys : `${keys_dir()}/bthost_*.tlv`;
  if (sub === 'list') {
    if (args.length || flags.has('--all')) return usage_error('keys', `unexpected argument '${args[0] ?? '--all'}'`);
    for (const file of files) {
      const store = open_key_store(file);
      const keys = list_keys(store.link_keys);
      const bonds = list_le_bonds(store.le_devices);
      const le = bonds.length ? `, ${bonds.length} LE bond${bonds.length === 1 ? '' : 's'}` : '';
      process.stdout.write(`${file}: ${keys.length} key${keys.length === 1 ? '' : 's'}${le}\n`);
      for (const k of keys)
        process.stdout.write(`  ${bd_addr_to_str(k.bd_addr)}  type ${k.type} (${link_key_type_text(k.type)})\n`);
      for (const b of bonds) process.stdout.write(`  ${le_bond_text(b)}\n`);
    }
    if (!files.length || (options.keys !== undefined && !fs.existsSync(options.keys)))
      process.stderr.write(`bthost: no key store at ${where} yet\n`);
    return 0;
  }
  if (sub !== 'delete') return usage_error('keys', `unknown subcommand '${sub}' (list or delete)`);
  const all = flags.has('--all');
  if (all && args.length) return usage_error('keys', `delete --all takes no address, got '${args[0]}'`);
  if (!all && args.length > 1) return usage_error('keys', `unexpected argument '${args[1]}'`);
  const addr = all ? null : parse_addr(args[0]);
  if (typeof addr === 'string') return usage_error('keys', addr);
  let deleted = 0;
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const store = open_key_store(file);
    const db = store.link_keys;
    for (const k of list_keys(db)) {
      if (addr && bd_addr_cmp(k.bd_addr, addr) !== 0) continue;
      db.delete_link_key(k.bd_addr);
      deleted++;
      process.stdout.write(`deleted the key for ${bd_addr_to_str(k.bd_addr)} from ${file}\n`);
    }
    for (const b of list_le_bonds(store.le_devices)) {
      if (addr && bd_addr_cmp(b.addr, addr) !== 0) continue;
      store.le_devices.le_device_db_remove(b.index);
      deleted++;
      const type = b.addr_type === 0 ? 'public' : 'random';
      process.stdout.write(`deleted the LE bond for ${bd_addr_to_str(b.addr)} (${type}) from ${file}\n`);
    }
  }
  if (!deleted && addr) {
    process.stderr.write(`bthost: no key for ${bd_addr_to_str(addr)} in ${where}\n`);
    return 1;
  }
  if (!deleted) process.stdout.write(`no keys in ${where}\n`);
  return 0;
}
