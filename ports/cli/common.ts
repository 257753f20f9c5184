/** Small helpers shared by the `bthost` commands. */
import { sscanf_bd_addr, type BdAddr } from '../../src/core/bytes.js';
import { status_text } from './format.js';

/** A BD_ADDR argument, or the problem with it. */
export function parse_addr(s: string | undefined): BdAddr | string {
  if (s === undefined) return 'missing address (XX:XX:XX:XX:XX:XX)';
  const a = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s) ? sscanf_bd_addr(s) : null;
  return a ?? `'${s}' is not a Bluetooth address (XX:XX:XX:XX:XX:XX)`;
}

/** The one line for a connection that did not come up (page timeout = nobody at that address). */
export function page_failure(addr: string, status: number): string {
  if (status === 0x04)
    return `no device answered at ${addr} (page timeout): is the address right, the device on, in range and connectable?`;
  return `cannot connect to ${addr}: ${status_text(status)}`;
}

/** A usage error: one line on stderr, `bthost CMD: PROBLEM (bthost CMD --help for usage)`; returns exit code 2. */
export function usage_error(command: string, problem: string): number {
  process.stderr.write(`bthost ${command}: ${problem} (bthost ${command} --help for usage)\n`);
  return 2;
}

/** --security LEVEL: a GAP security level 0..4 (gap_security_level_t), null when not given, or the problem. */
export function parse_security(s: string | undefined): number | null | string {
  if (s === undefined) return null;
  return /^[0-4]$/.test(s) ? Number(s) : `--security: expected a level 0..4, got '${s}'`;
}
