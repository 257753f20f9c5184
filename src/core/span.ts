/**
 * Byte spans on the data paths without an allocation per packet: the copy and view helpers every
 * layer uses (H4 and HCI ACL, L2CAP SDUs, RFCOMM frames, the virtual controller), in one place.
 *
 * `dst.set(src.subarray(a, b), pos)` allocates a typed-array view per call (a FastBuffer when `src`
 * is a Node Buffer): one per fragment, H4 span or frame, which was most of the garbage the data
 * paths made (BENCHMARKS.md, the allocation work). Each helper remembers the views it made for
 * the buffers that come back (a transport's receive buffer, pooled buffers, a fixed outgoing
 * buffer), so a repeated span costs no allocation:
 *
 * - `SpanCopier`: copies between arrays through a bounded cache of exact source views (and
 *   DataView words for mid-size spans): for sources that are a few fixed buffers (H4, HCI).
 * - `WeakSpanCopier`: copies through exact views kept per source array, weakly, by offset: for
 *   sources that are many long-lived views handed in again and again (a host's ACL fragments,
 *   each a view of its outgoing buffer from the fragment's start), as the virtual controller sees.
 * - `SpanViews`: the exact views of one fixed array, by offset (a buffer of a pool).
 * - `ViewCache`: a bounded round-robin cache of views `view(src, start, end)` / `at(buf, offset)`:
 *   data handed up as a view into a buffer that comes back (L2CAP SDUs, RFCOMM payloads).
 *
 * One instance per owner (no module state, nothing shared between stacks); none of them is for
 * overlapping spans of one ArrayBuffer.
 */

/** SpanCopier: spans this long and longer are copied natively from a (cached) exact view of the source. */
export const SPAN_COPY_VIEW_MIN = 256;
/** SpanCopier: exact source views kept. */
const SPAN_VIEW_SLOTS = 4;
/** WeakSpanCopier: spans up to this long are copied byte by byte (cheaper than a view lookup). */
const WEAK_COPY_BYTE_MAX = 128;

/**
 * Copies src[srcPos, srcPos + n) to dst without a view per copy:
 * - short spans (< 16 bytes: H4 headers, small events) byte by byte;
 * - up to SPAN_COPY_VIEW_MIN bytes four bytes per step through DataViews made once per
 *   ArrayBuffer and kept while the same one comes back (a transport's receive buffer, a pooled
 *   buffer, serial read chunks carved from one Buffer pool slab);
 * - longer spans with the native copy from an exact view of the source, kept for the last few
 *   (source, offset, length) triples: a fragment copied out of a transport's fixed receive buffer
 *   (same offset, same length fragment after fragment) reuses its view; a source span not seen
 *   before costs one view for at least SPAN_COPY_VIEW_MIN bytes, or, with `word_copy_on_miss` and
 *   an array not seen before, goes through the word loop without allocating.
 */
export class SpanCopier {
  private srcBuffer: ArrayBufferLike | null = null;
  private srcView: DataView | null = null;
  private dstBuffer: ArrayBufferLike | null = null;
  private dstView: DataView | null = null;
  private readonly viewSrc: Array<Uint8Array | null> = [null, null, null, null];
  private readonly viewPos: number[] = [-1, -1, -1, -1];
  private readonly viewLen: number[] = [-1, -1, -1, -1];
  private readonly views: Array<Uint8Array | null> = [null, null, null, null];
  private nextView = 0;
  /** Source array of the last long span that missed the view cache. */
  private lastLongSrc: Uint8Array | null = null;

  /**
   * @param word_copy_on_miss a long span whose exact view is not cached is copied four bytes per
   *   step (no allocation, ~4x slower than native) unless its array is the one the previous
   *   long span came from (a fixed receive buffer: then a view is made and cached): for copies out
   *   of fresh views that never repeat (a transport handing each packet as a new view).
   */
  constructor(readonly word_copy_on_miss = false) {}

  /** Copy src[srcPos, srcPos + n) to dst at dstPos (the caller checked both ranges). */
  copy(dst: Uint8Array, dstPos: number, src: Uint8Array, srcPos: number, n: number): void {
    if (n < 16) {
      for (let k = 0; k < n; k++) dst[dstPos + k] = src[srcPos + k]!;
      return;
    }
    if (n >= SPAN_COPY_VIEW_MIN) {
      const v = srcPos === 0 && n === src.length ? src : this.cachedView(src, srcPos, n);
      if (v) {
        dst.set(v, dstPos);
        return;
      }
      const again = src === this.lastLongSrc;
      this.lastLongSrc = src;
      if (!this.word_copy_on_miss || again) {
        // with word_copy_on_miss only for an array seen before (a fixed buffer: the view will be reused)
        dst.set(this.newView(src, srcPos, n), dstPos);
        return;
      }
      // word_copy_on_miss, a fresh array: the loop below, no allocation at all
    }
    // DataViews over whole ArrayBuffers, kept while the same one comes back: a fixed receive
    // buffer, a pooled buffer, or successive serial read chunks carved from one Buffer pool slab
    const sb = src.buffer;
    if (sb !== this.srcBuffer) {
      this.srcBuffer = sb;
      this.srcView = new DataView(sb);
    }
    const db = dst.buffer;
    if (db !== this.dstBuffer) {
      this.dstBuffer = db;
      this.dstView = new DataView(db);
    }
    const sv = this.srcView!;
    const dv = this.dstView!;
    let so = src.byteOffset + srcPos;
    let dof = dst.byteOffset + dstPos;
    const stop = so + (n & ~3);
    while (so < stop) {
      dv.setUint32(dof, sv.getUint32(so, true), true);
      so += 4;
      dof += 4;
    }
    let s = srcPos + (n & ~3);
    let d = dstPos + (n & ~3);
    const end = srcPos + n;
    while (s < end) dst[d++] = src[s++]!;
  }

  /** Forget the cached views (their buffers may be released). */
  clear(): void {
    this.srcBuffer = null;
    this.srcView = null;
    this.dstBuffer = null;
    this.dstView = null;
    this.viewSrc.fill(null);
    this.views.fill(null);
    this.viewPos.fill(-1);
    this.viewLen.fill(-1);
    this.lastLongSrc = null;
  }

  private cachedView(src: Uint8Array, pos: number, n: number): Uint8Array | null {
    for (let i = 0; i < SPAN_VIEW_SLOTS; i++) {
      if (this.viewSrc[i] === src && this.viewPos[i] === pos && this.viewLen[i] === n) return this.views[i]!;
    }
    return null;
  }

  private newView(src: Uint8Array, pos: number, n: number): Uint8Array {
    // a plain Uint8Array even when src is a Buffer (Buffer#subarray would make a FastBuffer)
    const v = new Uint8Array(src.buffer, src.byteOffset + pos, n);
    const i = this.nextView;
    this.nextView = (i + 1) % SPAN_VIEW_SLOTS;
    this.viewSrc[i] = src;
    this.viewPos[i] = pos;
    this.viewLen[i] = n;
    this.views[i] = v;
    return v;
  }
}

/**
 * The exact views of one array, by start offset: `view(from, n)` is `src.subarray(from, from + n)`,
 * made once per offset and made again only when the length asked for at that offset changes (the
 * same fragments come back buffer after buffer). Unbounded by design: for an array whose spans
 * start at a few offsets (a pool buffer cut into fragments).
 */
export class SpanViews {
  private readonly views: Array<Uint8Array | undefined> = [];

  constructor(readonly src: Uint8Array) {}

  view(from: number, n: number): Uint8Array {
    const v = this.views[from];
    if (v !== undefined && v.length === n) return v;
    const nv = this.src.subarray(from, from + n);
    this.views[from] = nv;
    return nv;
  }
}

/**
 * Copies n bytes without a view object per copy: short runs (up to 128 bytes) byte by byte; long
 * runs with TypedArray.set from the whole source (when it is exactly the span) or from an exact
 * view made once per (source, offset, length) and kept while the source lives (weakly, by source
 * array: a host sending ACL fragments as views of its outgoing buffer, packet after packet, reuses
 * them; a source that is dropped takes its views with it).
 */
export class WeakSpanCopier {
  private readonly bySource = new WeakMap<Uint8Array, SpanViews>();

  /** Copy src[srcPos, srcPos + n) to dst at dstPos (the caller checked both ranges). */
  copy(dst: Uint8Array, dstPos: number, src: Uint8Array, srcPos: number, n: number): void {
    if (n <= WEAK_COPY_BYTE_MAX) {
      for (let i = 0; i < n; i++) dst[dstPos + i] = src[srcPos + i]!;
      return;
    }
    if (srcPos === 0 && n === src.length) {
      dst.set(src, dstPos);
      return;
    }
    let views = this.bySource.get(src);
    if (views === undefined) {
      views = new SpanViews(src);
      this.bySource.set(src, views);
    }
    dst.set(views.view(srcPos, n), dstPos);
  }
}

/**
 * A few remembered `subarray` views, replaced round robin (a miss costs the one view it makes):
 * - `view(src, start, end)`: `src` itself when [start, end) is all of it, else a view of
 *   src[start .. end), made once per (src, start, end) while it stays in the cache (clamped as
 *   subarray clamps). A Uint8Array's buffer, offset and length never change, so a view made once
 *   stays right for as long as the same source object is handed in again: L2CAP delivers every
 *   SDU of a channel in the same buffer, and RFCOMM's header is 3 to 5 octets, so the data of
 *   every received frame starts at one of three offsets of that same object.
 * - `at(buf, offset)`: `buf.subarray(offset)`, the view running to the end of the buffer (a
 *   handler contract "(packet, size)" needs the packet to start at offset 0, not to end at size).
 */
export class ViewCache {
  private readonly sources: Array<Uint8Array | null>;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly views: Array<Uint8Array | null>;
  private next = 0;
  /** Views made (cache misses), for tests and profiling. */
  made = 0;

  constructor(readonly capacity = 8) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ViewCache: bad capacity ${capacity}`);
    this.sources = new Array<Uint8Array | null>(capacity).fill(null);
    this.views = new Array<Uint8Array | null>(capacity).fill(null);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

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

  /** buf from `offset` to its end (buf itself for offset 0). */
  at(buf: Uint8Array, offset: number): Uint8Array {
    return this.view(buf, offset, buf.length);
  }

  /** Forget every entry (drops the references to the sources). */
  clear(): void {
    this.sources.fill(null);
    this.views.fill(null);
    this.next = 0;
  }
}
