#!/usr/bin/env node
/** `bthost` command-line tool. Subcommands are added as their layers land. */
const [cmd] = process.argv.slice(2);
const usage = 'usage: bthost <command> [options]\n\ncommands:\n  controller   serve virtual controllers on a socket (--listen unix:PATH|tcp:HOST:PORT [--baud N])\n';
if (!cmd || cmd === '--help' || cmd === '-h') {
  process.stdout.write(usage);
  process.exit(cmd ? 0 : 1);
}
if (cmd === 'controller') {
  void import('../ports/virtual/cli.js')
    .then((m) => m.controller_main(process.argv.slice(3)))
    .then((code) => process.exit(code));
} else {
  process.stderr.write(`bthost: unknown command '${cmd}'\n${usage}`);
  process.exit(2);
}
