/**
 * A wiretap on an H4 byte stream: listens on a Unix socket, forwards every connection to the
 * upstream socket (serve_controllers) unchanged, and deframes both directions on the side as they
 * pass, so a test sees exactly what a third-party host sent and what the controller answered, and
 * can write it to a btsnoop file (host view: commands/ACL out, events/ACL in) for tshark and btmon.
 * Bytes are forwarded before they are parsed; the tap never changes the stream.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { H4Deframer } from '../../src/hci/h4.js';
import type { HciDump } from '../../src/hci/dump.js';

export interface TapPacket {
  /** 'out' = host to controller, 'in' = controller to host */
  dir: 'out' | 'in';
  /** H4 packet type (1 command, 2 ACL, 3 SCO, 4 event) */
  type: number;
  /** the packet without the H4 type byte (a copy) */
  bytes: Uint8Array;
}

export class H4Tap {
  readonly packets: TapPacket[] = [];
  /** H4 framing errors in either direction: the stream is not clean H4 when this is not empty. */
  readonly framing_errors: string[] = [];
  /** Raw byte counts per direction. */
  readonly octets = { out: 0, in: 0 };
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly dump: HciDump | null,
  ) {}

  /** Listen on `path`; every connection is forwarded to the Unix socket `upstream`. */
  static listen(path: string, upstream: string, dump: HciDump | null = null): Promise<H4Tap> {
    try {
      if (fs.lstatSync(path).isSocket()) fs.rmSync(path);
    } catch {
      // not there
    }
    const server = net.createServer();
    const tap = new H4Tap(server, dump);
    server.on('connection', (down) => tap.attach(down, upstream));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve(tap);
      });
    });
  }

  private attach(down: net.Socket, upstream: string): void {
    const up = net.connect(upstream);
    this.sockets.add(down);
    this.sockets.add(up);
    const record = (dir: 'out' | 'in') => (type: number, packet: Uint8Array, size: number) => {
      const bytes = packet.slice(0, size);
      this.packets.push({ dir, type, bytes });
      this.dump?.log_packet(type, dir === 'in' ? 1 : 0, bytes, size);
    };
    const out = new H4Deframer({
      accept: [0x01, 0x02, 0x03],
      limits: { max_acl: 0xffff },
      on_packet: record('out'),
      on_error: (m) => this.framing_errors.push(`host -> controller: ${m}`),
    });
    const inp = new H4Deframer({
      accept: [0x02, 0x03, 0x04],
      limits: { max_acl: 0xffff },
      on_packet: record('in'),
      on_error: (m) => this.framing_errors.push(`controller -> host: ${m}`),
    });
    down.on('data', (c: Buffer) => {
      up.write(c);
      this.octets.out += c.length;
      out.feed(c);
    });
    up.on('data', (c: Buffer) => {
      down.write(c);
      this.octets.in += c.length;
      inp.feed(c);
    });
    const end = (): void => {
      down.destroy();
      up.destroy();
      this.sockets.delete(down);
      this.sockets.delete(up);
    };
    for (const s of [down, up]) {
      s.on('error', end);
      s.on('close', end);
    }
  }

  /** Packets of one direction and type. */
  of(dir: 'out' | 'in', type: number): Uint8Array[] {
    return this.packets.filter((p) => p.dir === dir && p.type === type).map((p) => p.bytes);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
