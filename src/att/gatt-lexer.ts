/**
 * Text helpers for the .gatt compiler that reproduce how BTstack's compile_gatt.py reads a line
 * (Python's str.strip(), csv.reader with ',' and '"', str.split()), so the same text gives the same
 * fields and values. Pure functions, no I/O.
 */

/** Characters Python's str.isspace() accepts (str.strip() / str.split() with no argument):
 *  \t-\r, \x1c-\x1f, space, \x85, \xa0, \u1680, \u2000-\u200a, \u2028, \u2029, \u202f, \u205f, \u3000. */
function is_space_code(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

export function py_is_space(c: string): boolean {
  return c.length === 1 && is_space_code(c.charCodeAt(0));
}

/** Python's s.strip(chars) (chars = Python whitespace when omitted). */
export function py_strip(s: string, chars?: string): string {
  let a = 0;
  let b = s.length;
  if (chars === undefined) {
    while (a < b && is_space_code(s.charCodeAt(a))) a++;
    while (b > a && is_space_code(s.charCodeAt(b - 1))) b--;
  } else {
    while (a < b && chars.includes(s[a]!)) a++;
    while (b > a && chars.includes(s[b - 1]!)) b--;
  }
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Python's s.split() with no argument: runs of whitespace separate, no empty items. */
export function py_split_ws(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const c of s) {
    if (py_is_space(c)) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/** The input's lines (split at \r\n, \n or \r), each with its 1-based number. */
export function split_lines(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}

/**
 * One line as Python's csv.reader(delimiter=',', quotechar='"') reads it (default dialect,
 * not strict): a quote opens a quoted field only at the start of a field, "" inside one is a
 * quote, text after a closing quote joins the field, an unclosed quote runs to the end.
 */
export function csv_fields(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  // 0 start of field, 1 in field, 2 in quoted field, 3 quote in quoted field
  let state = 0;
  for (const c of line) {
    switch (state) {
      case 0:
        if (c === '"') state = 2;
        else if (c === ',') fields.push('');
        else {
          cur = c;
          state = 1;
        }
        break;
      case 1:
        if (c === ',') {
          fields.push(cur);
          cur = '';
          state = 0;
        } else cur += c;
        break;
      case 2:
        if (c === '"') state = 3;
        else cur += c;
        break;
      default:
        if (c === '"') {
          cur += '"';
          state = 2;
        } else if (c === ',') {
          fields.push(cur);
          cur = '';
          state = 0;
        } else {
          cur += c;
          state = 1;
        }
    }
  }
  fields.push(cur);
  return fields;
}

/** The fields of a .gatt line as compile_gatt.py holds them: csv fields, each stripped of
 *  whitespace and then of every leading and trailing '"'. */
export function gatt_fields(line: string): string[] {
  return csv_fields(line).map((f) => py_strip(py_strip(f), '"'));
}

const HEX = '0123456789abcdefABCDEF';

/** compile_gatt.py's test: a value is a string unless every ' '-separated item is hex digits only
 *  (so "" and "01 02" are byte sequences, "10" is the byte 0x10, "Hello" and "01, 02" are text). */
export function gatt_value_is_string(value: string): boolean {
  for (const item of value.split(' ')) {
    for (const c of item) if (!HEX.includes(c)) return true;
  }
  return false;
}

/** A string value's bytes as compile_gatt.py writes them: one byte per code point, & 0xff. */
export function gatt_string_bytes(value: string): number[] {
  const out: number[] = [];
  for (const c of value) out.push(c.codePointAt(0)! & 0xff);
  return out;
}

/** A hex byte sequence ("01 ab 3"): the bytes, or the first item that is not 1-2 hex digits. */
export function gatt_hex_bytes(value: string): { bytes: number[]; bad: string | null } {
  const bytes: number[] = [];
  for (const item of py_split_ws(value)) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(item)) return { bytes, bad: item };
    bytes.push(parseInt(item, 16));
  }
  return { bytes, bad: null };
}
