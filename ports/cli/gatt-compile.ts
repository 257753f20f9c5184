/**
 * `bthost gatt compile FILE.gatt [-o OUT.ts] [-I DIR]...`: BTstack's compile_gatt.py for bthost.
 * Reads a .gatt file (BTstack syntax, `#import` of the standard GAP / GATT / battery / device
 * information services or of files in -I directories and the file's own directory) and writes a
 * TypeScript module with `profile_data` (BTstack's att_db bytes) and the handle constants
 * (ATT_CHARACTERISTIC_..._VALUE_HANDLE, ..._CLIENT_CONFIGURATION_HANDLE, ATT_SERVICE_..._START_HANDLE)
 * to OUT.ts, or to stdout without -o. Diagnostics go to stderr as `file:line: severity: message`.
 * Exit 0 when the module was written, 1 on a compile or write error, 2 on a usage error.
 */
import { writeFileSync } from 'node:fs';
import { gatt_compile_file } from '../../src/att/gatt-compile-file.js';
import { gatt_format_diagnostic } from '../../src/att/gatt-compiler.js';

export const GATT_COMPILE_USAGE = `usage: bthost gatt compile FILE.gatt [-o OUT.ts] [-I DIR]...
  Compile a BTstack .gatt file into a TypeScript module: profile_data (the att_db bytes for
  att_server_init) and the handle constants compile_gatt.py would #define.
  -o OUT.ts   write the module to OUT.ts (default: stdout)
  -I DIR      look for #import "name.gatt" in DIR first (repeatable); then the .gatt file's own
              directory; <gap.gatt>, <gatt.gatt>, <gatt_service.gatt>, <battery_service.gatt> and
              <device_information_service.gatt> are built in`;

interface Parsed {
  input?: string;
  output?: string;
  include: string[];
  help: boolean;
  error?: string;
}

function parse(argv: string[]): Parsed {
  const p: Parsed = { include: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') p.help = true;
    else if (a === '-o' || a === '--output' || a === '-I') {
      const v = argv[++i];
      if (v === undefined) return { ...p, error: `${a} needs a value` };
      if (a === '-I') p.include.push(v);
      else p.output = v;
    } else if (a.startsWith('-') && a !== '-') return { ...p, error: `unknown option '${a}'` };
    else if (p.input === undefined) p.input = a;
    else return { ...p, error: `unexpected argument '${a}'` };
  }
  if (!p.help && p.input === undefined) p.error = 'missing FILE.gatt';
  return p;
}

/** `bthost gatt compile ...` (argv after `compile`); returns the exit code. */
export function gatt_compile_main(argv: string[]): Promise<number> {
  const p = parse(argv);
  if (p.help) {
    process.stdout.write(`${GATT_COMPILE_USAGE}\n`);
    return Promise.resolve(0);
  }
  if (p.error !== undefined) {
    process.stderr.write(`bthost gatt compile: ${p.error} (bthost gatt compile --help for usage)\n`);
    return Promise.resolve(2);
  }
  const r = gatt_compile_file(p.input!, { include_paths: p.include });
  for (const d of r.diagnostics) process.stderr.write(`${gatt_format_diagnostic(d)}\n`);
  if (r.typescript === null) {
    const first = r.diagnostics.find((d) => d.severity === 'error');
    process.stderr.write(`bthost gatt compile: ${p.input} not compiled${first ? `: ${first.message}` : ''}\n`);
    return Promise.resolve(1);
  }
  if (p.output === undefined) {
    process.stdout.write(r.typescript);
    return Promise.resolve(0);
  }
  try {
    writeFileSync(p.output, r.typescript);
  } catch (e) {
    process.stderr.write(`bthost gatt compile: cannot write ${p.output}: ${(e as Error).message}\n`);
    return Promise.resolve(1);
  }
  process.stderr.write(`bthost gatt compile: ${p.input} -> ${p.output} (${r.profile_data!.length} octets of att_db)\n`);
  return Promise.resolve(0);
}
