/**
 * `bthost pair ADDR` / `bthost pair --listen`: bond with a classic device.
 *
 * The initiator drops any key it holds for ADDR (BTstack's gap_dedicated_bonding pairs anew),
 * pages ADDR, asks for `--level` (gap_request_security_level, default 2) and lets the pairing
 * agent (agent.ts) answer whatever association model the two IO capabilities give. It prints the
 * model, the security level and the link key type, disconnects, and exits 0 only when the new key
 * is in the key store; otherwise one line says why. `--listen` is the responder: connectable and
 * discoverable, it answers with the same flags and exits 0 once a device bonded with it and
 * disconnected; it rides through faults (a framing error, a Hardware Error, the port unplugged and
 * back: host.recover): one line each, a pairing cut by the fault forgotten, waiting again once the
 * stack is up (--once: the first fault ends it with exit 1). stdin is the agent's: a Numeric
 * Comparison is answered from it (y/n) unless --yes,
 * a passkey is typed there. `--le` pairs over LE instead (pair-le.ts).
 */
import { bd_addr_to_str, type BdAddr } from '../../src/core/bytes.js';
import { hci_write_page_timeout } from '../../src/hci/commands.js';
import { CliHost } from './host.js';
import { status_text } from './format.js';
import { Flags, type CliOptions } from './options.js';
import { page_failure, parse_addr, usage_error } from './common.js';
import { link_key_type_text, stdin_lines, type PairingReport } from './agent.js';
import { pair_le_main } from './pair-le.js';

/** Why a pairing failed, in words a user can act on. */
function failure_text(addr: string, status: number, r: PairingReport | undefined, level: number): string {
  if (r?.refused) return `pairing with ${addr} failed: ${r.refused}`;
  switch (status) {
    case 0x05:
      return `pairing with ${addr} failed: ${status_text(status)} (wrong passkey or PIN, or the other side refused)`;
    case 0x18:
      return `${addr} refused to pair (${status_text(status)})`;
    case 0x2f:
      return `security level ${level} cannot be reached with these IO capabilities (${status_text(status)}; try --io or --level 2)`;
    default:
      return `pairing with ${addr} failed: ${status_text(status)}`;
  }
}

export async function pair_main(options: CliOptions): Promise<number> {
  const flags = new Flags(options.rest, ['--level', '--page-timeout'], ['--listen', '--le', '--legacy', '--random']);
  if (flags.errors.length) return usage_error('pair', flags.errors[0]!);
  if (flags.has('--le')) return pair_le_main(options, flags);
  for (const f of ['--legacy', '--random']) if (flags.has(f)) return usage_error('pair', `${f} goes with --le`);
  const listen = flags.has('--listen');
  const args = flags.positional;
  let addr: BdAddr | null = null;
  if (listen) {
    if (args.length) return usage_error('pair', `--listen takes no address, got '${args[0]}'`);
  } else {
    const a = parse_addr(args[0] ?? (options.port.addr ? bd_addr_to_str(options.port.addr) : undefined));
    if (typeof a === 'string') return usage_error('pair', a);
    if (args.length > 1) return usage_error('pair', `unexpected argument '${args[1]}'`);
    addr = a;
  }
  const levelArg = flags.get('--level');
  const level = levelArg === undefined ? 2 : Number(levelArg);
  if (!/^[1-4]$/.test(levelArg ?? '2')) return usage_error('pair', `--level: expected 1..4, got '${levelArg}'`);
  const pageTimeout = flags.get('--page-timeout') === undefined ? 0 : Number(flags.get('--page-timeout'));
  if (!Number.isInteger(pageTimeout) || pageTimeout < 0 || pageTimeout > 40_000)
    return usage_error('pair', `--page-timeout: expected 1..40000 ms`);

  const host = new CliHost(options, 'pair');
  host.pairing_input = stdin_lines();
  if (!(await host.open())) return host.exit_code;
  const stack = host.stack;
  const gap = stack.gap;
  const c = stack.codes;
  const peerStr = addr ? bd_addr_to_str(addr) : '';
  let handle = -1;
  let peer = peerStr;
  let failure = '';
  let peerAddr: BdAddr | null = addr;
  if (listen) {
    host.recover = true;
    host.on_fault = () => {
      handle = -1;
      failure = '';
      peerAddr = null;
    };
  }
  /** A fault took the stack down under a listen (the stack reports its links gone): its line follows. */
  const faulted = (): boolean => listen && host.faults.cause !== null;

  /** The one result line; true when bonded (the key is in the store). */
  const result = (a: BdAddr | null, levelReached: number | null): boolean => {
    if (!a) return false;
    const who = bd_addr_to_str(a);
    const r = host.agent.reports.get(who);
    const rec = gap.gap_get_link_key_for_bd_addr(a);
    if (!rec || !r || r.key_type < 0) return false;
    const where = host.key_file ?? 'memory (no --keys; gone when bthost exits)';
    host.say(
      `bonded with ${who}: ${r.model || 'pairing'}` +
        (levelReached !== null ? `, security level ${levelReached}` : '') +
        `, link key type ${rec.type} (${link_key_type_text(rec.type)}), stored in ${where}`,
    );
    return true;
  };

  host.add_event_handler((packet) => {
    switch (packet[0]) {
      case c.HCI_EVENT_CONNECTION_COMPLETE: {
        const status = c.hci_event_connection_complete_get_status(packet);
        const a = c.hci_event_connection_complete_get_bd_addr(packet);
        if (listen) {
          if (status !== 0 || handle >= 0) break;
          handle = c.hci_event_connection_complete_get_connection_handle(packet);
          peerAddr = a;
          peer = bd_addr_to_str(a);
          host.say(`connection from ${peer}`);
          break;
        }
        if (bd_addr_to_str(a) !== peerStr) break;
        if (status !== 0) return host.finish(1, page_failure(peerStr, status));
        handle = c.hci_event_connection_complete_get_connection_handle(packet);
        host.say(`connected to ${peerStr}; asking for security level ${level} ...`);
        gap.gap_request_security_level(handle, level);
        break;
      }
      case c.GAP_EVENT_PAIRING_COMPLETE: {
        if (c.gap_event_pairing_complete_get_con_handle(packet) !== handle) break;
        const status = c.gap_event_pairing_complete_get_status(packet);
        if (status !== 0) failure = failure_text(peer, status, host.agent.reports.get(peer), level);
        if (status !== 0 && listen && !faulted()) return host.finish(1, failure);
        break;
      }
      case c.GAP_EVENT_SECURITY_LEVEL: {
        if (listen || c.gap_event_security_level_get_handle(packet) !== handle) break;
        const reached = c.gap_event_security_level_get_security_level(packet);
        if (reached >= level && result(addr, reached)) {
          gap.gap_disconnect(handle);
          return host.finish(0);
        }
        if (reached >= level)
          return host.finish(1, `${peerStr} is at security level ${reached}, but no new link key was stored (not bonded)`);
        return host.finish(1, failure || `security level ${level} not reached with ${peerStr} (level ${reached})`);
      }
      case c.HCI_EVENT_DISCONNECTION_COMPLETE: {
        if (c.hci_event_disconnection_complete_get_connection_handle(packet) !== handle) break;
        const reason = c.hci_event_disconnection_complete_get_reason(packet);
        handle = -1;
        if (listen) {
          if (result(peerAddr, null)) return host.finish(0);
          if (faulted()) return; // host.on_fault forgets this pairing, or --once ends with the fault's line
          return host.finish(1, failure || `${peer} disconnected before bonding (${status_text(reason)})`);
        }
        if (!failure) failure = `${peerStr} disconnected during pairing (${status_text(reason)})`;
        break;
      }
    }
  });

  if (listen) {
    gap.gap_discoverable_control(1);
    gap.gap_connectable_control(1);
  }
  host.power_on(() => {
    const keys = host.key_file ?? 'memory';
    if (listen) {
      host.say(
        `waiting for a device to pair with ${host.local_address} on ${host.where} (io ${options.pairing.io_name}, keys in ${keys}; Ctrl-C to stop)`,
      );
      return;
    }
    // BTstack's gap_dedicated_bonding: any old key goes first, so this really pairs
    gap.gap_drop_link_key_for_bd_addr(addr!);
    if (pageTimeout) stack.hci.hci_send_cmd(hci_write_page_timeout, Math.max(1, Math.round(pageTimeout / 0.625)));
    host.say(`pairing with ${peerStr} (io ${options.pairing.io_name}, keys in ${keys}) ...`);
    const st = stack.hci.hci_connect_acl(addr!);
    if (st !== 0) host.finish(1, `cannot connect to ${peerStr}: ${status_text(st)}`);
  });
  return host.run();
}
