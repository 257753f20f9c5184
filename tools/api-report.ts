/**
 * The API report: what each entry point of the published package declares, one file per entry in
 * docs/api-report/ (bthost.api.md, bthost-v1.4.api.md, ..., from package.json "exports"), made by
 * API Extractor from the built declarations (dist/*.d.ts, as tsup writes them: members tagged
 * @internal are already left out). A change to the public surface shows up in review as a diff
 * of these files, and the check fails until the report is updated.
 *
 *   npm run build && npm run api           check: exit 1 (with the diff) when the surface changed
 *   npm run build && npm run api:update    write the reports (then review and commit them)
 *   options: --dist DIR (declarations to read, default dist/), --reports DIR (default docs/api-report)
 *
 * The check also fails when a declaration file does not compile on its own (for example a member
 * that a public declaration references was stripped) or when API Extractor warns.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Extractor, ExtractorConfig, ExtractorLogLevel, type ExtractorMessage } from '@microsoft/api-extractor';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Exports = Record<string, string | { import?: { types: string } }>;

/** Entry points of the package: report name -> the ESM declaration file under dist/. */
export function api_entries(): Array<{ name: string; subpath: string; types: string }> {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Exports };
  const out: Array<{ name: string; subpath: string; types: string }> = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string' || !target.import) continue;
    const rel = target.import.types.replace(/^\.\/dist\//, '');
    const name = subpath === '.' ? pkg.name : `${pkg.name}-${subpath.slice(2).replace(/\//g, '-')}`;
    out.push({ name, subpath: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, types: rel });
  }
  return out;
}

export interface ApiReportResult {
  ok: boolean;
  /** Entries whose report differs from the committed one (check) or was rewritten (update). */
  changed: string[];
  /** Errors and warnings, one line each. */
  problems: string[];
}

/** Check (or with update, write) the report of every entry point from the declarations in `dist`. */
export function api_report(
  options: {
    dist?: string;
    reports?: string;
    update?: boolean;
    quiet?: boolean;
    /** report names (default all) */ only?: string[];
  } = {},
): ApiReportResult {
  const dist = path.resolve(options.dist ?? path.join(ROOT, 'dist'));
  const reports = path.resolve(options.reports ?? path.join(ROOT, 'docs', 'api-report'));
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-api-report-'));
  const result: ApiReportResult = { ok: true, changed: [], problems: [] };
  fs.mkdirSync(reports, { recursive: true });
  try {
    for (const entry of api_entries()) {
      if (options.only && !options.only.includes(entry.name)) continue;
      const main = path.join(dist, entry.types);
      if (!fs.existsSync(main)) {
        result.ok = false;
        result.problems.push(`${entry.subpath}: ${main} not found (npm run build first)`);
        continue;
      }
      const config = ExtractorConfig.prepare({
        configObject: {
          projectFolder: ROOT,
          mainEntryPointFilePath: main,
          compiler: {
            overrideTsconfig: {
              compilerOptions: {
                target: 'ES2022',
                module: 'NodeNext',
                moduleResolution: 'NodeNext',
                lib: ['ES2022'],
                types: ['node'],
                typeRoots: [path.join(ROOT, 'node_modules', '@types')],
                strict: true,
                skipLibCheck: false,
              },
              files: [main],
            },
          },
          apiReport: { enabled: true, reportFileName: entry.name, reportFolder: reports, reportTempFolder: temp },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          newlineKind: 'lf',
          messages: {
            compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
            extractorMessageReporting: {
              default: { logLevel: ExtractorLogLevel.Warning },
              // no release tags in this package: what an entry exports is public, @internal is stripped
              'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
              // documentation is TypeDoc's concern (npm run docs)
              'ae-undocumented': { logLevel: ExtractorLogLevel.None },
              // a type used by the API but not exported by name: listed in the report, for review
              'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
            },
            // the doc comments are TypeDoc's (npm run docs checks them), not TSDoc-strict
            tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
          },
        },
        configObjectFullPath: undefined,
        packageJsonFullPath: path.join(ROOT, 'package.json'),
      });
      const r = Extractor.invoke(config, {
        localBuild: !!options.update,
        showVerboseMessages: false,
        printApiReportDiff: !options.update,
        messageCallback: (m: ExtractorMessage) => {
          if (m.logLevel === ExtractorLogLevel.Error || m.logLevel === ExtractorLogLevel.Warning) {
            if (m.messageId === 'console-api-report-not-copied' || m.messageId === 'console-api-report-copied') {
              m.handled = true;
              return;
            }
            if (m.messageId === 'console-api-report-diff') {
              m.handled = true;
              result.problems.push(`${entry.subpath}: the public API changed:\n${m.text}`);
              return;
            }
            result.problems.push(
              `${entry.subpath}: ${m.messageId}: ${m.text}${m.sourceFilePath ? ` (${m.sourceFilePath}:${m.sourceFileLine})` : ''}`,
            );
          }
          m.handled = true;
        },
      });
      if (r.apiReportChanged) result.changed.push(`${entry.name}.api.md`);
      if (!r.succeeded) result.ok = false;
      if (!options.quiet)
        console.log(`${entry.subpath}: ${r.apiReportChanged ? (options.update ? 'report updated' : 'CHANGED') : 'unchanged'}`);
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { update: { type: 'boolean', default: false }, dist: { type: 'string' }, reports: { type: 'string' } },
  });
  const r = api_report({ update: values.update, dist: values.dist, reports: values.reports });
  for (const p of r.problems) console.error(p);
  if (!r.ok) {
    console.error(
      r.changed.length && !values.update
        ? `api: the public API differs from docs/api-report/ (${r.changed.join(', ')}): if the change is intended, run \`npm run api:update\` and commit the reports`
        : 'api: failed',
    );
    process.exit(1);
  }
  if (values.update && r.changed.length) console.log(`api: review and commit docs/api-report/ (${r.changed.join(', ')})`);
}
