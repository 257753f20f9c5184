/**
 * bthost/port: what BTstack's port/posix-h4/main.c is to its examples. `example_main` parses the
 * port flags (-u TTY, -b BAUD, -l LOGFILE, -f FORMAT, ...), picks the transport (a serial H4
 * controller with -u, else the example's virtual world), opens the packet log, prints every event
 * by name, runs the example's `btstack_main` and exits with its code; `parse_port_options` and
 * friends are the flags alone, for a program with its own main. The file-backed key store
 * (ports/posix/tlv-file.ts, BTstack's btstack_tlv_posix) is here too: persistence is I/O.
 */
export * from './example-main.js';
export * from './main.js';
export * from './posix/tlv-file.js';
export * from './status-text.js';
