/**
 * The I/O floor for the UART benchmark: a process that only opens the pty with serialport (as
 * the H4 transport does: same library, same baud, RTS/CTS) and counts the bytes it reads, with
 * no Bluetooth stack. Its CPU share at a given line rate is what any Node program reading that
 * serial stream pays before doing anything with the bytes. Prints one JSON line.
 *
 *   node --import tsx bench/lib/serial-floor.ts --tty PATH --baud N --seconds S
 */
import { SerialPort } from 'serialport';

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`serial-floor: missing ${name}`);
  return v;
}

const tty = arg('--tty');
const baud = Number(arg('--baud'));
const seconds = Number(arg('--seconds'));
/** Warm-up before the window (--warm-ms; the JIT must have optimized the hot path: at ~300 packets/s that takes seconds). */
const WARM_MS = process.argv.includes('--warm-ms') ? Number(arg('--warm-ms')) : 700;

let bytes = 0;
let reads = 0;
const port = new SerialPort({ path: tty, baudRate: baud, rtscts: true, autoOpen: false });
port.on('data', (d: Buffer) => {
  bytes += d.length;
  reads++;
});
port.open((err) => {
  if (err) {
    console.error(`serial-floor: ${err.message}`);
    process.exit(1);
  }
  process.stdout.write('OPEN\n');
  setTimeout(() => {
    const b0 = bytes;
    const r0 = reads;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    process.stdout.write('WINDOW-START\n');
    setTimeout(() => {
      const wall_ms = performance.now() - t0;
      const cpu = process.cpuUsage(c0);
      process.stdout.write('WINDOW-END\n');
      console.log(
        JSON.stringify({
          baud,
          wall_ms,
          bytes: bytes - b0,
          reads: reads - r0,
          Bps: ((bytes - b0) * 1000) / wall_ms,
          cpu_ms: (cpu.user + cpu.system) / 1000,
          cpu_pct: ((cpu.user + cpu.system) / 1000 / wall_ms) * 100,
        }),
      );
      process.exit(0);
    }, seconds * 1000);
  }, WARM_MS);
});
