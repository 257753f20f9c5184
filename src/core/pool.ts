/**
 * Fixed-capacity pools, as BTstack's btstack_memory.c: objects are created lazily up to the
 * capacity and then recycled. `get` returns null when exhausted (callers turn that into
 * BTSTACK_MEMORY_ALLOC_FAILED); freeing a block twice or a block from elsewhere is a programmer
 * error and throws.
 */

export interface PoolStats {
  name: string;
  in_use: number;
  capacity: number;
  high_water: number;
}

export class Pool<T extends object> {
  private readonly free_list: T[] = [];
  private readonly used = new Set<T>();
  private readonly owned = new WeakSet<T>();
  private created = 0;
  private highWater = 0;

  constructor(
    readonly name: string,
    readonly capacity: number,
    private readonly create: () => T,
    private readonly reset?: (item: T) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`pool ${name}: bad capacity ${capacity}`);
  }

  get(): T | null {
    let item = this.free_list.pop();
    if (!item) {
      if (this.created >= this.capacity) return null;
      item = this.create();
      this.owned.add(item);
      this.created++;
    }
    this.used.add(item);
    if (this.used.size > this.highWater) this.highWater = this.used.size;
    return item;
  }

  free(item: T): void {
    if (!this.owned.has(item)) throw new Error(`pool ${this.name}: free of a block that does not belong to it`);
    if (!this.used.delete(item)) throw new Error(`pool ${this.name}: double free`);
    this.reset?.(item);
    this.free_list.push(item);
  }

  /** Whether the block is currently handed out by this pool. */
  owns(item: T): boolean {
    return this.used.has(item);
  }

  get in_use(): number {
    return this.used.size;
  }
  get high_water(): number {
    return this.highWater;
  }
  get available(): number {
    return this.capacity - this.used.size;
  }

  /** Every block handed out (for teardown paths). */
  items(): IterableIterator<T> {
    return this.used.values();
  }

  stats(): PoolStats {
    return { name: this.name, in_use: this.used.size, capacity: this.capacity, high_water: this.highWater };
  }
}

/** A pool of fixed-size byte buffers (packet buffers). */
export class BufferPool extends Pool<Uint8Array> {
  constructor(
    name: string,
    capacity: number,
    readonly buffer_size: number,
  ) {
    super(name, capacity, () => new Uint8Array(buffer_size));
  }
}
