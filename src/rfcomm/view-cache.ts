/**
 * A few remembered `subarray` views, so the RFCOMM hot paths do not allocate a view per frame.
 *
 * A Uint8Array's buffer, offset and length never change, so a view made once for
 * (source object, start, end) stays right for as long as the source object is handed in again:
 * L2CAP delivers every SDU of a channel in the same buffer (one view per buffer), and RFCOMM's
 * header is 3 to 5 octets, so the data of every received frame starts at one of three offsets of
 * that same object. A sender that reuses one payload buffer hits the same entry frame after frame.
 *
 * Entries are replaced round robin; a miss costs the one view it makes. One cache per RFCOMM
 * layer instance (no state shared between stacks).
 */
export class ViewCache {
  private readonly sources: Array<Uint8Array | null>;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly views: Array<Uint8Array | null>;
  private next = 0;
  /** Views made (cache misses), for tests and profiling. */
  made = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ViewCache: bad capacity ${capacity}`);
    this.sources = new Array<Uint8Array | null>(capacity).fill(null);
    this.views = new Array<Uint8Array | null>(capacity).fill(null);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /**
   * `src` itself when [start, end) is all of it, else a view of src[start .. end) (made once per
   * (src, start, end) while it stays in the cache). Clamped as subarray clamps.
   */
  view(src: Uint8Array, start: number, end: number): Uint8Array {
    const len = src.length;
    if (start < 0) start = 0;
    if (end > len) end = len;
    if (end < start) end = start;
    if (start === 0 && end === len) return src;
    const n = this.capacity;
    for (let i = 0; i < n; i++) {
      if (this.sources[i] === src && this.starts[i] === start && this.ends[i] === end) return this.views[i]!;
    }
    const v = src.subarray(start, end);
    const k = this.next;
    this.sources[k] = src;
    this.starts[k] = start;
    this.ends[k] = end;
    this.views[k] = v;
    this.next = k + 1 === n ? 0 : k + 1;
    this.made++;
    return v;
  }

  /** Forget every entry (drops the references to the sources). */
  clear(): void {
    this.sources.fill(null);
    this.views.fill(null);
    this.next = 0;
  }
}
