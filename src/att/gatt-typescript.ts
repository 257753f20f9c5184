/**
 * The TypeScript module the .gatt compiler writes: `profile_data` (BTstack's att_db bytes, one
 * commented line per attribute, like compile_gatt.py's C header) and one `export const` per handle
 * name compile_gatt.py would #define.
 */
import type { GattBlock, GattDefine } from './gatt-compiler.js';

/** Comment text safe inside a // comment (no line terminators or control characters). */
function comment_text(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, '?');
}

/** A valid TS identifier from a compile_gatt.py name (which keeps the UUID as written, so a
 *  dotted or otherwise odd name would not be a C identifier either). */
export function gatt_ts_identifier(name: string): string {
  return name.replace(/[^A-Za-z0-9_$]/g, '_');
}

const hex2 = (b: number): string => '0x' + b.toString(16).padStart(2, '0');
const hex4 = (v: number): string => '0x' + v.toString(16).padStart(4, '0');

export function gatt_typescript_module(source: string, blocks: GattBlock[], defines: GattDefine[], total: number): string {
  const out: string[] = [];
  const src = comment_text(source);
  out.push(`// profile_data generated from ${src} by bthost's .gatt compiler (BTstack compile_gatt.py layout).`);
  out.push('// It needs to be regenerated when the .gatt file is updated.');
  out.push('//');
  out.push('// att db format version 1');
  out.push('// binary attribute representation:');
  out.push('// - size in bytes (16), flags(16), handle (16), uuid (16/128), value(...)');
  out.push('');
  out.push('export const profile_data: Uint8Array = new Uint8Array([');
  for (const b of blocks) {
    for (const c of b.comments) out.push(`    // ${comment_text(c)}`);
    if (b.bytes.length > 0) out.push('    ' + b.bytes.map(hex2).join(', ') + ',');
  }
  out.push(`]); // total size ${total} bytes`);
  out.push('');
  const seen = new Map<string, number>();
  for (const d of defines) seen.set(gatt_ts_identifier(d.name), d.value);
  const emitted = new Set<string>();
  const emit = (list: GattDefine[]): void => {
    for (const d of list) {
      const id = gatt_ts_identifier(d.name);
      if (emitted.has(id)) continue; // defined twice: the last value, as the C preprocessor keeps
      emitted.add(id);
      out.push(`export const ${id} = ${hex4(seen.get(id)!)};`);
    }
  };
  out.push('//');
  out.push('// list service handle ranges');
  out.push('//');
  emit(defines.filter((d) => d.name.startsWith('ATT_SERVICE_')));
  out.push('');
  out.push('//');
  out.push('// list mapping between characteristics and handles');
  out.push('//');
  emit(defines.filter((d) => !d.name.startsWith('ATT_SERVICE_')));
  out.push('');
  return out.join('\n');
}
