/**
 * Emitters of tools/gen-codes.ts: getter, array and builder code for one event row, with the
 * offset arithmetic and the naming rules of BTstack's event generator.
 */
import { EventRow, Field, INT_LETTERS, LETTER_SIZE, TableError } from './gen-codes-tables.js';

/* ================================================================ generation */

export const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval ' +
    'buf pos size packet iter e'
  ).split(' '),
);

export function arg_name(name: string): string {
  return RESERVED.has(name) || name.startsWith('_') ? `${name}_` : name;
}

/** BTstack's generator: lower case, '_event' appended if the name has no 'event'. */
export function function_base_name(event_name: string): string {
  const lower = event_name.toLowerCase();
  return lower.includes('event') ? lower : `${lower}_event`;
}

/** Getter for a meta event's subevent code: HCI_EVENT_LE_META -> hci_event_le_meta, HCI_EVENT_META_GAP -> hci_event_gap_meta. */
export function meta_base_name(event_name: string): string {
  const lower = event_name.toLowerCase();
  const m = /^hci_event_meta_([a-z0-9_]+)$/.exec(lower);
  return m ? `hci_event_${m[1]}_meta` : lower;
}

export function doc(text: string): string {
  return text.replace(/\*\//g, '* /');
}

export function hex2(n: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(2, '0');
}

/** An offset expression: base (e.g. 'iter.pos') + constant + dynamic terms. */
export class Offset {
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

export interface Reader {
  type: string;
  /** Expression reading the field at offset o (packet in `packet`, end in `e`). */
  expr: (o: string) => string;
}

export function reader_for(letter: string, len_expr: string | null): Reader {
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

export function arg_type(letter: string): string {
  if (INT_LETTERS.includes(letter)) return 'number';
  if (letter === 'B') return 'BdAddr';
  if (letter === 'N' || letter === 'T') return 'string';
  if (letter === 'C') return 'ArrayLike<number>';
  return 'Uint8Array';
}

export interface Emitter {
  out: string[];
  exported: Set<string>;
  used: Set<string>;
  file: string;
}

export function declare(em: Emitter, name: string, line: number): void {
  if (em.exported.has(name)) throw new TableError(em.file, line, `generated name ${name} is defined twice`);
  em.exported.add(name);
}

/** Track runtime helpers used by an emitted snippet (for a minimal import list). */
export function use(em: Emitter, code: string): string {
  for (const m of code.matchAll(
    /\b(rd_[a-z0-9]+|put_[a-z0-9_]+|utf8_length|event_end|little_endian_store_(?:16|24|32)|store_bd_addr)\(/g,
  )) {
    em.used.add(m[1]!);
  }
  return code;
}

export function describe_event(ev: EventRow): string {
  const code = ev.subevent === undefined ? hex2(ev.code) : `${hex2(ev.code)}/${hex2(ev.subevent)}`;
  let s = `${ev.layer} event ${code}`;
  if (ev.format === null) s += ', no @format';
  else s += `, @format \`${ev.format}\`${ev.params.length ? ` (${ev.params.join(', ')})` : ''}`;
  if (ev.notes) s += `. ${ev.notes}`;
  return doc(s);
}

export function emit_getters(em: Emitter, ev: EventRow): void {
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

export function emit_array(em: Emitter, ev: EventRow, base: string, f: Field, start: string, count: string): void {
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

export function emit_builder(em: Emitter, ev: EventRow): void {
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
export function fixed_size(ev: EventRow): number | undefined {
  if (ev.format === null) return undefined;
  let n = 2;
  for (const f of ev.fields) {
    const s = LETTER_SIZE[f.letter]!;
    if (s < 0) return undefined;
    n += s;
  }
  return ev.total !== undefined && ev.total > n ? ev.total : n;
}
