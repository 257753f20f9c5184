/**
 * Check btsnoop / PacketLogger captures with our record walker, tshark and btmon.
 *
 *   tsx tools/check-capture.ts [-v] [--ignore REGEX]... FILE...
 *
 * Prints one summary per file (and every problem); -v also lists tshark's benign warnings.
 * Exit status: 0 when every file is clean, 1 when any has a problem, 2 on a usage error.
 */
import { checkCapture, formatReport } from '../test/helpers/capture.js';

function main(argv: string[]): number {
  const files: string[] = [];
  const ignore: RegExp[] = [];
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '--ignore') {
      const re = argv[++i];
      if (re === undefined) return usage('--ignore needs a regular expression');
      try {
        ignore.push(new RegExp(re));
      } catch (e) {
        return usage(`bad --ignore pattern: ${(e as Error).message}`);
      }
    } else if (a === '-h' || a === '--help') {
      usage();
      return 0;
    } else if (a.startsWith('-') && a !== '-') return usage(`unknown option ${a}`);
    else files.push(a);
  }
  if (files.length === 0) return usage('no capture file given');
  let bad = 0;
  for (const f of files) {
    const r = checkCapture(f, { ignore });
    console.log(formatReport(r));
    if (verbose) for (const w of r.tsharkWarnings) console.log(`  (benign) tshark: ${w}`);
    if (r.problems.length > 0) bad++;
  }
  if (files.length > 1) console.log(`${files.length - bad} clean, ${bad} with problems`);
  return bad > 0 ? 1 : 0;
}

function usage(error?: string): number {
  if (error) console.error(`check-capture: ${error}`);
  console.error('usage: tsx tools/check-capture.ts [-v] [--ignore REGEX]... FILE...');
  return 2;
}

process.exitCode = main(process.argv.slice(2));
