/**
 * BTstack codes generator: reads the BTstack code tables and writes one TypeScript module per
 * code profile:
 *
 *   src/codes/v1.4.ts   BTstack v1.4.1 (default profile)
 *   src/codes/v1.8.ts   BTstack current (v1.8.x)
 *
 * and beside each its object module (v1.4-object.ts, v1.8-object.ts): the same exports as one
 * object made on demand, which codes_for(profile) returns (see generate_object).
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
 *   (--out DIR: write/check the four files in DIR instead of src/codes/; the copy is left alone)
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
import {
  Alias,
  ERRORS_COLUMNS,
  EVENTS_COLUMNS,
  ErrorRow,
  EventRow,
  Field,
  IDENT,
  INT_LETTERS,
  ITEM_LETTERS,
  LETTER_SIZE,
  NUMBER,
  RawRow,
  TableError,
  normalize_literal,
  parse_errors,
  parse_events,
  parse_fields,
  parse_number,
  read_rows,
} from './gen-codes-tables.js';
export { TableError, parse_errors, parse_events } from './gen-codes-tables.js';
import {
  Emitter,
  declare,
  describe_event,
  doc,
  emit_builder,
  emit_getters,
  fixed_size,
  hex2,
  meta_base_name,
  use,
} from './gen-codes-emit.js';
export { function_base_name } from './gen-codes-emit.js';

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

/** The profile's object module (generate_object) beside its module. */
export function object_path(profile: Profile, dir = resolve(REPO_ROOT, 'src/codes')): string {
  return resolve(dir, `${profile}-object.ts`);
}

/** The value exports of a generated profile module, in the order they are declared. */
export function exported_names(module_text: string): string[] {
  const names: string[] = [];
  for (const m of module_text.matchAll(/^export (?:const|function) ([A-Za-z_$][\w$]*)|^export \{ ([^}]*) \} from /gm)) {
    if (m[1]) names.push(m[1]);
    else for (const n of m[2].split(',')) names.push(n.trim());
  }
  return names;
}

/**
 * The object module of a profile: its exports as one frozen plain object, made on the first
 * codes_for(profile). A module namespace used as a value is built at load by a bundler (esbuild,
 * so tsup's dist: one getter defined per export, both profiles, whether used or not); as a plain
 * object made on demand, a process pays only for the profile it runs.
 */
export function generate_object(profile: Profile, module_text: string): string {
  const id = profile.replace('.', '_');
  const names = exported_names(module_text);
  return [
    `// Code profile ${profile} as one object: GENERATED by tools/gen-codes.ts from ${profile}.ts. Do not edit; run \`npm run gen\`.`,
    `// codes_for('${profile}') returns it. A plain object made on first use, not the module's namespace:`,
    '// a bundler (esbuild, so the published dist) builds a namespace that is used as a value while the',
    '// bundle loads, one getter per export for each profile, whether the process uses it or not.',
    `import type * as Profile from './${profile}.js';`,
    'import {',
    ...names.map((n) => `  ${n},`),
    `} from './${profile}.js';`,
    '',
    'let made: typeof Profile | undefined;',
    '',
    `/** The ${profile} profile's constants, getters, builders and tables as one frozen object, made on first use (codes_for). */`,
    '// In parentheses, so V8 compiles the function with the module (esbuild keeps them): compiled',
    '// lazily at its first call, a function that reads this many imported bindings takes 15-30 ms',
    "// (the lookups grow with the module's own count of bindings); compiled with the module, < 1 ms.",
    `export const codes_object_${id} = (function codes_object_${id}(): typeof Profile {`,
    '  return (made ??= Object.freeze({',
    ...names.map((n) => `    ${n},`),
    '  }));',
    '});',
    '',
  ].join('\n');
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
    // No type exports here: codes_for is typed by this module as a namespace (Codes), and a
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
  const out_dir = dir === undefined ? undefined : resolve(dir);
  for (const profile of PROFILES) {
    const text = generate(profile);
    const files: [string, string][] = [
      [output_path(profile, out_dir), text],
      [object_path(profile, out_dir), generate_object(profile, text)],
    ];
    for (const [out, want] of files) {
      let current: string | null = null;
      try {
        current = readFileSync(out, 'utf8');
      } catch {
        current = null;
      }
      if (current === want) {
        console.log(`${out}: up to date`);
      } else if (check) {
        console.error(`${out}: STALE (differs from a fresh generation; run npm run gen)`);
        stale++;
      } else {
        writeFileSync(out, want);
        console.log(`${out}: written`);
      }
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
