/**
 * H4 (UART) framing: a pure, chunk-fed deframer and an encoder for HCI packet types 1-5.
 *
 * The deframer never throws and never allocates per packet: packets are assembled in one
 * fixed buffer (spans copied without a view per span, see SpanCopier) and handed to
 * `on_packet(type, buffer, size)`; the buffer is valid only during the call (as in BTstack). An unknown type byte or a length above the configured limit is a
 * framing error: `on_error` is called, the deframer drops its state and (by default) skips
 * bytes until a plausible type byte follows. The stack resets the transport on such errors.
 */
import { SpanCopier } from './hci-copy.js';

export const H4_COMMAND = 0x01;
export const H4_ACL = 0x02;
export const H4_SCO = 0x03;
export const H4_EVENT = 0x04;
export const H4_ISO = 0x05;

/** Header sizes (after the type byte) per packet type, index = type. */
const HEADER_SIZE = [0, 3, 4, 3, 2, 4];

export interface H4Limits {
  /** Largest command parameter length accepted (max 255). */
  max_command: number;
  /** Largest ACL data length accepted (max 65535). */
  max_acl: number;
  /** Largest SCO data length accepted (max 255). */
  max_sco: number;
  /** Largest event parameter length accepted (max 255). */
  max_event: number;
  /** Largest ISO data load length accepted (max 16383). */
  max_iso: number;
}

export const DEFAULT_H4_LIMITS: Readonly<H4Limits> = Object.freeze({
  max_command: 255,
  max_acl: 4096,
  max_sco: 255,
  max_event: 255,
  max_iso: 16383,
});

export type H4PacketHandler = (packet_type: number, packet: Uint8Array, size: number) => void;
export type H4ErrorHandler = (message: string) => void;

export interface H4DeframerOptions {
  on_packet: H4PacketHandler;
  on_error?: H4ErrorHandler;
  limits?: Partial<H4Limits>;
  /** Packet types this side accepts (host: 2,3,4,5; controller: 1,2,3,5). Default: 1-5. */
  accept?: readonly number[];
}

const enum State {
  Type,
  Header,
  Payload,
}

export class H4Deframer {
  private readonly on_packet: H4PacketHandler;
  private readonly on_error: H4ErrorHandler;
  readonly limits: H4Limits;
  private readonly accept: boolean[] = [false, false, false, false, false, false];
  private readonly buf: Uint8Array;
  private readonly copier = new SpanCopier();
  private state = State.Type;
  private type = 0;
  private have = 0; // bytes of header+payload collected
  private need = 0; // bytes of header+payload expected in total
  /** Count of framing errors seen (for diagnostics). */
  errors = 0;

  constructor(opts: H4DeframerOptions) {
    this.on_packet = opts.on_packet;
    this.on_error = opts.on_error ?? (() => {});
    this.limits = { ...DEFAULT_H4_LIMITS, ...opts.limits };
    for (const [k, v] of Object.entries(this.limits)) {
      if (!Number.isInteger(v) || v < 0) throw new TypeError(`H4 limit ${k}: expected a non-negative integer, got ${v}`);
    }
    for (const t of opts.accept ?? [1, 2, 3, 4, 5]) if (t >= 1 && t <= 5) this.accept[t] = true;
    const l = this.limits;
    const biggest = Math.max(3 + l.max_command, 4 + l.max_acl, 3 + l.max_sco, 2 + l.max_event, 4 + l.max_iso);
    this.buf = new Uint8Array(biggest);
  }

  /** Forget a partial packet (after a transport reset). */
  reset(): void {
    this.state = State.Type;
    this.have = 0;
    this.need = 0;
  }

  /** Whether a packet is partly received. */
  get in_packet(): boolean {
    return this.state !== State.Type;
  }

  feed(chunk: Uint8Array, offset = 0, length = chunk.length - offset): void {
    // clamp to the chunk: a bad offset/length must not read undefined bytes
    let i = Math.max(0, offset | 0);
    const end = Math.min(chunk.length, i + Math.max(0, length | 0));
    while (i < end) {
      if (this.state === State.Type) {
        const t = chunk[i++]!;
        if (t > 5 || !this.accept[t]) {
          this.fail(`unknown H4 packet type 0x${t.toString(16).padStart(2, '0')}`);
          continue;
        }
        this.type = t;
        this.have = 0;
        this.need = HEADER_SIZE[t]!;
        this.state = State.Header;
        continue;
      }
      const n = Math.min(this.need - this.have, end - i);
      this.copier.copy(this.buf, this.have, chunk, i, n);
      this.have += n;
      i += n;
      if (this.have < this.need) continue;
      if (this.state === State.Header) {
        const len = this.payloadLength();
        if (len < 0) {
          this.fail(`H4 packet type ${this.type}: length ${this.lastLength} above limit`);
          continue;
        }
        this.need += len;
        this.state = State.Payload;
        if (len > 0) continue;
      }
      // complete
      const type = this.type;
      const size = this.need;
      this.state = State.Type;
      this.have = 0;
      this.need = 0;
      this.on_packet(type, this.buf, size);
    }
  }

  private lastLength = 0;

  /** Payload length from the header in buf, or -1 when above the limit. */
  private payloadLength(): number {
    const b = this.buf;
    const l = this.limits;
    let len: number;
    let max: number;
    switch (this.type) {
      case H4_COMMAND:
        len = b[2]!;
        max = l.max_command;
        break;
      case H4_ACL:
        len = b[2]! | (b[3]! << 8);
        max = l.max_acl;
        break;
      case H4_SCO:
        len = b[2]!;
        max = l.max_sco;
        break;
      case H4_EVENT:
        len = b[1]!;
        max = l.max_event;
        break;
      default: // ISO
        len = (b[2]! | (b[3]! << 8)) & 0x3fff;
        max = l.max_iso;
        break;
    }
    this.lastLength = len;
    return len > max ? -1 : len;
  }

  private fail(message: string): void {
    this.errors++;
    this.reset();
    this.on_error(message);
  }
}

/** Size of `packet` with its H4 type byte. */
export function h4_size(size: number): number {
  return size + 1;
}

/**
 * Write the H4 type byte and packet into `out` at `pos`; returns bytes written
 * (0 when `out` is too small).
 */
export function h4_encode(packet_type: number, packet: Uint8Array, size: number, out: Uint8Array, pos = 0): number {
  if (out.length - pos < size + 1) return 0;
  out[pos] = packet_type;
  out.set(packet.subarray(0, size), pos + 1);
  return size + 1;
}
