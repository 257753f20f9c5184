#!/usr/bin/env node
/** `bthost` command-line tool. Subcommands are added as their layers land. */
const [cmd] = process.argv.slice(2);
const usage = 'usage: bthost <command> [options]\n\ncommands:\n  (none yet)\n';
if (!cmd || cmd === '--help' || cmd === '-h') {
  process.stdout.write(usage);
  process.exit(cmd ? 0 : 1);
}
process.stderr.write(`bthost: unknown command '${cmd}'\n${usage}`);
process.exit(2);
