/**
 * BTstack codes generator: reads the BTstack code tables and writes one TypeScript module per
 * code profile:
 *
 *   src/codes/v1.4.ts   BTstack v1.4.1 (default profile)
 *   src/codes/v1.8.ts   BTstack current (v1.8.x)
 *
 * Each module has a constant per row of the errors and events tables, a getter per event
 * parameter named as BTstack's event generator names it, a builder per event with a @format,
 * and the EVENTS metadata table.
 *
 * Tables: ../shared/reference/ (relative to the repo root) is the source of truth and is read when
 * that directory exists; tools/reference/ holds a committed byte-identical copy that a clone without
 * ../shared beside it reads instead. Regenerating (no --out) refreshes that copy from
 * ../shared/reference when it exists.
 *
 *   tsx tools/gen-codes.ts           regenerate the committed files (and refresh tools/reference/)
 *   tsx tools/gen-codes.ts --check   exit 1 if a committed file (or the copy) differs from a fresh generation
 *   (--out DIR: write/check DIR/v1.4.ts and DIR/v1.8.ts instead of src/codes/; the copy is left alone)
 *
 * Sizes: a builder writes exactly the @format layout with a correct length byte. When the notes
 * column says 'total N bytes' and N is larger than the fixed @format size, the builder appends
 * zero reserved bytes up to N, as BTstack emits it (RFCOMM_EVENT_CHANNEL_OPENED: 18 bytes).
 *
 * The output depends only on the table contents (no time stamps, stable order).
 * A malformed table row fails generation with "<file>:<line>: <reason>".
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Profile = 'v1.4' | 'v1.8';
export const PROFILES: readonly Profile[] = ['v1.4', 'v1.8'];

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The source of truth, beside the repo (absent in a plain clone). */
export const SHARED_REFERENCE_DIR = resolve(REPO_ROOT, '../shared/reference');
/** The committed copy of SHARED_REFERENCE_DIR. */
export const COMMITTED_REFERENCE_DIR = resolve(REPO_ROOT, 'tools/reference');
/** The files of the reference directory that the copy holds. */
export const REFERENCE_FILES: readonly string[] = [
  'CODES.md',
  ...PROFILES.flatMap((p) => [`btstack-${p}-errors.tsv`, `btstack-${p}-events.tsv`]),
];

/** The directory the tables are read from: `shared` when that directory exists, else the committed copy. */
export function reference_dir(shared: string = SHARED_REFERENCE_DIR): string {
  return existsSync(shared) ? shared : COMMITTED_REFERENCE_DIR;
}

export interface TablePaths {
  events: string;
  errors: string;
}

export function reference_paths(profile: Profile, dir: string = reference_dir()): TablePaths {
  return {
    events: resolve(dir, `btstack-${profile}-events.tsv`),
    errors: resolve(dir, `btstack-${profile}-errors.tsv`),
  };
}

/**
 * Bring the committed copy up to date with `shared` (when that exists; write = false only checks).
 * Returns the names of the files that differed (and were rewritten when write is true).
 */
export function sync_reference_copy(
  write: boolean,
  shared: string = SHARED_REFERENCE_DIR,
  copy: string = COMMITTED_REFERENCE_DIR,
): string[] {
  if (!existsSync(shared) || resolve(shared) === resolve(copy)) return [];
  const differ: string[] = [];
  for (const name of REFERENCE_FILES) {
    const source = readFileSync(resolve(shared, name));
    let current: Buffer | null = null;
    try {
      current = readFileSync(resolve(copy, name));
    } catch {
      current = null;
    }
    if (current !== null && current.equals(source)) continue;
    differ.push(name);
    // read + write rather than copyFile: the copy must not inherit a read-only mode
    if (write) writeFileSync(resolve(copy, name), source);
  }
  return differ;
}

export function output_path(profile: Profile, dir = resolve(REPO_ROOT, 'src/codes')): string {
  return resolve(dir, `${profile}.ts`);
}

/* =================================================================== parsing */

export class TableError extends Error {
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'TableError';
  }
}

interface ErrorRow {
  name: string;
  value: number;
  literal: string;
  group: string;
  note: string;
  line: number;
}

/** One field of a format: a letter with its param name, or an array of item fields. */
interface Field {
  letter: string;
  name: string;
  /** For '[': the item fields. */
  items?: Field[];
}

interface EventRow {
  name: string;
  code: number;
  subevent: number | undefined;
  layer: string;
  /** null = <none> (no @format). */
  format: string | null;
  params: string[];
  notes: string;
  fields: Field[];
  /** 'total N bytes' from the notes column: the size BTstack emits (may add reserved bytes). */
  total: number | undefined;
  line: number;
}

interface Alias {
  name: string;
  target: string;
}

const EVENTS_COLUMNS = ['name', 'code', 'layer', 'format', 'params', 'notes'];
const ERRORS_COLUMNS = ['name', 'value', 'file', 'group', 'note'];

/** Fixed sizes of the format letters; -1 = variable. */
const LETTER_SIZE: Readonly<Record<string, number>> = {
  '1': 1,
  a: 1,
  '2': 2,
  b: 2,
  '3': 3,
  '4': 4,
  H: 2,
  J: 1,
  L: 2,
  B: 6,
  D: 8,
  P: 16,
  K: 16,
  Q: 32,
  N: 248,
  X: 20,
  Y: 24,
  Z: 18,
  V: -1,
  R: -1,
  T: -1,
  C: -1,
  '[': -1,
};
const INT_LETTERS = '12ab34HJL';
const ITEM_LETTERS = '12ab34HBDPKQJLVXYZ';
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^(0x[0-9A-Fa-f]+|[0-9]+)$/;

function parse_number(text: string): number | null {
  if (!NUMBER.test(text)) return null;
  return text.startsWith('0x') || text.startsWith('0X') ? parseInt(text.slice(2), 16) : parseInt(text, 10);
}

function normalize_literal(text: string): string {
  if (text.startsWith('0x') || text.startsWith('0X')) return '0x' + text.slice(2).toUpperCase();
  return text;
}

interface RawRow {
  cols: string[];
  line: number;
}

function read_rows(text: string, file: string, columns: string[]): { rows: RawRow[]; comments: string[] } {
  const lines = text.split('\n');
  const comments: string[] = [];
  const rows: RawRow[] = [];
  let header = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const line = i + 1;
    if (raw.startsWith('#')) {
      comments.push(raw.slice(1).trim());
      continue;
    }
    if (raw.trim() === '') continue;
    const cols = raw.split('\t');
    if (!header) {
      if (cols.join('\t') !== columns.join('\t')) {
        throw new TableError(file, line, `expected header columns "${columns.join(', ')}", got "${cols.join(', ')}"`);
      }
      header = true;
      continue;
    }
    if (cols.length !== columns.length) {
      throw new TableError(file, line, `expected ${columns.length} tab-separated columns, got ${cols.length}`);
    }
    rows.push({ cols: cols.map((c) => c.trim()), line });
  }
  if (!header) throw new TableError(file, lines.length, 'no header row');
  return { rows, comments };
}

export function parse_errors(text: string, file: string): ErrorRow[] {
  const { rows } = read_rows(text, file, ERRORS_COLUMNS);
  return rows.map(({ cols, line }) => {
    const [name, literal, , group, note] = cols as [string, string, string, string, string];
    if (!IDENT.test(name)) throw new TableError(file, line, `bad name "${name}"`);
    const value = parse_number(literal);
    if (value === null) throw new TableError(file, line, `bad value "${literal}" for ${name} (expected hex 0x.. or decimal)`);
    return { name, value, literal: normalize_literal(literal), group, note, line };
  });
}

function parse_fields(format: string, params: string[], meta: boolean, file: string, line: number, name: string): Field[] {
  const fail = (reason: string): never => {
    throw new TableError(file, line, `${name}: ${reason} (format "${format}", params "${params.join(',')}")`);
  };
  const fields: Field[] = [];
  let pi = 0;
  let array: Field | null = null;
  for (let i = 0; i < format.length; i++) {
    const letter = format[i]!;
    if (letter === ']') {
      if (!array) fail(`']' without '['`);
      if (array!.items!.length === 0) fail('empty array');
      array = null;
      continue;
    }
    if (!(letter in LETTER_SIZE)) fail(`unknown format letter '${letter}'`);
    const param = params[pi++];
    if (param === undefined) fail('fewer params than format letters');
    if (letter === '[') {
      if (array) fail('nested arrays');
      const m = /^\[([A-Za-z_][A-Za-z0-9_]*):$/.exec(param!);
      if (!m) fail(`array param "${param}" should be written "[name:"`);
      array = { letter, name: m![1]!, items: [] };
      fields.push(array);
      continue;
    }
    if (array) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\[\]$/.exec(param!);
      if (!m) fail(`array item param "${param}" should be written "name[]"`);
      if (!ITEM_LETTERS.includes(letter)) fail(`format letter '${letter}' not supported inside an array`);
      array.items!.push({ letter, name: m![1]! });
      continue;
    }
    if (!IDENT.test(param!)) fail(`bad param name "${param}"`);
    fields.push({ letter, name: param! });
  }
  if (array) fail(`'[' without ']'`);
  if (pi !== params.length) fail(`${params.length} params for ${pi} format letters`);
  if (meta && (fields[0]?.name !== 'subevent_code' || fields[0]?.letter !== '1')) {
    fail('a meta subevent must start with param subevent_code (format 1)');
  }
  // Layout rules the getters and builders rely on.
  const check_list = (list: Field[], where: string) => {
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      const next = list[i + 1];
      const prev = list[i - 1];
      const last = i === list.length - 1;
      if ((f.letter === 'J' || f.letter === 'L') && next?.letter !== 'V') fail(`${where}'${f.letter}' must be followed by 'V'`);
      if (f.letter === 'V' && prev?.letter !== 'J' && prev?.letter !== 'L' && !last) {
        fail(`${where}'V' without a preceding 'J'/'L' length must be the last field`);
      }
      if ((f.letter === 'R' || f.letter === 'T' || f.letter === '[') && !last)
        fail(`${where}'${f.letter}' must be the last field`);
      if ((f.letter === 'C' || f.letter === '[') && (!prev || !'12H'.includes(prev.letter) || (meta && i === 1))) {
        fail(`${where}'${f.letter}' must follow its item count field`);
      }
    }
  };
  check_list(fields, '');
  for (const f of fields) if (f.items) check_list(f.items, 'array item: ');
  return fields;
}

export function parse_events(text: string, file: string): { events: EventRow[]; aliases: Alias[] } {
  const { rows, comments } = read_rows(text, file, EVENTS_COLUMNS);
  const events = rows.map(({ cols, line }) => {
    const [name, code_text, layer, format_text, params_text, notes] = cols as [string, string, string, string, string, string];
    if (!IDENT.test(name)) throw new TableError(file, line, `bad name "${name}"`);
    const parts = code_text.split('/');
    if (parts.length > 2) throw new TableError(file, line, `bad code "${code_text}" for ${name}`);
    const code = parse_number(parts[0]!);
    const subevent = parts.length === 2 ? parse_number(parts[1]!) : undefined;
    if (code === null || code > 0xff || subevent === null || (subevent !== undefined && subevent > 0xff)) {
      throw new TableError(file, line, `bad code "${code_text}" for ${name} (expected 0xNN or 0xNN/0xNN)`);
    }
    const params = params_text === '' ? [] : params_text.split(',').map((p) => p.trim());
    let format: string | null = format_text;
    let fields: Field[] = [];
    if (format_text === '<none>') {
      format = null;
      if (params.length) throw new TableError(file, line, `${name}: params given for an event without @format`);
    } else {
      fields = parse_fields(format_text, params, subevent !== undefined, file, line, name);
    }
    const total_match = /\btotal (\d+) bytes\b/.exec(notes);
    const total = total_match ? Number(total_match[1]) : undefined;
    return { name, code, subevent, layer, format, params, notes, fields, total, line };
  });
  const aliases: Alias[] = [];
  for (const c of comments) {
    for (const m of c.matchAll(/Alias ([A-Z_][A-Z0-9_]*) = ([A-Z_][A-Z0-9_]*)/g)) aliases.push({ name: m[1]!, target: m[2]! });
  }
  return { events, aliases };
}

/* ================================================================ generation */

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval ' +
    'buf pos size packet iter e'
  ).split(' '),
);

function arg_name(name: string): string {
  return RESERVED.has(name) || name.startsWith('_') ? `${name}_` : name;
}

/** BTstack's generator: lower case, '_event' appended if the name has no 'event'. */
export function function_base_name(event_name: string): string {
  const lower = event_name.toLowerCase();
  return lower.includes('event') ? lower : `${lower}_event`;
}

/** Getter for a meta event's subevent code: HCI_EVENT_LE_META -> hci_event_le_meta, HCI_EVENT_META_GAP -> hci_event_gap_meta. */
function meta_base_name(event_name: string): string {
  const lower = event_name.toLowerCase();
  const m = /^hci_event_meta_([a-z0-9_]+)$/.exec(lower);
  return m ? `hci_event_${m[1]}_meta` : lower;
}

function doc(text: string): string {
  return text.replace(/\*\//g, '* /');
}

function hex2(n: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(2, '0');
}

/** An offset expression: base (e.g. 'iter.pos') + constant + dynamic terms. */
class Offset {
  constructor(
    readonly base: string | null,
    readonly k: number,
    readonly dyn: readonly string[] = [],
  ) {}
  add(n: number): Offset {
    return new Offset(this.base, this.k + n, this.dyn);
  }
  add_dyn(term: string): Offset {
    return new Offset(this.base, this.k, [...this.dyn, term]);
  }
  toString(): string {
    const parts: string[] = [];
    if (this.base) parts.push(this.base);
    if (this.k || !this.base) parts.push(String(this.k));
    parts.push(...this.dyn);
    return parts.join(' + ');
  }
}

interface Reader {
  type: string;
  /** Expression reading the field at offset o (packet in `packet`, end in `e`). */
  expr: (o: string) => string;
}

function reader_for(letter: string, len_expr: string | null): Reader {
  switch (letter) {
    case '1':
    case 'J':
      return { type: 'number', expr: (o) => `rd_u8(packet, ${o}, e)` };
    case 'a':
      return { type: 'number', expr: (o) => `rd_i8(packet, ${o}, e)` };
    case '2':
    case 'H':
    case 'L':
      return { type: 'number', expr: (o) => `rd_u16(packet, ${o}, e)` };
    case 'b':
      return { type: 'number', expr: (o) => `rd_i16(packet, ${o}, e)` };
    case '3':
      return { type: 'number', expr: (o) => `rd_u24(packet, ${o}, e)` };
    case '4':
      return { type: 'number', expr: (o) => `rd_u32(packet, ${o}, e)` };
    case 'B':
      return { type: 'BdAddr', expr: (o) => `rd_reversed(packet, ${o}, 6, e)` };
    case 'K':
    case 'Q':
      return { type: 'Uint8Array', expr: (o) => `rd_reversed(packet, ${o}, ${LETTER_SIZE[letter]}, e)` };
    case 'D':
    case 'P':
    case 'X':
    case 'Y':
    case 'Z':
      return { type: 'Uint8Array', expr: (o) => `rd_view(packet, ${o}, ${LETTER_SIZE[letter]}, e)` };
    case 'V':
      return len_expr === null
        ? { type: 'Uint8Array', expr: (o) => `rd_rest(packet, ${o}, e)` }
        : { type: 'Uint8Array', expr: (o) => `rd_view(packet, ${o}, ${len_expr}, e)` };
    case 'R':
      return { type: 'Uint8Array', expr: (o) => `rd_rest(packet, ${o}, e)` };
    case 'N':
      return { type: 'string', expr: (o) => `rd_string(packet, ${o}, 248, e)` };
    case 'T':
      return { type: 'string', expr: (o) => `rd_string(packet, ${o}, 255, e)` };
    default:
      throw new Error(`no reader for '${letter}'`);
  }
}

function arg_type(letter: string): string {
  if (INT_LETTERS.includes(letter)) return 'number';
  if (letter === 'B') return 'BdAddr';
  if (letter === 'N' || letter === 'T') return 'string';
  if (letter === 'C') return 'ArrayLike<number>';
  return 'Uint8Array';
}

interface Emitter {
  out: string[];
  exported: Set<string>;
  used: Set<string>;
  file: string;
}

function declare(em: Emitter, name: string, line: number): void {
  if (em.exported.has(name)) throw new TableError(em.file, line, `generated name ${name} is defined twice`);
  em.exported.add(name);
}

/** Track runtime helpers used by an emitted snippet (for a minimal import list). */
function use(em: Emitter, code: string): string {
  for (const m of code.matchAll(
    /\b(rd_[a-z0-9]+|put_[a-z0-9_]+|utf8_length|event_end|little_endian_store_(?:16|24|32)|store_bd_addr)\(/g,
  )) {
    em.used.add(m[1]!);
  }
  return code;
}

function describe_event(ev: EventRow): string {
  const code = ev.subevent === undefined ? hex2(ev.code) : `${hex2(ev.code)}/${hex2(ev.subevent)}`;
  let s = `${ev.layer} event ${code}`;
  if (ev.format === null) s += ', no @format';
  else s += `, @format \`${ev.format}\`${ev.params.length ? ` (${ev.params.join(', ')})` : ''}`;
  if (ev.notes) s += `. ${ev.notes}`;
  return doc(s);
}

function emit_getters(em: Emitter, ev: EventRow): void {
  const base = function_base_name(ev.name);
  let off = new Offset(null, 2);
  let len_expr: string | null = null;
  let prev_int: string | null = null;
  const fields = ev.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (i === 0 && ev.subevent !== undefined) {
      off = off.add(1); // subevent_code at byte 2: getters skip it
      continue;
    }
    const o = off.toString();
    if (f.letter === 'C') {
      const fn = `${base}_get_${f.name}`;
      declare(em, fn, ev.line);
      const count = prev_int!;
      em.out.push(
        `/** ${ev.name}.${f.name}[index] (C: uint16 array element, ${fields[i - 1]!.name} items) */`,
        use(
          em,
          `export function ${fn}(packet: Uint8Array, index: number): number {\n` +
            `  const e = event_end(packet);\n` +
            `  return index >= 0 && index < ${count} ? rd_u16(packet, ${o} + 2 * index, e) : 0;\n}`,
        ),
      );
      off = off.add_dyn(`2 * ${count}`);
      continue;
    }
    if (f.letter === '[') {
      emit_array(em, ev, base, f, o, prev_int!);
      continue;
    }
    const r = reader_for(f.letter, f.letter === 'V' ? len_expr : null);
    const fn = `${base}_get_${f.name}`;
    declare(em, fn, ev.line);
    em.out.push(
      `/** ${ev.name}.${f.name} (${f.letter}) */`,
      use(
        em,
        `export function ${fn}(packet: Uint8Array): ${r.type} {\n  const e = event_end(packet);\n  return ${r.expr(o)};\n}`,
      ),
    );
    if (f.letter === 'J' || f.letter === 'L') len_expr = reader_for(f.letter, null).expr(o);
    prev_int = INT_LETTERS.includes(f.letter) ? reader_for(f.letter, null).expr(o) : null;
    if (f.letter === 'V') {
      off = off.add_dyn(len_expr ?? '0');
      len_expr = null;
    } else off = off.add(LETTER_SIZE[f.letter]!); // R/T/[ are last
  }
}

function emit_array(em: Emitter, ev: EventRow, base: string, f: Field, start: string, count: string): void {
  const it = `${base}_${f.name}`;
  for (const n of ['init', 'has_next', 'next']) declare(em, `${it}_${n}`, ev.line);
  // Item size, relative to iter.pos.
  let item = new Offset('o', 0);
  let len: string | null = null;
  const getters: string[] = [];
  for (const x of f.items!) {
    const r = reader_for(x.letter, x.letter === 'V' ? len : null);
    const fn = `${base}_get_${f.name}_item_${x.name}`;
    declare(em, fn, ev.line);
    getters.push(
      `/** ${ev.name}.${f.name}[].${x.name} (${x.letter}) of the iterator's current item */`,
      use(
        em,
        `export function ${fn}(iter: BtstackEventIterator): ${r.type} {\n` +
          `  const packet = iter.packet, e = iter.end, o = iter.pos;\n  return ${r.expr(item.toString())};\n}`,
      ),
    );
    if (x.letter === 'J' || x.letter === 'L') len = reader_for(x.letter, null).expr(item.toString());
    if (x.letter === 'V') {
      item = item.add_dyn(len ?? '0');
      len = null;
    } else item = item.add(LETTER_SIZE[x.letter]!);
  }
  em.out.push(
    `/** Start iterating ${ev.name}.${f.name} (${f.items!.map((x) => x.letter).join('')} per item, count from the preceding field). */`,
    use(
      em,
      `export function ${it}_init(iter: BtstackEventIterator, packet: Uint8Array): void {\n` +
        `  const e = event_end(packet);\n` +
        `  iter.packet = packet;\n  iter.end = e;\n  iter.pos = ${start};\n  iter.remaining = ${count};\n}`,
    ),
    `export function ${it}_has_next(iter: BtstackEventIterator): boolean {\n  return iter.remaining > 0 && iter.pos < iter.end;\n}`,
    use(
      em,
      `export function ${it}_next(iter: BtstackEventIterator): void {\n` +
        `  const packet = iter.packet, e = iter.end, o = iter.pos;\n` +
        `  iter.pos = ${item.toString()};\n  iter.remaining--;\n}`,
    ),
    ...getters,
  );
}

function emit_builder(em: Emitter, ev: EventRow): void {
  const base = function_base_name(ev.name);
  const fn = `${base}_build`;
  declare(em, fn, ev.line);
  const args: string[] = ['buf: Uint8Array', 'pos: number'];
  const arg_docs: string[] = [];
  const pre: string[] = []; // locals computed before the size check
  const writes: string[] = [];
  let fixed = 2;
  const dyn: string[] = [];
  let off = new Offset('pos', 2);
  const fields = ev.fields;
  let prev_arg: string | null = null;
  let prev_letter: string | null = null;
  let nloc = 0;
  if (ev.subevent !== undefined) {
    writes.push(`buf[pos + 2] = ${hex2(ev.subevent)};`);
    fixed += 1;
    off = off.add(1);
  }
  for (let i = ev.subevent !== undefined ? 1 : 0; i < fields.length; i++) {
    const f = fields[i]!;
    const o = off.toString();
    const a = arg_name(f.name);
    if (f.letter === 'J' || f.letter === 'L') {
      // length of the following V, computed from it
      const v = arg_name(fields[i + 1]!.name);
      writes.push(f.letter === 'J' ? `buf[${o}] = ${v}.length;` : `little_endian_store_16(buf, ${o}, ${v}.length);`);
      fixed += LETTER_SIZE[f.letter]!;
      off = off.add(LETTER_SIZE[f.letter]!);
      prev_arg = null;
      prev_letter = f.letter;
      continue;
    }
    if (f.letter === '[') {
      args.push(`${a}: Uint8Array`);
      arg_docs.push(
        `@param ${a} the serialized items (${f.items!.map((x) => x.letter).join('')} each), as many as ${fields[i - 1]!.name} says`,
      );
      dyn.push(`${a}.length`);
      writes.push(`put_bytes(buf, ${o}, ${a}, ${a}.length);`);
      continue;
    }
    args.push(`${a}: ${arg_type(f.letter)}`);
    switch (f.letter) {
      case '1':
      case 'a':
        writes.push(`buf[${o}] = ${a};`);
        break;
      case '2':
      case 'b':
      case 'H':
        writes.push(`little_endian_store_16(buf, ${o}, ${a});`);
        break;
      case '3':
        writes.push(`little_endian_store_24(buf, ${o}, ${a});`);
        break;
      case '4':
        writes.push(`little_endian_store_32(buf, ${o}, ${a});`);
        break;
      case 'B':
        writes.push(`store_bd_addr(buf, ${o}, ${a});`);
        break;
      case 'K':
      case 'Q':
        writes.push(`put_reversed(buf, ${o}, ${a}, ${LETTER_SIZE[f.letter]});`);
        break;
      case 'D':
      case 'P':
      case 'X':
      case 'Y':
      case 'Z':
        writes.push(`put_bytes(buf, ${o}, ${a}, ${LETTER_SIZE[f.letter]});`);
        break;
      case 'N':
        writes.push(`put_name(buf, ${o}, ${a}, 248);`);
        break;
      case 'V':
      case 'R': {
        writes.push(`put_bytes(buf, ${o}, ${a}, ${a}.length);`);
        dyn.push(`${a}.length`);
        off = off.add_dyn(`${a}.length`);
        break;
      }
      case 'T': {
        const l = `_n${nloc++}`;
        pre.push(`const ${l} = utf8_length(${a});`);
        writes.push(`put_utf8(buf, ${o}, ${a}, ${l});`, `buf[${off.add_dyn(l)}] = 0;`);
        dyn.push(`${l} + 1`);
        break;
      }
      case 'C': {
        const l = `_n${nloc++}`;
        const mask = prev_letter === '1' ? '0xff' : '0xffff';
        pre.push(`const ${l} = ${prev_arg} & ${mask};`);
        arg_docs.push(`@param ${a} ${fields[i - 1]!.name} uint16 values (missing ones written as 0)`);
        writes.push(`put_u16_array(buf, ${o}, ${a}, ${l});`);
        dyn.push(`2 * ${l}`);
        off = off.add_dyn(`2 * ${l}`);
        break;
      }
      default:
        throw new Error(`no writer for '${f.letter}'`);
    }
    if (LETTER_SIZE[f.letter]! > 0) {
      fixed += LETTER_SIZE[f.letter]!;
      off = off.add(LETTER_SIZE[f.letter]!);
    }
    prev_arg = a;
    prev_letter = f.letter;
  }
  if (fixed > 257) throw new TableError(em.file, ev.line, `${ev.name}: fixed parameters exceed 255 bytes`);
  const variable = dyn.length > 0;
  if (!variable && ev.total !== undefined && ev.total !== fixed) {
    // The notes give the size BTstack really emits; only trailing reserved bytes can be added.
    if (ev.total < fixed || ev.total > 257) {
      throw new TableError(
        em.file,
        ev.line,
        `${ev.name}: notes say total ${ev.total} bytes but @format ${ev.format} gives ${fixed}`,
      );
    }
    for (let k = fixed; k < ev.total; k++)
      writes.push(`buf[pos + ${k}] = 0; // reserved: BTstack emits ${ev.total} bytes (length byte ${ev.total - 2})`);
    fixed = ev.total;
  }
  const size = [String(fixed), ...dyn].join(' + ');
  const body: string[] = [...pre];
  body.push(`const size = ${size};`);
  body.push(
    variable
      ? `if (size > 257 || pos < 0 || pos + size > buf.length) return -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;`
      : `if (pos < 0 || pos + size > buf.length) return -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED;`,
  );
  body.push(`buf[pos] = ${hex2(ev.code)};`, `buf[pos + 1] = size - 2;`, ...writes, 'return size;');
  const docs = [
    `Build ${ev.name} (@format \`${ev.format}\`) at buf[pos]: ${variable ? 'variable size' : `${fixed} bytes`}.`,
    ...arg_docs,
    `@returns bytes written, or -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED if buf is too small${variable ? ' or the parameters exceed 255 bytes' : ''} (nothing written)`,
  ];
  em.out.push(
    `/**\n${docs.map((d) => ` * ${doc(d)}`).join('\n')}\n */`,
    use(em, `export function ${fn}(${args.join(', ')}): number {\n${body.map((l) => `  ${l}`).join('\n')}\n}`),
  );
}

/** Total bytes of an event with a fixed layout (notes' 'total N bytes' when larger), else undefined. */
function fixed_size(ev: EventRow): number | undefined {
  if (ev.format === null) return undefined;
  let n = 2;
  for (const f of ev.fields) {
    const s = LETTER_SIZE[f.letter]!;
    if (s < 0) return undefined;
    n += s;
  }
  return ev.total !== undefined && ev.total > n ? ev.total : n;
}

function read_text(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Generate the module text of one profile (from the reference tables, or the given table files). */
export function generate(profile: Profile, paths: Partial<TablePaths> = {}): string {
  const files = { ...reference_paths(profile), ...paths };
  const errors_text = read_text(files.errors);
  const events_text = read_text(files.events);
  const errors = parse_errors(errors_text, files.errors);
  const { events, aliases } = parse_events(events_text, files.events);
  const source_line = (text: string) => (text.split('\n')[0] ?? '').replace(/^#\s*/, '');

  const em: Emitter = {
    out: [],
    exported: new Set(['EVENTS', 'EVENT_INDEX', 'PROFILE', 'hci_event_packet_get_type']),
    used: new Set(),
    file: files.events,
  };
  const values = new Map<string, number>();

  em.out.push('', '/* ======================================================= status codes and constants */');
  let group = '';
  for (const row of errors) {
    const prev = values.get(row.name);
    if (prev !== undefined) {
      em.out.push(
        `// ${row.name} = ${row.literal} (line ${row.line}, ${row.group}) ${prev === row.value ? 'repeats the same value' : `ignored: the first definition (${prev}) wins`}`,
      );
      continue;
    }
    if (row.group !== group) {
      group = row.group;
      em.out.push('', `// ---- ${doc(group)}`);
    }
    values.set(row.name, row.value);
    em.exported.add(row.name);
    const deprecated = row.group === 'removed-historical' ? '@deprecated ' : '';
    em.out.push(
      `/** ${deprecated}${doc(row.group)}${row.note ? `. ${doc(row.note)}` : ''} */`,
      `export const ${row.name} = ${row.literal};`,
    );
  }
  // Aliases named in a group: 'sdp-protocol-uuid (PSM_SDP/PSM_RFCOMM/PSM_BNEP alias these)' -> PSM_SDP =
  // the row of that group named *_SDP (BTstack's l2cap.h: #define PSM_SDP BLUETOOTH_PROTOCOL_SDP).
  const group_aliases: { name: string; target: string }[] = [];
  const seen_groups = new Set<string>();
  for (const row of errors) {
    if (seen_groups.has(row.group)) continue;
    seen_groups.add(row.group);
    const m = /\(([A-Z0-9_/]+) alias these\)/.exec(row.group);
    if (!m) continue;
    const members = errors.filter((r) => r.group === row.group);
    for (const name of m[1]!.split('/')) {
      const suffix = name.slice(name.indexOf('_') + 1);
      const targets = members.filter((r) => r.name.endsWith(`_${suffix}`));
      if (!IDENT.test(name) || name.indexOf('_') < 0 || targets.length !== 1) {
        throw new TableError(
          files.errors,
          row.line,
          `alias ${name} in group "${row.group}": expected exactly one row of the group named *_${suffix}, found ${targets.length}`,
        );
      }
      group_aliases.push({ name, target: targets[0]!.name });
    }
  }
  if (group_aliases.length) em.out.push('', '// ---- aliases named in the group notes');
  for (const al of group_aliases) {
    if (values.has(al.name)) {
      em.out.push(`// ${al.name}: alias of ${al.target} not emitted, ${al.name} is defined by a row`);
      continue;
    }
    values.set(al.name, values.get(al.target)!);
    em.exported.add(al.name);
    em.out.push(`/** Alias of ${al.target}. */`, `export const ${al.name} = ${al.target};`);
  }
  if (values.get('ERROR_CODE_MEMORY_CAPACITY_EXCEEDED') === undefined) {
    throw new TableError(files.errors, 1, 'ERROR_CODE_MEMORY_CAPACITY_EXCEEDED is required by the builders');
  }

  em.out.push('', '/* ============================================== event codes (subevent codes for meta events) */', '');
  for (const ev of events) {
    const value = ev.subevent ?? ev.code;
    const prev = values.get(ev.name);
    if (prev !== undefined) {
      em.out.push(
        `// ${ev.name} (line ${ev.line}) ${prev === value ? 'repeats the same value' : `ignored: the first definition (${prev}) wins`}`,
      );
      continue;
    }
    values.set(ev.name, value);
    em.exported.add(ev.name);
    em.out.push(`/** ${describe_event(ev)} */`, `export const ${ev.name} = ${hex2(value)};`);
  }
  for (const al of aliases) {
    const v = values.get(al.target);
    if (v === undefined) throw new TableError(files.events, 1, `alias ${al.name} of unknown ${al.target}`);
    if (values.has(al.name)) continue;
    values.set(al.name, v);
    em.exported.add(al.name);
    em.out.push(`/** Alias of ${al.target}. */`, `export const ${al.name} = ${al.target};`);
  }

  em.out.push('', '/* ===================================================== meta event subevent codes */', '');
  for (const ev of events) {
    if (ev.layer !== 'meta-event-code') continue;
    const fn = `${meta_base_name(ev.name)}_get_subevent_code`;
    declare(em, fn, ev.line);
    em.out.push(
      `/** Subevent code (byte 2) of ${ev.name}. */`,
      use(em, `export function ${fn}(packet: Uint8Array): number {\n  return rd_u8(packet, 2, event_end(packet));\n}`),
    );
  }

  em.out.push('', '/* ======================================================== event getters and builders */');
  for (const ev of events) {
    if (ev.format === null) continue;
    em.out.push('', `// ---- ${ev.name}`);
    emit_getters(em, ev);
    emit_builder(em, ev);
  }

  em.out.push('', '/* ============================================================ metadata */', '');
  em.out.push('/** Every event row of the table: name, code, subevent, layer, format (null = no @format), params. */');
  em.out.push('export const EVENTS: readonly EventInfo[] = freeze_events([');
  for (const ev of events) {
    const sub = ev.subevent === undefined ? '' : ` subevent: ${hex2(ev.subevent)},`;
    const size = fixed_size(ev);
    em.out.push(
      `  { name: '${ev.name}', code: ${hex2(ev.code)},${sub} layer: ${JSON.stringify(ev.layer).replace(/"/g, "'")}, format: ${ev.format === null ? 'null' : `'${ev.format}'`},${size === undefined ? '' : ` size: ${size},`} params: [${ev.params.map((p) => `'${p}'`).join(', ')}] },`,
    );
  }
  em.out.push(
    ']);',
    '',
    '/** EVENTS indexed by code and by meta event + subevent code. */',
    'export const EVENT_INDEX: EventIndex = index_events(EVENTS);',
    '',
  );

  const bytes_imports = ['little_endian_store_16', 'little_endian_store_24', 'little_endian_store_32', 'store_bd_addr'].filter(
    (n) => em.used.has(n),
  );
  const runtime_imports = [...em.used, 'freeze_events', 'index_events'].filter((n) => !bytes_imports.includes(n)).sort();
  const header = [
    `// Code profile ${profile}: GENERATED by tools/gen-codes.ts. Do not edit; run \`npm run gen\`.`,
    `// Sources (../shared/reference/, committed copy in tools/reference/):`,
    `//   btstack-${profile}-events.tsv: ${source_line(events_text)}`,
    `//   btstack-${profile}-errors.tsv: ${source_line(errors_text)}`,
    '//',
    '// Getters take the event packet (event code at packet[0]) and never read past the event',
    "// (min(packet.length, 2 + packet[1])): a field that does not fit reads as 0, an empty array or ''.",
    '// Builders write code, parameter length and params per @format into buf at pos and return the',
    '// size, or -ERROR_CODE_MEMORY_CAPACITY_EXCEEDED without writing anything.',
    ...(bytes_imports.length ? [`import { ${bytes_imports.join(', ')} } from '../core/bytes.js';`] : []),
    `import type { BdAddr } from '../core/bytes.js';`,
    `import { ${runtime_imports.join(', ')} } from './runtime.js';`,
    `import type { BtstackEventIterator, EventIndex, EventInfo } from './runtime.js';`,
    '',
    `export { hci_event_packet_get_type } from './runtime.js';`,
    // No type exports here: src/codes/index.ts uses this module as a namespace (codes_for), and a
    // namespace with type-only members bundles into .d.ts files that declare them as values (TS2693
    // for consumers with skipLibCheck false). BdAddr, BtstackEventIterator, EventIndex and EventInfo
    // come from 'bthost'.
    '',
    `/** The code profile of this module. */`,
    `export const PROFILE = '${profile}';`,
  ];
  return [...header, ...em.out].join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}

/* ======================================================================= CLI */

/** CLI: [--check] [--out DIR] (DIR defaults to src/codes). Returns the exit code. */
export function main(argv: string[]): number {
  const check = argv.includes('--check');
  const out_index = argv.indexOf('--out');
  const dir = out_index >= 0 ? argv[out_index + 1] : undefined;
  if (out_index >= 0 && !dir) throw new Error('--out needs a directory');
  let stale = 0;
  if (dir === undefined) {
    const differ = sync_reference_copy(!check, SHARED_REFERENCE_DIR, COMMITTED_REFERENCE_DIR);
    for (const name of differ) {
      const copy = resolve(COMMITTED_REFERENCE_DIR, name);
      if (check) {
        console.error(`${copy}: STALE (differs from ../shared/reference/${name}; run npm run gen)`);
        stale++;
      } else console.log(`${copy}: copied from ../shared/reference/${name}`);
    }
  }
  for (const profile of PROFILES) {
    const text = generate(profile);
    const out = output_path(profile, dir === undefined ? undefined : resolve(dir));
    let current: string | null = null;
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      current = null;
    }
    if (current === text) {
      console.log(`${out}: up to date`);
      continue;
    }
    if (check) {
      console.error(`${out}: STALE (differs from a fresh generation; run npm run gen)`);
      stale++;
    } else {
      writeFileSync(out, text);
      console.log(`${out}: written`);
    }
  }
  return stale ? 1 : 0;
}

const invoked = process.argv[1] ? resolve(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url) || invoked === fileURLToPath(import.meta.url).replace(/\.ts$/, '')) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`gen-codes: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
