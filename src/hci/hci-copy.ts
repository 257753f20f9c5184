/**
 * Copying byte spans between Uint8Arrays on the data path without a view per copy.
 *
 * `dst.set(src.subarray(a, b), pos)` allocates a typed-array view per call (a FastBuffer when
 * `src` is a Node Buffer): one per fragment or H4 span, which was most of the garbage the data
 * path made. `SpanCopier`:
 * - short spans (< 16 bytes: H4 headers, small events) byte by byte;
 * - up to SPAN_COPY_VIEW_MIN bytes four bytes per step through DataViews made once per
 *   ArrayBuffer and kept while the same one comes back (a transport's receive buffer, a pooled
 *   buffer, serial read chunks carved from one Buffer pool slab);
 * - longer spans with the native copy from an exact view of the source, kept for the last few
 *   (source, offset, length) triples: a fragment copied out of a transport's fixed receive buffer
 *   (same offset, same length fragment after fragment) reuses its view; a source span not seen
 *   before costs one view for at least SPAN_COPY_VIEW_MIN bytes, or, with `word_copy_on_miss` and
 *   an array not seen before, goes through the word loop without allocating.
 *
 * One SpanCopier per owner (no module state); not for overlapping spans of one ArrayBuffer.
 */

/** Spans this long and longer are copied natively from a (cached) exact view of the source. */
export const SPAN_COPY_VIEW_MIN = 256;
/** Exact source views kept. */
const SPAN_VIEW_SLOTS = 4;

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
 * Views at an offset into buffers that come back (a transport's receive buffer, the pooled
 * reassembly buffers, the outgoing packet buffer): `at(buf, offset)` returns `buf.subarray(offset)`,
 * made once per (buffer, offset) among the last `slots` pairs asked for. A handler contract
 * "(packet, size)" needs the packet to start at offset 0, not to end at size: the view runs to the
 * end of the buffer and the size says how much of it is the packet.
 */
export class OffsetViewCache {
  private readonly bufs: Array<Uint8Array | null>;
  private readonly offsets: number[];
  private readonly views: Array<Uint8Array | null>;
  private next = 0;

  constructor(readonly slots = 8) {
    this.bufs = new Array<Uint8Array | null>(slots).fill(null);
    this.offsets = new Array<number>(slots).fill(-1);
    this.views = new Array<Uint8Array | null>(slots).fill(null);
  }

  at(buf: Uint8Array, offset: number): Uint8Array {
    if (offset === 0) return buf;
    for (let i = 0; i < this.slots; i++) {
      if (this.bufs[i] === buf && this.offsets[i] === offset) return this.views[i]!;
    }
    const v = buf.subarray(offset);
    const i = this.next;
    this.next = (i + 1) % this.slots;
    this.bufs[i] = buf;
    this.offsets[i] = offset;
    this.views[i] = v;
    return v;
  }

  clear(): void {
    this.bufs.fill(null);
    this.offsets.fill(-1);
    this.views.fill(null);
    this.next = 0;
  }
}
