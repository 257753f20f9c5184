/**
 * BTstack's btstack_tlv_t contract as uvu tests, run on every implementation: the in-memory store
 * (test/unit/core/tlv.test.ts) and the file-backed one (test/unit/ports/tlv-file.test.ts).
 * `make(limits)` returns a fresh, empty store.
 */
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { TLV_STATUS_FULL, type BtstackTlv, type BtstackTlvLimits } from '../../../src/core/tlv.js';

export function tlv_contract_tests(test: Test, name: string, make: (limits?: Partial<BtstackTlvLimits>) => BtstackTlv): void {
  test(`${name}: unknown tag -> null; store returns 0; get returns the value; replace; delete; delete of nothing`, () => {
    const tlv = make();
    assert.is(tlv.get_tag(0x42544c00), null);
    assert.is(tlv.store_tag(0x42544c00, Uint8Array.from([1, 2, 3])), 0);
    assert.equal(tlv.get_tag(0x42544c00), Uint8Array.from([1, 2, 3]));
    assert.is(tlv.store_tag(0x42544c00, Uint8Array.from([9])), 0);
    assert.equal(tlv.get_tag(0x42544c00), Uint8Array.from([9]));
    tlv.delete_tag(0x42544c00);
    assert.is(tlv.get_tag(0x42544c00), null);
    tlv.delete_tag(0x42544c00);
    tlv.delete_tag(0x12345678);
    assert.is(tlv.get_tag(0x12345678), null);
  });

  test(`${name}: values are copies both ways; len stores a prefix; an empty value is a value`, () => {
    const tlv = make();
    const data = Uint8Array.from([10, 11, 12, 13]);
    assert.is(tlv.store_tag(1, data, 2), 0);
    data[0] = 99;
    const got = tlv.get_tag(1)!;
    assert.equal(got, Uint8Array.from([10, 11]));
    got[1] = 77;
    assert.equal(tlv.get_tag(1), Uint8Array.from([10, 11]));
    assert.is(tlv.store_tag(2, new Uint8Array(0)), 0);
    assert.equal(tlv.get_tag(2), new Uint8Array(0));
    assert.is(tlv.store_tag(3, data, 0), 0);
    assert.equal(tlv.get_tag(3), new Uint8Array(0));
  });

  test(`${name}: tags 0 and 0xFFFFFFFF are tags; bad tags, data and len are TypeErrors (programmer errors)`, () => {
    const tlv = make();
    assert.is(tlv.store_tag(0, Uint8Array.of(1)), 0);
    assert.is(tlv.store_tag(0xffffffff, Uint8Array.of(2)), 0);
    assert.equal(tlv.get_tag(0), Uint8Array.of(1));
    assert.equal(tlv.get_tag(0xffffffff), Uint8Array.of(2));
    for (const bad of [-1, 0x100000000, 1.5, NaN]) {
      assert.throws(() => tlv.get_tag(bad), TypeError);
      assert.throws(() => tlv.store_tag(bad, Uint8Array.of(1)), TypeError);
      assert.throws(() => tlv.delete_tag(bad), TypeError);
    }
    assert.throws(() => tlv.store_tag(5, [1, 2] as unknown as Uint8Array), TypeError);
    assert.throws(() => tlv.store_tag(5, Uint8Array.of(1), 2), TypeError);
    assert.throws(() => tlv.store_tag(5, Uint8Array.of(1), -1), TypeError);
    assert.is(tlv.get_tag(5), null, 'nothing stored by a failed call');
  });

  test(`${name}: bounded: a new tag past max_tags or a value past max_value_len -> TLV_STATUS_FULL, old values kept`, () => {
    const tlv = make({ max_tags: 3, max_value_len: 8 });
    for (const t of [1, 2, 3]) assert.is(tlv.store_tag(t, Uint8Array.of(t)), 0);
    assert.is(tlv.store_tag(4, Uint8Array.of(4)), TLV_STATUS_FULL);
    assert.is(tlv.get_tag(4), null);
    assert.is(tlv.store_tag(2, new Uint8Array(8).fill(2)), 0, 'replacing a held tag needs no room');
    assert.is(tlv.store_tag(2, new Uint8Array(9)), TLV_STATUS_FULL);
    assert.equal(tlv.get_tag(2), new Uint8Array(8).fill(2), 'the old value stays');
    tlv.delete_tag(1);
    assert.is(tlv.store_tag(4, Uint8Array.of(4)), 0, 'room again after a delete');
    assert.equal(
      [1, 2, 3, 4].map((t) => tlv.get_tag(t)?.[0] ?? null),
      [null, 2, 3, 4],
    );
  });
}
