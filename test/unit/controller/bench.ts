/**
 * Test bench: a VirtualRunLoop, a RadioLink and "hosts" that send raw HCI bytes to controllers
 * and record everything the controllers deliver, as hex strings.
 */
import { fromHex, hex } from '../../../src/core/bytes.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import type { HciDump } from '../../../src/hci/dump.js';
import { RadioLink, type RadioLinkOptions } from '../../../src/controller/link.js';
import type { ControllerOptions, VirtualController } from '../../../src/controller/controller.js';

export interface Rx {
  type: number;
  hex: string;
  bytes: Uint8Array;
}

export class Host {
  readonly rx: Rx[] = [];
  /** Packet log of this host's side of the HCI (commands/ACL out, events/ACL in). */
  dump: HciDump | null = null;
  constructor(readonly c: VirtualController) {
    c.attach_host((type, packet, size) => {
      this.dump?.log_packet(type, 1, packet, size);
      const bytes = Uint8Array.from(packet.subarray(0, size));
      this.rx.push({ type, hex: hex(bytes), bytes });
    });
  }
  /** Send a command given as hex (opcode LE, length, params). */
  cmd(h: string): void {
    const b = fromHex(h);
    this.dump?.log_packet(0x01, 0, b, b.length);
    this.c.host_send(0x01, b, b.length);
  }
  acl(handle: number, pb: number, data: Uint8Array): void {
    const b = new Uint8Array(4 + data.length);
    const hf = handle | (pb << 12);
    b[0] = hf & 0xff;
    b[1] = hf >> 8;
    b[2] = data.length & 0xff;
    b[3] = data.length >> 8;
    b.set(data, 4);
    this.dump?.log_packet(0x02, 0, b, b.length);
    this.c.host_send(0x02, b, b.length);
  }
  /** Events received (hex), and forget them. */
  take(): string[] {
    const out = this.rx.filter((r) => r.type === 4).map((r) => r.hex);
    this.rx.length = 0;
    return out;
  }
  /** Remove and return the first event received (hex), or undefined. */
  shift(): string | undefined {
    const i = this.rx.findIndex((r) => r.type === 4);
    if (i < 0) return undefined;
    return this.rx.splice(i, 1)[0]!.hex;
  }
  events(): string[] {
    return this.rx.filter((r) => r.type === 4).map((r) => r.hex);
  }
  acls(): Rx[] {
    return this.rx.filter((r) => r.type === 2);
  }
  /** First received event with this code (and LE subevent), or undefined. */
  find(code: number, sub?: number): Uint8Array | undefined {
    return this.rx.find((r) => r.type === 4 && r.bytes[0] === code && (sub === undefined || r.bytes[2] === sub))?.bytes;
  }
  clear(): void {
    this.rx.length = 0;
  }
}

export function bench(n = 2, link_options: RadioLinkOptions = {}, controller_options: ControllerOptions[] = []) {
  const loop = new VirtualRunLoop();
  const link = new RadioLink(loop, link_options);
  const hosts: Host[] = [];
  for (let i = 0; i < n; i++) hosts.push(new Host(link.create_controller(controller_options[i] ?? {})));
  return { loop, link, hosts };
}

/** Little-endian hex of a 16-bit value ("0x0c03" -> "03 0c"). */
export function le16(v: number): string {
  return hex(Uint8Array.of(v & 0xff, v >> 8));
}

/** Wire-order hex of a BdAddr. */
export function wire(addr: Uint8Array): string {
  return hex(Uint8Array.from(addr).reverse());
}

/** Enable all events (page 1) and all LE events, as hosts do at boot. */
export function unmask(h: Host): void {
  h.cmd('01 0c 08 ff ff ff ff ff ff ff 3f'); // Set Event Mask
  h.cmd('01 20 08 7f 00 00 00 00 00 00 00'); // LE Set Event Mask: subevents 0x01-0x07
}
