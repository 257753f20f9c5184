/**
 * Helpers for the socket and pty tests of the virtual controller: an H4 client on a socket or
 * serial port that collects what the controller sends, and a wait on real time.
 */
import * as net from 'node:net';
import { hex } from '../../src/core/bytes.js';
import { H4Deframer } from '../../src/hci/h4.js';

export interface Packet {
  type: number;
  hex: string;
  bytes: Uint8Array;
}

/** Wait (real time) until `pred` holds; rejects after `ms`. */
export function wait_for(pred: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (pred()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 2);
    };
    check();
  });
}

/** Collects H4 packets from a byte stream (host side: events and ACL). */
export class H4Collector {
  readonly packets: Packet[] = [];
  readonly raw: number[] = [];
  private readonly deframer = new H4Deframer({
    accept: [0x02, 0x04],
    on_packet: (type, packet, size) => {
      const bytes = Uint8Array.from(packet.subarray(0, size));
      this.packets.push({ type, bytes, hex: hex(bytes) });
    },
  });
  feed(chunk: Uint8Array): void {
    for (const b of chunk) this.raw.push(b);
    this.deframer.feed(chunk);
  }
  events(): string[] {
    return this.packets.filter((p) => p.type === 4).map((p) => p.hex);
  }
  find(code: number, sub?: number): Uint8Array | undefined {
    return this.packets.find((p) => p.type === 4 && p.bytes[0] === code && (sub === undefined || p.bytes[2] === sub))?.bytes;
  }
  clear(): void {
    this.packets.length = 0;
    this.raw.length = 0;
  }
}

export class SocketClient extends H4Collector {
  constructor(readonly socket: net.Socket) {
    super();
    socket.on('data', (c: Buffer) => this.feed(c));
  }
  static connect(path: string | { host: string; port: number }): Promise<SocketClient> {
    return new Promise((resolve, reject) => {
      const s = typeof path === 'string' ? net.connect(path) : net.connect(path.port, path.host);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new SocketClient(s));
      });
    });
  }
  /** Send an H4 command (type byte added). */
  cmd(h: string): void {
    this.socket.write(Buffer.from(('01 ' + h).replace(/\s+/g, ''), 'hex'));
  }
  send(h: string): void {
    this.socket.write(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
  }
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }
}
