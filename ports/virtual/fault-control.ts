/**
 * The control socket of `bthost controller --control unix:PATH`: one request per line, one answer
 * line each.
 *   list                 -> `controllers I ADDR[ I ADDR...]` (the connections now, by index)
 *   SPECS                -> `ok N` (N = faults applied or scheduled) or `error MESSAGE`
 * SPECS as for --fault (ports/virtual/fault-spec.ts), e.g. `c1:inflate-nocp=100`,
 * `hardware-error`, `c0:unplug@500`. Requests enter the run loop through execute_on_main_thread.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { bd_addr_to_str } from '../../src/core/bytes.js';
import { parse_fault_specs } from './fault-spec.js';
import type { ControllerServer } from './server.js';

/** Answer one control line (on the run loop). */
export function control_request(server: ControllerServer, line: string): string {
  const req = line.trim();
  if (req === 'list') {
    const cs = server.controllers.map((c) => `${c.index} ${bd_addr_to_str(c.bd_addr)}`);
    return `controllers${cs.length ? ' ' + cs.join(' ') : ''}`;
  }
  const specs = parse_fault_specs(req);
  if (typeof specs === 'string') return `error ${specs}`;
  return `ok ${server.apply_faults(specs)}`;
}

/** Listen on unix:PATH for control lines; resolves with the net.Server once listening. */
export function serve_control(server: ControllerServer, listen: string): Promise<net.Server> {
  if (!listen.startsWith('unix:') || listen.length <= 5)
    return Promise.reject(new TypeError(`bad control address '${listen}' (unix:PATH)`));
  const path = listen.slice(5);
  try {
    if (fs.lstatSync(path).isSocket()) fs.rmSync(path);
  } catch {
    // not there
  }
  const rl = server.link.run_loop;
  const srv = net.createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 65536) return void socket.destroy();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.trim()) continue;
        rl.execute_on_main_thread(() => {
          if (!socket.destroyed) socket.write(control_request(server, line) + '\n');
        });
      }
    });
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(path, () => {
      srv.off('error', reject);
      resolve(srv);
    });
  });
}
