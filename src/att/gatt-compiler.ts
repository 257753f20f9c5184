/**
 * The .gatt compiler: BTstack's .gatt syntax in, BTstack's att_db bytes (`profile_data`) and the
 * handle names compile_gatt.py defines out, plus a TypeScript module text holding both. A pure
 * function: imports come from a resolver (`gatt_compile_file` in gatt-compile-file.ts reads files)
 * or the embedded standard ones (gap.gatt, gatt.gatt, gatt_service.gatt, battery_service.gatt,
 * device_information_service.gatt). Errors carry file:line and a status; nothing throws.
 *
 * Entry shapes (size, flags, handle, type, value; all LE16 but the value):
 *   PRIMARY/SECONDARY_SERVICE  [8+n][READ][h][0x2800|0x2801][service uuid (n = 2 | 16)]
 *   INCLUDE_SERVICE            [12(+2)][READ][h][0x2802][start][end][uuid16 if 16-bit]
 *   CHARACTERISTIC             [11+n][READ][h][0x2803][properties & 0xff][h+1][uuid]
 *                              [6+n+len][value flags (| 0x200 for 128-bit)][h+1][uuid][value]
 *                              then CCC (if NOTIFY|INDICATE) [10][perm|0x10e][h][0x2902][00 00]
 *                              then Extended Properties (if RELIABLE_WRITE) [10][READ][h][0x2900][01 00]
 *   descriptors                0x2901 user description, 0x2903 server config, 0x2904 format,
 *                              0x2905 aggregate format, 0x2908 report reference, 0x2909 digitals
 */
import {
  ATT_PROPERTY_DYNAMIC,
  ATT_PROPERTY_READ,
  ATT_PROPERTY_UUID128,
  ATT_PROPERTY_WRITE,
  ATT_PROPERTY_WRITE_WITHOUT_RESPONSE,
} from './att-db.js';
import { sm_aes_cmac } from '../sm/crypto.js';
import { GATT_FLAG_RELIABLE_WRITE, gatt_parse_flags, gatt_value_flags, gatt_write_permission_flags } from './gatt-flags.js';
import { gatt_fields, gatt_hex_bytes, gatt_string_bytes, gatt_value_is_string, py_strip, split_lines } from './gatt-lexer.js';
import { GATT_STANDARD_IMPORTS } from './gatt-standard.js';
import { gatt_typescript_module } from './gatt-typescript.js';
import { gatt_uuid16_for_name } from './uuids.js';

export const GATT_COMPILE_OK = 0;
export const GATT_COMPILE_ERROR_UNKNOWN_KEYWORD = 1;
export const GATT_COMPILE_ERROR_BAD_UUID = 2;
export const GATT_COMPILE_ERROR_BAD_FLAG = 3;
export const GATT_COMPILE_ERROR_IMPORT_NOT_FOUND = 4;
export const GATT_COMPILE_ERROR_BAD_IMPORT = 5;
export const GATT_COMPILE_ERROR_IMPORT_DEPTH = 6;
export const GATT_COMPILE_ERROR_MISSING_FIELD = 7;
export const GATT_COMPILE_ERROR_BAD_VALUE = 8;
export const GATT_COMPILE_ERROR_UNKNOWN_SERVICE = 9;
export const GATT_COMPILE_ERROR_UNKNOWN_FORMAT = 10;
export const GATT_COMPILE_ERROR_TOO_LARGE = 11;
export const GATT_COMPILE_ERROR_INTERNAL = 12;

export const GATT_MAX_IMPORT_DEPTH = 16;

export interface GattDiagnostic {
  file: string;
  line: number;
  severity: 'error' | 'warning';
  /** GATT_COMPILE_ERROR_* (0 for warnings). */
  status: number;
  message: string;
}

/** A handle name as compile_gatt.py #defines it (ATT_SERVICE_..._START_HANDLE, ATT_CHARACTERISTIC_..._VALUE_HANDLE ...). */
export interface GattDefine {
  name: string;
  value: number;
}

/** One piece of profile_data with the comment lines that describe it (for the generated module). */
export interface GattBlock {
  comments: string[];
  bytes: number[];
}

export interface GattImport {
  file: string;
  text: string;
}

export interface GattCompileOptions {
  /** Name of the input in diagnostics and the module header (default '<input>'). */
  file?: string;
  /** Finds `#import <name>` / `#import "name"`; null when it has no such file. Asked before the
   *  embedded standard imports. */
  import_resolver?: (name: string, from_file: string) => GattImport | null;
  /** Use the embedded standard imports (default true). */
  standard_imports?: boolean;
}

export interface GattCompileResult {
  /** GATT_COMPILE_OK, or the status of the first error. */
  status: number;
  diagnostics: GattDiagnostic[];
  /** The att_db (null when status is not OK). */
  profile_data: Uint8Array | null;
  /** Service ranges, then characteristic handles, in compile_gatt.py's order. */
  defines: GattDefine[];
  /** The same by name (a name defined twice keeps its last value, as the C preprocessor would). */
  handles: Record<string, number>;
  blocks: GattBlock[];
  /** TypeScript module text with profile_data and the handle constants (null when not OK). */
  typescript: string | null;
}

/** "file:line: error: message" */
export function gatt_format_diagnostic(d: GattDiagnostic): string {
  return `${d.file}:${d.line}: ${d.severity}: ${d.message}`;
}

const UUID128_RE = /^([0-9A-Fa-f]{8})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{12})$/;
const UUID16_RE = /^(?:0[xX])?[0-9A-Fa-f]{1,4}$/;
const NOT_IMPLEMENTED = new Set([
  'VALID_RANGE',
  'EXTERNAL_REPORT_REFERENCE',
  'VALUE_TRIGGER_SETTING',
  'ENVIRONMENTAL_SENSING_CONFIGURATION',
  'ENVIRONMENTAL_SENSING_MEASUREMENT',
  'ENVIRONMENTAL_SENSING_TRIGGER_SETTING',
]);

const le16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const hex4 = (v: number): string => '0x' + v.toString(16).padStart(4, '0');

/** compile_gatt.py's name for a UUID as written: '-' becomes '_', nothing else changes. */
const c_name = (uuid_text: string): string => uuid_text.replace(/-/g, '_');

class Abort extends Error {}

class GattCompiler {
  readonly diagnostics: GattDiagnostic[] = [];
  readonly blocks: GattBlock[] = [{ comments: ['ATT DB Version'], bytes: [1] }];
  private handle = 1;
  private file = '';
  private line = 0;
  private readonly services = new Map<string, [number, number]>();
  private readonly char_indices = new Map<string, number>();
  private readonly formats = new Map<string, number>();
  private service_name = '';
  private service_start = 0;
  private char_name = '';
  private readonly service_defines: GattDefine[] = [];
  private readonly char_defines: GattDefine[] = [];
  private readonly hash_message: number[] = [];
  private readonly hash_slots: number[][] = [];
  private readonly import_stack: string[] = [];

  constructor(private readonly options: GattCompileOptions) {}

  error(status: number, message: string): void {
    this.diagnostics.push({ file: this.file, line: this.line, severity: 'error', status, message });
  }

  warn(message: string): void {
    this.diagnostics.push({ file: this.file, line: this.line, severity: 'warning', status: 0, message });
  }

  run(text: string, file: string): void {
    this.parse_text(text, file);
    this.complete_service();
    this.blocks.push({ comments: ['END'], bytes: [0, 0] });
    if (this.hash_slots.length > 0) {
      // Stored little endian: the CMAC's bytes reversed.
      const hash = Array.from(sm_aes_cmac(new Uint8Array(16), Uint8Array.from(this.hash_message))).reverse();
      for (const slot of this.hash_slots) slot.splice(slot.length - 16, 16, ...hash);
    }
  }

  defines(): GattDefine[] {
    return [...this.service_defines, ...this.char_defines];
  }

  private parse_text(text: string, file: string): void {
    const saved_file = this.file;
    const saved_line = this.line;
    this.file = file;
    const lines = split_lines(text);
    for (let i = 0; i < lines.length; i++) {
      this.line = i + 1;
      this.parse_line(py_strip(lines[i]!, '\n\r '));
    }
    this.file = saved_file;
    this.line = saved_line;
  }

  private parse_line(line: string): void {
    if (line.length === 0) return;
    const stripped = py_strip(line);
    if (stripped.startsWith('//')) {
      this.blocks.push({ comments: [stripped.replace(/^\/+/, '')], bytes: [] });
      return;
    }
    if (line.startsWith('#import')) return this.parse_import(line);
    if (line.startsWith('#TODO')) {
      this.warn(`#TODO not handled, line skipped: ${line}`);
      return;
    }
    const parts = gatt_fields(line);
    const keyword = parts[0]!;
    switch (keyword) {
      case 'PRIMARY_SERVICE':
        return this.parse_service(parts, 0x2800);
      case 'SECONDARY_SERVICE':
        return this.parse_service(parts, 0x2801);
      case 'INCLUDE_SERVICE':
        return this.parse_include(parts);
      case 'CHARACTERISTIC':
        return this.parse_characteristic(parts);
      case 'CHARACTERISTIC_USER_DESCRIPTION':
        return this.parse_user_description(parts);
      case 'CLIENT_CHARACTERISTIC_CONFIGURATION':
        return; // added with every NOTIFY / INDICATE characteristic
      case 'SERVER_CHARACTERISTIC_CONFIGURATION':
        return this.parse_server_configuration(parts);
      case 'CHARACTERISTIC_FORMAT':
        return this.parse_format(parts);
      case 'CHARACTERISTIC_AGGREGATE_FORMAT':
        return this.parse_aggregate_format(parts);
      case 'REPORT_REFERENCE':
        return this.parse_byte_descriptor(parts, 0x2908, 'REPORT_REFERENCE', [2, 3]);
      case 'NUMBER_OF_DIGITALS':
        return this.parse_byte_descriptor(parts, 0x2909, 'NUMBER_OF_DIGITALS', [1]);
    }
    if (NOT_IMPLEMENTED.has(keyword)) {
      this.warn(`${keyword} not implemented (as in BTstack), line skipped`);
      return;
    }
    this.error(GATT_COMPILE_ERROR_UNKNOWN_KEYWORD, `unknown keyword '${keyword}'`);
  }

  private parse_import(line: string): void {
    let name = '';
    const angle = /^#import\s+<(.*)>/.exec(line);
    if (angle) name = angle[1]!;
    const quoted = /^#import\s+"(.*)"/.exec(line);
    if (quoted) name = quoted[1]!;
    if (name.length === 0) {
      this.error(GATT_COMPILE_ERROR_BAD_IMPORT, '#import is neither <name.gatt> nor "name.gatt"');
      return;
    }
    let found: GattImport | null = this.options.import_resolver ? this.options.import_resolver(name, this.file) : null;
    if (!found && this.options.standard_imports !== false) {
      const std = GATT_STANDARD_IMPORTS[name];
      if (std !== undefined) found = { file: `<${name}>`, text: std };
    }
    if (!found) {
      this.error(GATT_COMPILE_ERROR_IMPORT_NOT_FOUND, `#import '${name}': file not found`);
      return;
    }
    if (this.import_stack.length >= GATT_MAX_IMPORT_DEPTH || this.import_stack.includes(found.file)) {
      this.error(GATT_COMPILE_ERROR_IMPORT_DEPTH, `#import '${name}': imports nest too deep or form a cycle`);
      return;
    }
    this.blocks.push({ comments: [`${line} -- BEGIN`], bytes: [] });
    this.import_stack.push(found.file);
    this.parse_text(found.text, found.file);
    this.import_stack.pop();
    this.blocks.push({ comments: [`${line} -- END`], bytes: [] });
  }

  /** The UUID's bytes as stored (2 bytes LE, or 16 bytes LE), or null (error reported). */
  private uuid(text: string | undefined, what: string, only16 = false): number[] | null {
    if (text === undefined || text.length === 0) {
      this.error(GATT_COMPILE_ERROR_MISSING_FIELD, `${what}: UUID missing`);
      return null;
    }
    const named = gatt_uuid16_for_name(text);
    if (named >= 0) return le16(named);
    const long = UUID128_RE.exec(text);
    if (long && !only16) {
      const hex = long.slice(1).join('');
      const out: number[] = [];
      for (let i = 30; i >= 0; i -= 2) out.push(parseInt(hex.slice(i, i + 2), 16));
      return out;
    }
    if (UUID16_RE.test(text)) return le16(parseInt(text.replace(/^0[xX]/, ''), 16));
    this.error(
      GATT_COMPILE_ERROR_BAD_UUID,
      `${what}: bad UUID '${text}' (a known name, 16-bit hex, or 128-bit 8-4-4-4-12${only16 ? '; 16-bit only here' : ''})`,
    );
    return null;
  }

  private flags(text: string | undefined, what: string): number | null {
    if (text === undefined) {
      this.error(GATT_COMPILE_ERROR_MISSING_FIELD, `${what}: flags missing`);
      return null;
    }
    const r = gatt_parse_flags(text, (s) => py_strip(s));
    if (r.bad !== null) {
      this.error(GATT_COMPILE_ERROR_BAD_FLAG, `${what}: unknown flag '${r.bad}'`);
      return null;
    }
    return r.value;
  }

  private value_bytes(value: string, what: string): number[] | null {
    if (gatt_value_is_string(value)) {
      for (const c of value) {
        if (c.codePointAt(0)! > 0x7f) {
          this.warn(
            `${what}: non-ASCII text is stored one byte per character (code point & 0xff), as compile_gatt.py does; write UTF-8 as hex bytes instead`,
          );
          break;
        }
      }
      return gatt_string_bytes(value);
    }
    const r = gatt_hex_bytes(value);
    if (r.bad !== null) {
      this.error(GATT_COMPILE_ERROR_BAD_VALUE, `${what}: '${r.bad}' is not a hex byte (1 or 2 hex digits)`);
      return null;
    }
    return r.bytes;
  }

  private one_byte(text: string | undefined, what: string): number | null {
    if (text === undefined) {
      this.error(GATT_COMPILE_ERROR_MISSING_FIELD, `${what} missing`);
      return null;
    }
    const r = gatt_hex_bytes(text);
    if (r.bad !== null || r.bytes.length !== 1) {
      this.error(GATT_COMPILE_ERROR_BAD_VALUE, `${what}: '${text}' is not one hex byte`);
      return null;
    }
    return r.bytes[0]!;
  }

  /** Append one entry at the next handle; throws Abort past handle 0xffff or size 0xffff. */
  private entry(comments: string[], flags: number, type: number[], value: number[]): number[] {
    const size = 6 + type.length + value.length;
    if (this.handle > 0xffff) {
      this.error(GATT_COMPILE_ERROR_TOO_LARGE, 'more than 65535 attributes');
      throw new Abort();
    }
    if (size > 0xffff) {
      this.error(GATT_COMPILE_ERROR_TOO_LARGE, `attribute of ${size} bytes (the att_db size field holds 65535)`);
      throw new Abort();
    }
    const bytes = [...le16(size), ...le16(flags & 0xffff), ...le16(this.handle), ...type, ...value];
    this.blocks.push({ comments: [`${hex4(this.handle)} ${comments.join(' ')}`], bytes });
    this.handle++;
    return bytes;
  }

  private hash(...values: number[][]): void {
    for (const v of values) this.hash_message.push(...v);
  }

  private complete_service(): void {
    if (!this.service_name) return;
    const end = this.handle - 1;
    this.service_defines.push({ name: `ATT_SERVICE_${this.service_name}_START_HANDLE`, value: this.service_start });
    this.service_defines.push({ name: `ATT_SERVICE_${this.service_name}_END_HANDLE`, value: end });
    this.services.set(this.service_name, [this.service_start, end]);
    this.service_name = '';
  }

  private parse_service(parts: string[], type: number): void {
    this.complete_service();
    const uuid = this.uuid(parts[1], parts[0]!);
    if (!uuid) return;
    const h = this.handle;
    this.entry([parts.join('-')], ATT_PROPERTY_READ, le16(type), uuid);
    this.hash(le16(h), le16(type), uuid);
    this.service_name = c_name(parts[1]!);
    this.service_start = h;
  }

  private parse_include(parts: string[]): void {
    const uuid = this.uuid(parts[1], 'INCLUDE_SERVICE');
    if (!uuid) return;
    const range = this.services.get(c_name(parts[1]!));
    if (!range) {
      this.error(
        GATT_COMPILE_ERROR_UNKNOWN_SERVICE,
        `INCLUDE_SERVICE: no complete service '${parts[1]}' defined before this line`,
      );
      return;
    }
    const short = uuid.length === 2 ? uuid : [];
    const h = this.handle;
    this.entry([parts.join('-')], ATT_PROPERTY_READ, le16(0x2802), [...le16(range[0]), ...le16(range[1]), ...short]);
    this.hash(le16(h), le16(0x2802), le16(range[0]), le16(range[1]), short);
  }

  private parse_characteristic(parts: string[]): void {
    if (parts.length < 3) {
      this.error(GATT_COMPILE_ERROR_MISSING_FIELD, 'CHARACTERISTIC needs a UUID and flags');
      return;
    }
    const base = c_name(parts[1]!);
    const index = (this.char_indices.get(base) ?? 0) + 1;
    this.char_indices.set(base, index);
    this.char_name =
      parts.length > 4
        ? `${base}_${parts[4]!.toUpperCase().replace(/ /g, '_')}`
        : `${base}_${index.toString(16).padStart(2, '0')}`;
    const uuid = this.uuid(parts[1], 'CHARACTERISTIC');
    let properties = this.flags(parts[2], 'CHARACTERISTIC');
    if (!uuid || properties === null) return;
    const value_text = parts.slice(3).join(', ');
    if (properties & GATT_FLAG_RELIABLE_WRITE) properties |= 0x80;
    const is_hash = uuid.length === 2 && uuid[0] === 0x2a && uuid[1] === 0x2b;
    const value = is_hash ? new Array<number>(16).fill(0) : this.value_bytes(value_text, 'CHARACTERISTIC value');
    if (!value) return;
    const props8 = properties & 0xff;
    const decl = this.handle;
    this.entry([parts.slice(0, 3).join('-')], ATT_PROPERTY_READ, le16(0x2803), [props8, ...le16(decl + 1), ...uuid]);
    // compile_gatt.py hashes the declaration as (handle + 1, 0x2803, properties, handle + 2, uuid)
    // and skips the value attribute; kept so the Database Hash matches its output.
    this.hash(le16(decl + 1), le16(0x2803), [props8], le16(decl + 2), uuid);
    let value_flags = gatt_value_flags(properties);
    if (uuid.length === 16) value_flags |= ATT_PROPERTY_UUID128;
    const value_handle = this.handle;
    const bytes = this.entry([`VALUE-${parts.slice(1, 3).join('-')}-'${value_text}'`], value_flags, uuid, value);
    if (is_hash) this.hash_slots.push(bytes);
    this.char_defines.push({ name: `ATT_CHARACTERISTIC_${this.char_name}_VALUE_HANDLE`, value: value_handle });
    if (properties & 0x30) {
      const flags =
        gatt_write_permission_flags(properties) |
        ATT_PROPERTY_READ |
        ATT_PROPERTY_WRITE |
        ATT_PROPERTY_WRITE_WITHOUT_RESPONSE |
        ATT_PROPERTY_DYNAMIC;
      const h = this.handle;
      this.entry(['CLIENT_CHARACTERISTIC_CONFIGURATION'], flags, le16(0x2902), [0, 0]);
      this.hash(le16(h), le16(0x2902));
      this.char_defines.push({ name: `ATT_CHARACTERISTIC_${this.char_name}_CLIENT_CONFIGURATION_HANDLE`, value: h });
    }
    if (properties & GATT_FLAG_RELIABLE_WRITE) {
      const h = this.handle;
      this.entry(['CHARACTERISTIC_EXTENDED_PROPERTIES'], ATT_PROPERTY_READ, le16(0x2900), [1, 0]);
      this.hash(le16(h), le16(0x2900), [1, 0]);
    }
  }

  private need_characteristic(what: string): void {
    if (!this.char_name) this.warn(`${what} before any CHARACTERISTIC: its handle name has no characteristic part`);
  }

  private parse_user_description(parts: string[]): void {
    if (parts.length < 3) {
      this.error(GATT_COMPILE_ERROR_MISSING_FIELD, 'CHARACTERISTIC_USER_DESCRIPTION needs flags and a value');
      return;
    }
    const properties = this.flags(parts[1], 'CHARACTERISTIC_USER_DESCRIPTION');
    if (properties === null) return;
    const value = this.value_bytes(parts[2]!, 'CHARACTERISTIC_USER_DESCRIPTION value');
    if (!value) return;
    this.need_characteristic('CHARACTERISTIC_USER_DESCRIPTION');
    const flags = gatt_write_permission_flags(properties) | (properties & ATT_PROPERTY_WRITE) | ATT_PROPERTY_READ;
    const h = this.handle;
    this.entry([`CHARACTERISTIC_USER_DESCRIPTION-${parts.slice(1).join('-')}`], flags, le16(0x2901), value);
    this.hash(le16(h), le16(0x2901));
    this.char_defines.push({ name: `ATT_CHARACTERISTIC_${this.char_name}_USER_DESCRIPTION_HANDLE`, value: h });
  }

  private parse_server_configuration(parts: string[]): void {
    const properties = this.flags(parts[1], 'SERVER_CHARACTERISTIC_CONFIGURATION');
    if (properties === null) return;
    this.need_characteristic('SERVER_CHARACTERISTIC_CONFIGURATION');
    const flags = gatt_write_permission_flags(properties) | ATT_PROPERTY_READ | ATT_PROPERTY_WRITE | ATT_PROPERTY_DYNAMIC;
    const h = this.handle;
    this.entry([`SERVER_CHARACTERISTIC_CONFIGURATION-${parts.slice(1).join('-')}`], flags, le16(0x2903), []);
    this.hash(le16(h), le16(0x2903));
    this.char_defines.push({ name: `ATT_CHARACTERISTIC_${this.char_name}_SERVER_CONFIGURATION_HANDLE`, value: h });
  }

  /** CHARACTERISTIC_FORMAT, id, format, exponent, unit, name space, description (Presentation Format, 7 bytes). */
  private parse_format(parts: string[]): void {
    if (parts.length < 7) {
      this.error(
        GATT_COMPILE_ERROR_MISSING_FIELD,
        'CHARACTERISTIC_FORMAT needs id, format, exponent, unit, name space, description',
      );
      return;
    }
    const format = this.one_byte(parts[2], 'CHARACTERISTIC_FORMAT format');
    const exponent = this.one_byte(parts[3], 'CHARACTERISTIC_FORMAT exponent');
    const unit = this.uuid(parts[4], 'CHARACTERISTIC_FORMAT unit', true);
    const name_space = this.one_byte(parts[5], 'CHARACTERISTIC_FORMAT name space');
    const description = this.uuid(parts[6], 'CHARACTERISTIC_FORMAT description', true);
    if (format === null || exponent === null || !unit || name_space === null || !description) return;
    const h = this.handle;
    this.formats.set(parts[1]!, h);
    this.entry([`CHARACTERISTIC_FORMAT-${parts.slice(1).join('-')}`], ATT_PROPERTY_READ, le16(0x2904), [
      format,
      exponent,
      ...unit,
      name_space,
      ...description,
    ]);
    this.hash(le16(h), le16(0x2904));
  }

  private parse_aggregate_format(parts: string[]): void {
    const handles: number[] = [];
    for (const id of parts.slice(1)) {
      const h = this.formats.get(id);
      if (h === undefined) {
        this.error(
          GATT_COMPILE_ERROR_UNKNOWN_FORMAT,
          `CHARACTERISTIC_AGGREGATE_FORMAT: no CHARACTERISTIC_FORMAT '${id}' before this line`,
        );
        return;
      }
      handles.push(...le16(h));
    }
    const h = this.handle;
    this.entry([`CHARACTERISTIC_AGGREGATE_FORMAT-${parts.slice(1).join('-')}`], ATT_PROPERTY_READ, le16(0x2905), handles);
    this.hash(le16(h), le16(0x2905));
  }

  /** REPORT_REFERENCE, flags, report id, report type / NUMBER_OF_DIGITALS, n: one byte per field. */
  private parse_byte_descriptor(parts: string[], type: number, what: string, fields: number[]): void {
    const value: number[] = [];
    for (const i of fields) {
      const b = this.one_byte(parts[i], `${what} field ${i}`);
      if (b === null) return;
      value.push(b);
    }
    this.entry([`${what}-${parts.slice(1).join('-')}`], ATT_PROPERTY_READ, le16(type), value);
  }
}

/** Compile .gatt text. Never throws: problems come back as diagnostics with a status. */
export function gatt_compile(text: string, options: GattCompileOptions = {}): GattCompileResult {
  const file = options.file ?? '<input>';
  const c = new GattCompiler(options);
  try {
    c.run(String(text), file);
  } catch (e) {
    if (!(e instanceof Abort)) {
      c.diagnostics.push({
        file,
        line: 0,
        severity: 'error',
        status: GATT_COMPILE_ERROR_INTERNAL,
        message: `internal error: ${String(e)}`,
      });
    }
  }
  const first_error = c.diagnostics.find((d) => d.severity === 'error');
  const defines = c.defines();
  const handles: Record<string, number> = Object.create(null);
  for (const d of defines) handles[d.name] = d.value;
  if (first_error) {
    return {
      status: first_error.status,
      diagnostics: c.diagnostics,
      profile_data: null,
      defines,
      handles,
      blocks: c.blocks,
      typescript: null,
    };
  }
  const total = c.blocks.reduce((n, b) => n + b.bytes.length, 0);
  const profile_data = new Uint8Array(total);
  let pos = 0;
  for (const b of c.blocks) {
    profile_data.set(b.bytes, pos);
    pos += b.bytes.length;
  }
  const typescript = gatt_typescript_module(file, c.blocks, defines, total);
  return { status: GATT_COMPILE_OK, diagnostics: c.diagnostics, profile_data, defines, handles, blocks: c.blocks, typescript };
}
