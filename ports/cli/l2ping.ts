/**
 * `bthost l2ping ADDR`: L2CAP Echo Requests on a classic ACL link, one at a time, with the
 * round-trip time of each, like BlueZ's l2ping:
 *
 *   Ping: C0:FF:EE:00:00:02 from C0:FF:EE:00:00:01 (data size 44) ...
 *   44 bytes from C0:FF:EE:00:00:02 id 0 time 2.31ms
 *   5 sent, 5 received, 0% loss
 *
 * The link is made with Create Connection (a page); a device that does not answer the page is
 * reported as such. Exit 0 when at least one echo came back.
 */
import { performance } from 'node:perf_hooks';
import { bd_addr_cmp, bd_addr_to_str, type BdAddr } from '../../src/core/bytes.js';
import type { Timer } from '../../src/core/run-loop.js';
import { hci_write_page_timeout } from '../../src/hci/commands.js';
import { CliHost } from './host.js';
import { status_text } from './format.js';
import { Flags, type CliOptions } from './options.js';
import { usage_error, parse_addr, page_failure } from './common.js';

/** Largest echo payload the L2CAP layer sends (its echo buffer). */
const MAX_SIZE = 600;

export async function l2ping_main(options: CliOptions): Promise<number> {
  const flags = new Flags(options.rest, ['-c', '-s', '-i', '--page-timeout'], []);
  const count = flags.get('-c') === undefined ? 5 : Number(flags.get('-c'));
  const size = flags.get('-s') === undefined ? 44 : Number(flags.get('-s'));
  const interval = flags.get('-i') === undefined ? 1 : Number(flags.get('-i'));
  const pageTimeout = flags.get('--page-timeout') === undefined ? 0 : Number(flags.get('--page-timeout'));
  const addr = parse_addr(flags.positional[0] ?? (options.port.addr ? bd_addr_to_str(options.port.addr) : undefined));
  const problem =
    flags.errors[0] ??
    (typeof addr === 'string' ? addr : undefined) ??
    (flags.positional.length > 1 ? `unexpected argument '${flags.positional[1]}'` : undefined) ??
    (!Number.isInteger(count) || count < 0 ? `-c: expected a count, got '${flags.get('-c')}'` : undefined) ??
    (!Number.isInteger(size) || size < 0 || size > MAX_SIZE
      ? `-s: expected 0..${MAX_SIZE} bytes, got '${flags.get('-s')}'`
      : undefined) ??
    (!Number.isFinite(interval) || interval < 0 ? `-i: expected seconds, got '${flags.get('-i')}'` : undefined) ??
    (!Number.isInteger(pageTimeout) || pageTimeout < 0 || pageTimeout > 40_000
      ? `--page-timeout: expected 1..40000 ms, got '${flags.get('--page-timeout')}'`
      : undefined);
  if (problem) {
    return usage_error('l2ping', problem);
  }
  const peer = addr as BdAddr;
  const peerStr = bd_addr_to_str(peer);

  const host = new CliHost(options, 'l2ping');
  if (!(await host.open())) return host.exit_code;
  const hci = host.stack.hci;
  const l2cap = host.stack.l2cap;
  const codes = host.stack.codes;
  let handle = -1;
  let sent = 0;
  let received = 0;
  let id = 0;
  let t_sent = 0;
  let waiting = false;
  let next: Timer | null = null;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = 0x41 + (i % 40); // 'A'...

  const stats = () => {
    const loss = sent ? Math.round(((sent - received) / sent) * 100) : 0;
    process.stdout.write(`${sent} sent, ${received} received, ${loss}% loss\n`);
  };
  let over = false;
  const done = () => {
    if (over) return;
    over = true;
    host.cancel(next);
    stats();
    host.finish(received > 0 ? 0 : 1, received > 0 ? undefined : `no echo came back from ${peerStr}`);
  };

  const ping = () => {
    next = null;
    if (count && sent >= count) return done();
    const st = l2cap.l2cap_send_echo_request(handle, data, size, (status, echo, n) => {
      waiting = false;
      const rtt = performance.now() - t_sent;
      if (status !== 0) {
        process.stdout.write(`no response from ${peerStr} id ${id}: ${status_text(status)}\n`);
        if (status === 0x6a) return done(); // the link went away
      } else {
        received++;
        const same = n === size && echo.subarray(0, n).every((b, i) => b === data[i]);
        process.stdout.write(
          `${n} bytes from ${peerStr} id ${id} time ${rtt.toFixed(2)}ms${same ? '' : ' (data differs from what was sent)'}\n`,
        );
      }
      id = (id + 1) & 0xff;
      if (count && sent >= count) return done();
      next = host.after(interval * 1000, ping);
    });
    if (st !== 0) return host.finish(1, `cannot send an echo request: ${status_text(st)}`);
    waiting = true;
    sent++;
    t_sent = performance.now();
  };

  host.add_event_handler((packet) => {
    switch (packet[0]) {
      case codes.HCI_EVENT_CONNECTION_COMPLETE: {
        if (bd_addr_cmp(codes.hci_event_connection_complete_get_bd_addr(packet), peer) !== 0) break;
        const status = codes.hci_event_connection_complete_get_status(packet);
        if (status !== 0) return host.finish(1, page_failure(peerStr, status));
        handle = codes.hci_event_connection_complete_get_connection_handle(packet);
        process.stdout.write(`Ping: ${peerStr} from ${host.local_address} (data size ${size}) ...\n`);
        // after L2CAP (whose handler runs after this one) has seen the new link
        host.run_loop.execute_on_main_thread(ping);
        break;
      }
      case codes.HCI_EVENT_DISCONNECTION_COMPLETE:
        if (over || codes.hci_event_disconnection_complete_get_connection_handle(packet) !== handle) break;
        handle = -1;
        process.stdout.write(
          `link to ${peerStr} closed: ${status_text(codes.hci_event_disconnection_complete_get_reason(packet))}\n`,
        );
        done();
        break;
    }
  });

  host.power_on(() => {
    l2cap.l2cap_init();
    if (pageTimeout) hci.hci_send_cmd(hci_write_page_timeout, Math.max(1, Math.round(pageTimeout / 0.625)));
    const st = hci.hci_connect_acl(peer);
    if (st !== 0) host.finish(1, `cannot connect to ${peerStr}: ${status_text(st)}`);
  });
  host.on_interrupt = () => {
    if (waiting) sent--; // an echo still in flight is not counted as lost
    done();
  };
  return host.run();
}
