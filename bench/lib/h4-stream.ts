/**
 * A realistic controller-to-host H4 byte stream for the parser benchmark, generated from a seed.
 *
 * Content (what a host sees while receiving bulk data on three links at once):
 * - a prologue (fed once): one Connection Complete (BR/EDR, handle 0x0001) and two LE Connection Complete
 *   events (handles 0x0040, 0x0041), so stacks that track connections know the handles;
 * - L2CAP PDUs (basic header: length, CID 0x0040, payload) fragmented into ACL packets of the
 *   controller's size for that link: 1021 bytes on BR/EDR (PDUs of 1..4096 payload bytes),
 *   251 on the LE link with data length extension (PDUs of 1..512), 27 on the legacy LE link
 *   (PDUs of 1..64). First fragment PB=0b10, continuations PB=0b01. Fragments of the three links
 *   interleave, as they do from a real controller;
 * - a Number Of Completed Packets event after every 16 ACL packets (the host is sending too).
 * Then the stream is cut into chunks of log-uniform random size between 1 and 4096 bytes, the
 * range a UART read returns.
 */
import { prng } from './measure.js';

export interface LinkSpec {
  handle: number;
  le: boolean;
  acl_size: number;
  max_pdu_payload: number;
  weight: number;
}

export const LINKS: readonly LinkSpec[] = [
  { handle: 0x0001, le: false, acl_size: 1021, max_pdu_payload: 4096, weight: 0.5 },
  { handle: 0x0040, le: true, acl_size: 251, max_pdu_payload: 512, weight: 0.35 },
  { handle: 0x0041, le: true, acl_size: 27, max_pdu_payload: 64, weight: 0.15 },
];

export interface H4Stream {
  /** The connection events, fed once before the body. */
  prologue: Buffer;
  /** The body: ACL fragments and NOCP events; every PDU starts and ends inside it, so it can be fed repeatedly. */
  data: Buffer;
  /** Counts for the body, to check that a parser delivered everything. */
  events: number;
  acl_packets: number;
  /** ACL data bytes (after the 4-byte ACL header) over all ACL packets. */
  acl_data_bytes: number;
  /** Complete L2CAP PDUs and their total size (basic header included). */
  pdus: number;
  pdu_bytes: number;
  /** Size of every PDU (basic header included), in stream order. */
  pdu_sizes: number[];
  handles: number[];
}

/** Write a BR/EDR Connection Complete event (Core Vol 4 Part E 7.7.3). */
function connectionComplete(out: number[], handle: number, addrLow: number): void {
  out.push(0x04, 0x03, 11, 0x00, handle & 0xff, handle >> 8, addrLow, 0x22, 0x33, 0x44, 0x55, 0x66, 0x01, 0x00);
}

/** Write an LE Connection Complete event (Core Vol 4 Part E 7.7.65.1). */
function leConnectionComplete(out: number[], handle: number, addrLow: number): void {
  out.push(
    0x04,
    0x3e,
    19,
    0x01,
    0x00,
    handle & 0xff,
    handle >> 8,
    0x00, // role: central
    0x00, // peer address type: public
    addrLow,
    0x22,
    0x33,
    0x44,
    0x55,
    0x66,
    0x18,
    0x00, // interval 24 * 1.25 ms
    0x00,
    0x00, // latency
    0xc8,
    0x00, // supervision timeout 2 s
    0x00, // central clock accuracy
  );
}

export function generateH4Stream(targetBytes: number, seed = 1): H4Stream {
  const rnd = prng(seed);
  const data = Buffer.alloc(targetBytes + 16384);
  let pos = 0;
  const head: number[] = [];
  connectionComplete(head, LINKS[0]!.handle, 0x11);
  leConnectionComplete(head, LINKS[1]!.handle, 0x12);
  leConnectionComplete(head, LINKS[2]!.handle, 0x13);
  let events = 0;
  let aclPackets = 0;
  let aclDataBytes = 0;
  let pdus = 0;
  let pduBytes = 0;
  const pduSizes: number[] = [];

  // per link: the PDU being sent (bytes incl. basic header) and how far it got
  const cur: Array<{ pdu: Uint8Array | null; off: number }> = LINKS.map(() => ({ pdu: null, off: 0 }));
  const payloadScratch = new Uint8Array(65536 + 4);
  for (let i = 0; i < payloadScratch.length; i++) payloadScratch[i] = (i * 31 + 7) & 0xff;

  const pickLink = (): number => {
    const r = rnd();
    let acc = 0;
    for (let i = 0; i < LINKS.length; i++) {
      acc += LINKS[i]!.weight;
      if (r < acc) return i;
    }
    return LINKS.length - 1;
  };

  while (pos < targetBytes) {
    const li = pickLink();
    const link = LINKS[li]!;
    const c = cur[li]!;
    let first = false;
    if (!c.pdu) {
      const len = 1 + Math.floor(rnd() * link.max_pdu_payload);
      // payload from a fixed pattern, first byte varied per PDU; basic header: length, CID 0x0040
      c.pdu = new Uint8Array(len + 4);
      c.pdu.set(payloadScratch.subarray(0, len + 4));
      c.pdu[0] = len & 0xff;
      c.pdu[1] = len >> 8;
      c.pdu[2] = 0x40;
      c.pdu[3] = 0x00;
      c.pdu[4] = Math.floor(rnd() * 256);
      c.off = 0;
      first = true;
    }
    const pdu = c.pdu;
    const n = Math.min(link.acl_size, pdu.length - c.off);
    const hf = link.handle | ((first ? 0x02 : 0x01) << 12);
    data[pos++] = 0x02;
    data[pos++] = hf & 0xff;
    data[pos++] = hf >> 8;
    data[pos++] = n & 0xff;
    data[pos++] = n >> 8;
    data.set(pdu.subarray(c.off, c.off + n), pos);
    pos += n;
    c.off += n;
    aclPackets++;
    aclDataBytes += n;
    if (c.off >= pdu.length) {
      pduSizes.push(pdu.length);
      pdus++;
      pduBytes += pdu.length;
      c.pdu = null;
    }
    if (aclPackets % 16 === 0) {
      const h = LINKS[Math.floor(rnd() * LINKS.length)]!.handle;
      const count = 1 + Math.floor(rnd() * 4);
      data.set([0x04, 0x13, 0x05, 0x01, h & 0xff, h >> 8, count, 0x00], pos);
      pos += 8;
      events++;
    }
  }
  // finish every PDU in flight so all counts are whole
  for (let li = 0; li < LINKS.length; li++) {
    const link = LINKS[li]!;
    const c = cur[li]!;
    while (c.pdu) {
      const pdu = c.pdu;
      if (pos + 5 + link.acl_size > data.length) throw new Error('h4 stream: tail does not fit');
      const n = Math.min(link.acl_size, pdu.length - c.off);
      const hf = link.handle | (0x01 << 12);
      data.set([0x02, hf & 0xff, hf >> 8, n & 0xff, n >> 8], pos);
      pos += 5;
      data.set(pdu.subarray(c.off, c.off + n), pos);
      pos += n;
      c.off += n;
      aclPackets++;
      aclDataBytes += n;
      if (c.off >= pdu.length) {
        pduSizes.push(pdu.length);
        pdus++;
        pduBytes += pdu.length;
        c.pdu = null;
      }
    }
  }
  return {
    prologue: Buffer.from(head),
    data: data.subarray(0, pos),
    events,
    acl_packets: aclPackets,
    acl_data_bytes: aclDataBytes,
    pdus,
    pdu_bytes: pduBytes,
    pdu_sizes: pduSizes,
    handles: LINKS.map((l) => l.handle),
  };
}

/**
 * Cut `data` into views of log-uniform random size in [1, max]. The views share `data`'s memory
 * (as Buffers, the type a serialport read delivers).
 */
export function cutChunks(data: Buffer, seed = 2, max = 4096): Buffer[] {
  const rnd = prng(seed);
  const out: Buffer[] = [];
  const lnMax = Math.log(max + 1);
  let pos = 0;
  while (pos < data.length) {
    const n = Math.max(1, Math.min(max, Math.floor(Math.exp(rnd() * lnMax))));
    const end = Math.min(data.length, pos + n);
    out.push(data.subarray(pos, end));
    pos = end;
  }
  return out;
}
