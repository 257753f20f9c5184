/**
 * H4 (UART) framing: a pure, chunk-fed deframer and an encoder for HCI packet types 1-5.
 *
 * The deframer never throws and never allocates per packet: packets are assembled in one
 * fixed buffer (spans copied without a view per span, see SpanCopier) and handed to
 * `on_packet(type, buffer, size)`; the buffer is valid only during the call (as in BTstack).
 *
 * Limits: by default every length the H4 header can express is accepted except where the HCI
 * packet format caps it (commands, events, SCO: 255; ACL: 65535, the whole 16-bit
 * Data_Total_Length; ISO: 16383, 14 bits). The buffer is sized for the largest limit (64 KiB + 4
 * with the defaults). A smaller `max_acl` only makes sense together with controller-to-host flow
 * control (Host Buffer Size announcing at most that length): without it a controller may send any
 * length (Core Vol 4 Part E 7.3.39).
 *
 * Framing errors and resync: an unknown (or not accepted) type byte, or a length above the
 * limit, is a framing error. `on_error(message, info)` is called with the stream position of the
 * offending byte (bytes fed since construction, 0-based), the type, the length and limit, and the
 * error count; the message says the same in words. The deframer then drops the partial packet
 * (for a bad length: the type byte and header already read) and looks at the next byte as a type
 * byte: every following byte that is not a plausible type byte is one more framing error, so a
 * garbage burst yields one error per byte (HCI restarts once per burst). Resync is on the first
 * byte that is an accepted type (it may still be payload of the lost packet; what follows is then
 * judged by its header and limits again). The stack resets the transport on such errors.
 */
import { SpanCopier } from '../core/span.js';

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
  max_acl: 0xffff,
  max_sco: 255,
  max_event: 255,
  max_iso: 16383,
});

export type H4PacketHandler = (packet_type: number, packet: Uint8Array, size: number) => void;
/** Where and what a framing error was (see the header comment for the resync rules). */
export interface H4FramingError {
  /** Stream offset of the byte that broke framing (bytes fed since construction, 0-based). */
  position: number;
  /** The type byte (for an unknown type: that byte). */
  packet_type: number;
  /** Length from the header (-1 for an unknown type byte). */
  length: number;
  /** The limit it broke (-1 for an unknown type byte). */
  limit: number;
  /** Framing errors so far, this one included. */
  errors: number;
}

export type H4ErrorHandler = (message: string, info: H4FramingError) => void;

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
  /** Bytes fed since construction (the stream position of the next byte). */
  bytes_fed = 0;
  /** Packets delivered since construction. */
  packets = 0;

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
    const start = i;
    const base = this.bytes_fed;
    this.bytes_fed += end - start;
    while (i < end) {
      if (this.state === State.Type) {
        const t = chunk[i++]!;
        if (t > 5 || !this.accept[t]) {
          this.fail(`unknown H4 packet type 0x${t.toString(16).padStart(2, '0')}`, base + (i - 1 - start), t, -1, -1);
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
          // the position of the packet's type byte: header bytes are all in (have === need)
          const pos = base + (i - start) - this.have - 1;
          this.fail(
            `H4 packet type ${this.type}: length ${this.lastLength} above limit ${this.lastMax}`,
            pos,
            this.type,
            this.lastLength,
            this.lastMax,
          );
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
      this.packets++;
      this.on_packet(type, this.buf, size);
    }
  }

  private lastLength = 0;
  private lastMax = 0;

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
    this.lastMax = max;
    return len > max ? -1 : len;
  }

  private fail(what: string, position: number, packet_type: number, length: number, limit: number): void {
    this.errors++;
    this.reset();
    const message = `${what} at stream byte ${position} (framing error ${this.errors}, ${this.packets} packets before)`;
    this.on_error(message, { position, packet_type, length, limit, errors: this.errors });
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
