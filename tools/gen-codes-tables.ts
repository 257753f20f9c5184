/**
 * The BTstack code tables as data: the TSV reader, the errors and events parsers with their
 * format-string fields (letters, sizes, arrays), for tools/gen-codes.ts. A malformed row fails
 * with "<file>:<line>: <reason>".
 */
/* =================================================================== parsing */

export class TableError extends Error {
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'TableError';
  }
}

export interface ErrorRow {
  name: string;
  value: number;
  literal: string;
  group: string;
  note: string;
  line: number;
}

/** One field of a format: a letter with its param name, or an array of item fields. */
export interface Field {
  letter: string;
  name: string;
  /** For '[': the item fields. */
  items?: Field[];
}

export interface EventRow {
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

export interface Alias {
  name: string;
  target: string;
}

export const EVENTS_COLUMNS = ['name', 'code', 'layer', 'format', 'params', 'notes'];
export const ERRORS_COLUMNS = ['name', 'value', 'file', 'group', 'note'];

/** Fixed sizes of the format letters; -1 = variable. */
export const LETTER_SIZE: Readonly<Record<string, number>> = {
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
export const INT_LETTERS = '12ab34HJL';
export const ITEM_LETTERS = '12ab34HBDPKQJLVXYZ';
export const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const NUMBER = /^(0x[0-9A-Fa-f]+|[0-9]+)$/;

export function parse_number(text: string): number | null {
  if (!NUMBER.test(text)) return null;
  return text.startsWith('0x') || text.startsWith('0X') ? parseInt(text.slice(2), 16) : parseInt(text, 10);
}

export function normalize_literal(text: string): string {
  if (text.startsWith('0x') || text.startsWith('0X')) return '0x' + text.slice(2).toUpperCase();
  return text;
}

export interface RawRow {
  cols: string[];
  line: number;
}

export function read_rows(text: string, file: string, columns: string[]): { rows: RawRow[]; comments: string[] } {
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

export function parse_fields(format: string, params: string[], meta: boolean, file: string, line: number, name: string): Field[] {
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
