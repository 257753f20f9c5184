/**
 * The tag-value store contract (BTstack's btstack_tlv_t) on the in-memory store, its limits, and
 * the tag scheme: BTSTACK_TAG32 packs four ASCII characters, first one most significant, so
 * 'B' 'T' 'L' 3 = 0x42 0x54 0x4C 0x03 (link key db slot 3, btstack_link_key_db_tlv) and 'B' 'T' 'D' 0
 * = 0x42 0x54 0x44 0x00 (LE device db entry 0, le_device_db_tlv).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DEFAULT_TLV_LIMITS,
  TLV_STATUS_FULL,
  btstack_tag32,
  btstack_tag32_to_str,
  btstack_tlv_memory_instance,
  le_device_db_tlv_tag,
  link_key_db_tlv_tag,
} from '../../../src/core/tlv.js';
import { BTSTACK_MEMORY_ALLOC_FAILED } from '../../../src/codes/v1.4.js';
import * as pkg from '../../../src/index.js';
import { tlv_contract_tests } from './tlv-contract.js';

tlv_contract_tests(test, 'memory', (limits) => btstack_tlv_memory_instance(limits));

test('TLV_STATUS_FULL is BTSTACK_MEMORY_ALLOC_FAILED (0x56); defaults: 64 tags of up to 1000 bytes', () => {
  assert.is(TLV_STATUS_FULL, BTSTACK_MEMORY_ALLOC_FAILED);
  assert.is(TLV_STATUS_FULL, 0x56);
  assert.equal({ ...DEFAULT_TLV_LIMITS }, { max_tags: 64, max_value_len: 1000 });
  const tlv = btstack_tlv_memory_instance();
  for (let t = 0; t < 64; t++) assert.is(tlv.store_tag(t, new Uint8Array(1000)), 0);
  assert.is(tlv.store_tag(64, Uint8Array.of(0)), TLV_STATUS_FULL);
  assert.is(tlv.size, 64);
  assert.throws(() => btstack_tlv_memory_instance({ max_tags: -1 }), TypeError);
});

test('tags: BTSTACK_TAG32 order; link key db slots are BTL + index, LE device db entries BTD + index', () => {
  assert.is(btstack_tag32('B', 'T', 'L', 3), 0x42544c03);
  assert.is(link_key_db_tlv_tag(0), 0x42544c00);
  assert.is(link_key_db_tlv_tag(255), 0x42544cff);
  assert.is(le_device_db_tlv_tag(0), 0x42544400);
  assert.is(le_device_db_tlv_tag(17), 0x42544411);
  assert.is(btstack_tag32('S', 'M', 'E', 'R'), 0x534d4552);
  assert.throws(() => link_key_db_tlv_tag(256), RangeError);
  assert.throws(() => le_device_db_tlv_tag(-1), RangeError);
  assert.is(btstack_tag32_to_str(0x42544c03), 'BTL#3');
  assert.is(btstack_tag32_to_str(0x534d4552), 'SMER');
});

test('tags() lists held tags ascending; independent instances; exported from bthost', () => {
  const a = btstack_tlv_memory_instance();
  const b = btstack_tlv_memory_instance();
  a.store_tag(0x42544401, Uint8Array.of(1));
  a.store_tag(0x42544c00, Uint8Array.of(2));
  a.store_tag(7, Uint8Array.of(3));
  assert.equal(a.tags(), [7, 0x42544401, 0x42544c00]);
  assert.equal(b.tags(), []);
  assert.is(pkg.btstack_tlv_memory_instance, btstack_tlv_memory_instance);
  assert.is(pkg.link_key_db_tlv_tag, link_key_db_tlv_tag);
});

test.run();
