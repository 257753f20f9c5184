/**
 * The soak test's data: a deterministic byte stream (every byte a function of its position, so a
 * lost, repeated or reordered SDU changes the hash) cut into SDUs of varying size, and a running
 * SHA-256 of what was sent / received on each side.
 */
import { createHash, type Hash } from 'node:crypto';

const PATTERN_SIZE = 1 << 20;
const SIZES = [1017, 1017, 333, 1017, 1, 800, 1017, 64, 1017, 1000];

/** The pattern for one direction (seed 1: host -> peer, seed 2: peer -> host). */
export function soak_pattern(seed: number): Uint8Array {
  const p = new Uint8Array(PATTERN_SIZE + 65536);
  let x = (0x9e3779b9 ^ seed) >>> 0;
  for (let i = 0; i < p.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    p[i] = x & 0xff;
  }
  return p;
}

export class SoakSender {
  bytes = 0;
  sdus = 0;
  private readonly hash: Hash = createHash('sha256');
  constructor(
    private readonly pattern: Uint8Array,
    private readonly mtu: number,
  ) {}

  /** The next SDU (a view of the pattern), not yet counted. */
  next(): Uint8Array {
    const size = Math.min(this.mtu, SIZES[this.sdus % SIZES.length]!);
    const off = this.bytes % PATTERN_SIZE;
    return this.pattern.subarray(off, off + size);
  }

  /** The SDU from next() was accepted by the stack. */
  sent(sdu: Uint8Array): void {
    this.hash.update(sdu);
    this.bytes += sdu.length;
    this.sdus++;
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }
}

export class SoakReceiver {
  bytes = 0;
  sdus = 0;
  private readonly hash: Hash = createHash('sha256');

  received(packet: Uint8Array, size: number): void {
    this.hash.update(packet.subarray(0, size));
    this.bytes += size;
    this.sdus++;
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }
}
