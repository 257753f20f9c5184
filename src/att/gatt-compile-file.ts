/**
 * File entry point of the .gatt compiler (the CLI's `bthost gatt compile FILE.gatt` calls this):
 * reads the file and resolves `#import <name>` / `#import "name"` in the include paths, then the
 * importing file's directory, then the embedded standard imports. Read errors become diagnostics.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GATT_COMPILE_ERROR_IMPORT_NOT_FOUND, gatt_compile, type GattCompileResult, type GattImport } from './gatt-compiler.js';

export interface GattCompileFileOptions {
  /** Directories searched for imports first (compile_gatt.py's -I). */
  include_paths?: string[];
  standard_imports?: boolean;
}

function try_read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function gatt_compile_file(path: string, options: GattCompileFileOptions = {}): GattCompileResult {
  const text = try_read(path);
  if (text === null) {
    return {
      status: GATT_COMPILE_ERROR_IMPORT_NOT_FOUND,
      diagnostics: [
        { file: path, line: 0, severity: 'error', status: GATT_COMPILE_ERROR_IMPORT_NOT_FOUND, message: `cannot read '${path}'` },
      ],
      profile_data: null,
      defines: [],
      handles: Object.create(null) as Record<string, number>,
      blocks: [],
      typescript: null,
    };
  }
  const resolver = (name: string, from_file: string): GattImport | null => {
    const dirs = [...(options.include_paths ?? [])];
    if (!from_file.startsWith('<')) dirs.push(dirname(from_file));
    for (const d of dirs) {
      const file = resolve(join(d, name));
      const t = try_read(file);
      if (t !== null) return { file, text: t };
    }
    return null;
  };
  return gatt_compile(text, { file: path, import_resolver: resolver, standard_imports: options.standard_imports });
}
