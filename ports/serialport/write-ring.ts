/**
 * A fixed ring of bytes for outgoing H4 packets. Each packet is copied into one contiguous slot
 * (the stream keeps a view of it until the OS accepted the bytes), slots are released in the
 * order they were written. No allocation per packet beyond the Buffer view handed to the stream.
 */
export class WriteRing {
  readonly buffer: Buffer;
  private head = 0; // next free byte
  private tail = 0; // oldest byte still in flight
  private usedBytes = 0; // bytes in flight including padding skipped at the end
  private readonly costs: Int32Array; // per slot: bytes to release (padding + size), FIFO
  private costHead = 0;
  private costCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 16) throw new RangeError(`write ring: bad capacity ${capacity}`);
    this.buffer = Buffer.allocUnsafe(capacity);
    this.costs = new Int32Array(Math.ceil(capacity / 2) + 1);
  }

  /** Bytes in flight (the write queue length). */
  get used(): number {
    return this.usedBytes;
  }

  /** Slots in flight. */
  get slots(): number {
    return this.costCount;
  }

  /** Forget everything in flight (after the port closed). */
  clear(): void {
    this.head = 0;
    this.tail = 0;
    this.usedBytes = 0;
    this.costHead = 0;
    this.costCount = 0;
  }

  /**
   * Reserve `size` contiguous bytes; returns the offset in `buffer`, or -1 when there is no room.
   * The slot stays reserved until a matching release().
   */
  reserve(size: number): number {
    if (size <= 0 || size > this.capacity || this.costCount >= this.costs.length) return -1;
    if (this.usedBytes === 0) {
      this.head = 0;
      this.tail = 0;
    }
    let pos: number;
    let cost: number;
    if (this.usedBytes > 0 && this.head === this.tail) return -1; // full
    if (this.head >= this.tail) {
      if (this.capacity - this.head >= size) {
        pos = this.head;
        cost = size;
      } else if (this.tail >= size) {
        pos = 0;
        cost = this.capacity - this.head + size; // skip the end
      } else return -1;
    } else {
      if (this.tail - this.head < size) return -1;
      pos = this.head;
      cost = size;
    }
    this.head = pos + size;
    if (this.head === this.capacity) this.head = 0;
    this.usedBytes += cost;
    this.costs[(this.costHead + this.costCount) % this.costs.length] = cost;
    this.costCount++;
    return pos;
  }

  /** Release the oldest slot; returns false if nothing was in flight. */
  release(): boolean {
    if (this.costCount === 0) return false;
    const cost = this.costs[this.costHead]!;
    this.costHead = (this.costHead + 1) % this.costs.length;
    this.costCount--;
    this.tail = (this.tail + cost) % this.capacity;
    this.usedBytes -= cost;
    return true;
  }
}
