import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import {
  DesIterator,
  de,
  de_decode_value,
  de_encode_to_bytes,
  de_get_normalized_uuid,
  de_get_string_value,
  de_get_uuid32,
  de_validate,
  des_iterator_has_more,
  des_iterator_init,
  des_iterator_is_complete,
  des_iterator_next,
  sdp_attribute_list_contains_id,
  sdp_attribute_list_valid,
  sdp_create_record,
  sdp_filter_attributes_in_attribute_id_list,
  sdp_get_attribute_value_for_attribute_id,
  sdp_get_filtered_size,
  sdp_record_matches_service_search_pattern,
  sdp_valid_service_search_pattern,
} from '../../../src/sdp/data-element.js';
import { SdpPdu, sdp_request_decode, sdp_response_decode } from '../../../src/sdp/pdu.js';
import { embed, guarded, mutate, prng, randInt, randomBytes } from '../rfcomm/fuzz-util.js';

const ELEMENT_SEEDS = [
  '36 00 39 09 00 00 0a 00 01 00 01 09 00 01 35 03 19 11 01 09 00 04 35 0c 35 03 19 01 00 35 05 19 00 03 08 03 09 00 05 35 03 19 10 02 09 01 00 25 0b 53 50 50 20 43 6f 75 6e 74 65 72',
  '35 20 00 08 ff 11 ff fe 19 11 01 1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb 28 01 3d 00 25 00',
  '35 0b 09 00 01 0a 00 04 00 06 09 01 00',
  '35 05 0a 00 00 ff ff',
  '35 11 1c 00 00 11 01 00 00 10 00 80 00 00 80 5f 9b 34 fb',
  '37 00 00 00 0a 26 00 02 41 42 47 00 00 00 00',
  '3d 0a 35 08 35 06 35 04 35 02 35 00',
  '0b 01 02 03 04 05 06 07 08',
  '13 ff ff ff ff ff ff ff fe',
  '0c 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f',
  '45 08 68 74 74 70 3a 2f 2f 61',
].map(fromHex);

const PDU_SEEDS = [
  '02 00 01 00 08 35 03 19 11 01 00 10 00',
  '02 ab cd 00 0a 35 03 19 11 01 00 10 02 01 02',
  '04 00 02 00 0e 00 01 00 00 04 00 35 05 0a 00 00 ff ff 00',
  '06 00 03 00 0f 35 03 19 11 01 04 00 35 05 0a 00 00 ff ff 00',
  '06 00 03 00 11 35 03 19 11 01 00 07 35 05 0a 00 00 ff ff 02 00 30',
  '03 00 01 00 0e 00 03 00 02 00 01 00 01 00 01 00 02 01 02',
  '05 00 02 00 0d 00 0a 35 08 09 00 01 35 03 19 11 01 00',
  '07 00 03 00 09 00 04 35 10 36 00 02 00 04',
  '01 00 05 00 02 00 03',
].map(fromHex);

/** A registered record the server-side helpers run against. */
const RECORD = (() => {
  const b = new Uint8Array(128);
  const n = sdp_create_record(b, 0, [
    [0x0000, de.uint32(0x10001)],
    [0x0001, de.des(de.uuid16(0x1101))],
    [0x0004, de.des(de.des(de.uuid16(0x0100)), de.des(de.uuid16(0x0003), de.uint8(1)))],
    [0x0100, de.text('SPP')],
  ]);
  return b.slice(0, n);
})();

const it = new DesIterator();
const u = new Uint8Array(16);

/** Everything the element helpers say about buf[pos .. pos+len), positions relative. */
function elementReport(buf: Uint8Array, pos: number, len: number): string {
  const end = pos + len;
  const v = de_validate(buf, pos, end);
  let s = `v${v}`;
  if (v > 0) {
    assert.ok(v <= len);
    const value = de_decode_value(buf, pos, end);
    assert.ok(typeof value === 'object');
    if (typeof value === 'object') {
      // a valid element re-encodes to exactly its octets (size descriptors are kept)
      assert.is(hex(de_encode_to_bytes(value)), hex(buf.subarray(pos, pos + v)));
    }
  }
  let k = 0;
  if (des_iterator_init(it, buf, pos, end)) {
    while (des_iterator_has_more(it) && k < 64) {
      assert.ok(it.pos < it.end && it.end <= end);
      k++;
      des_iterator_next(it);
    }
  }
  s += ` i${k}${des_iterator_is_complete(it) ? 'c' : ''}`;
  const rel = (p: number) => (p < 0 ? p : p - pos);
  s += ` a${rel(sdp_get_attribute_value_for_attribute_id(buf, pos, 0x0001, end))}`;
  s += ` a${rel(sdp_get_attribute_value_for_attribute_id(buf, pos, 0x0100, end))}`;
  s += ` m${sdp_record_matches_service_search_pattern(buf, pos, buf, pos, end, end)}`;
  s += ` m${sdp_record_matches_service_search_pattern(RECORD, 0, buf, pos, RECORD.length, end)}`;
  s += ` l${sdp_attribute_list_valid(buf, pos, end)} ${sdp_attribute_list_contains_id(buf, pos, 0x0004, end)}`;
  s += ` p${sdp_valid_service_search_pattern(buf, pos, end)}`;
  s += ` u${de_get_normalized_uuid(u, buf, pos, end) ? hex(u) : '-'} ${de_get_uuid32(buf, pos, end)}`;
  s += ` t${de_get_string_value(buf, pos, end)}`;
  return s;
}

const pdu = new SdpPdu();
const out = new Uint8Array(64);

function pduReport(buf: Uint8Array, pos: number, len: number): string {
  const e = sdp_request_decode(buf, pos, len, pdu);
  let s = `q${e} ${pdu.transaction_id}`;
  if (e === 0) {
    const end = pos + len;
    for (const [p, n] of [
      [pdu.pattern_pos, pdu.pattern_len],
      [pdu.attribute_list_pos, pdu.attribute_list_len],
      [pdu.continuation_pos, pdu.continuation_len],
    ] as const) {
      if (n) assert.ok(p >= pos && p + n <= end, 'request field inside the PDU');
    }
    assert.ok(pdu.continuation_len <= 16);
    // the server path: match, filter, slice
    if (pdu.pattern_len)
      s += ` m${sdp_record_matches_service_search_pattern(RECORD, 0, buf, pdu.pattern_pos, RECORD.length, pdu.pattern_pos + pdu.pattern_len)}`;
    if (pdu.attribute_list_len) {
      const total = sdp_get_filtered_size(RECORD, 0, buf, pdu.attribute_list_pos);
      const n = sdp_filter_attributes_in_attribute_id_list(
        RECORD,
        0,
        buf,
        pdu.attribute_list_pos,
        pdu.continuation_len,
        7,
        out,
        0,
      );
      assert.ok(n <= 7 && total <= RECORD.length);
      s += ` f${total} ${n}`;
    }
  }
  const r = sdp_response_decode(buf, pos, len, pdu);
  s += ` r${r}`;
  if (r === 'ok') {
    const end = pos + len;
    assert.ok(pdu.continuation_pos + pdu.continuation_len <= end);
    assert.ok(pdu.attribute_bytes_pos + pdu.attribute_bytes_count <= end);
    assert.ok(pdu.handles_pos + 4 * pdu.current_record_count <= end);
    s += ` ${pdu.pdu_id} ${pdu.attribute_bytes_count} ${pdu.current_record_count} ${pdu.continuation_len} ${pdu.error_code}`;
  }
  return s;
}

function differential(input: Uint8Array, report: (b: Uint8Array, p: number, l: number) => string, guard: boolean): string {
  const a = embed(input, 0x00);
  const b = embed(input, 0x35); // junk that looks like a DES header
  const ra = report(a.buf, a.pos, input.length);
  assert.is(report(b.buf, b.pos, input.length), ra, 'parser looked outside its range');
  if (guard) {
    const g = guarded(input);
    assert.is(report(g.buf, 0, input.length), ra);
    assert.is(g.outside(), 0, 'read past the end of the array');
  }
  return ra;
}

test('the fuzz seeds are valid to begin with', () => {
  for (const e of ELEMENT_SEEDS) assert.is(de_validate(e, 0), e.length, hex(e));
  for (const p of PDU_SEEDS)
    assert.ok(sdp_request_decode(p, 0, p.length, pdu) === 0 || sdp_response_decode(p, 0, p.length, pdu) === 'ok', hex(p));
});

test('fuzz: 100,000 random and mutated data elements through the decoder and helpers', () => {
  const rnd = prng(0x5d9e1e);
  let valid = 0;
  for (let i = 0; i < 100_000; i++) {
    const input =
      rnd() < 0.2 ? randomBytes(rnd, randInt(rnd, 40)) : mutate(rnd, ELEMENT_SEEDS[randInt(rnd, ELEMENT_SEEDS.length)]!);
    const r = differential(input, elementReport, i % 16 === 0);
    if (!r.startsWith('v-')) valid++;
  }
  assert.ok(valid > 5_000, `valid ${valid}`); // the mutations keep many inputs deep in the valid paths
});

test('fuzz: 100,000 random and mutated PDUs through the request and response parsers', () => {
  const rnd = prng(0x5d9b0d);
  let accepted = 0;
  for (let i = 0; i < 100_000; i++) {
    const input = rnd() < 0.2 ? randomBytes(rnd, randInt(rnd, 32)) : mutate(rnd, PDU_SEEDS[randInt(rnd, PDU_SEEDS.length)]!);
    // keep ParameterLength honest half of the time so the parameter parsers get exercised
    if (input.length >= 5 && rnd() < 0.5) {
      input[3] = (input.length - 5) >> 8;
      input[4] = (input.length - 5) & 0xff;
    }
    const r = differential(input, pduReport, i % 16 === 0);
    if (r.startsWith('q0') || r.includes('rok')) accepted++;
  }
  assert.ok(accepted > 5_000, `accepted ${accepted}`);
});

test.run();
