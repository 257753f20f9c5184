/**
 * The SDP server's service record database (BTstack's sdp_server.c record list): records are
 * validated and copied when registered, live in a fixed pool of MAX_NR_SERVICE_RECORD_ITEMS
 * items, and are kept in registration order. Every change bumps `generation`, which invalidates
 * continuation states issued before it.
 */
import type { Pools } from '../core/config.js';
import type { Pool } from '../core/pool.js';
import type { Logger } from '../core/log.js';
import {
  BTSTACK_MEMORY_ALLOC_FAILED,
  ERROR_CODE_SUCCESS,
  SDP_HANDLE_ALREADY_REGISTERED,
  SDP_HANDLE_INVALID,
} from '../codes/v1.4.js';
import {
  DE_DES,
  DE_SIZE_16,
  DE_SIZE_32,
  DE_UINT,
  DesIterator,
  de_element_get_uint32,
  de_get_element_type,
  de_get_size_type,
  de_validate,
  des_iterator_has_more,
  des_iterator_init,
  des_iterator_is_complete,
  des_iterator_next,
  sdp_get_attribute_value_for_attribute_id,
} from './data-element.js';
import { BLUETOOTH_ATTRIBUTE_SERVICE_RECORD_HANDLE } from './constants.js';

/** Handles 0x00000000-0x0000FFFF are reserved (0 is the SDP server's own record). */
export const SDP_MAX_RESERVED_SERVICE_RECORD_HANDLE = 0xffff;
/** Largest record the server accepts (its attribute lists use 16-bit sequence lengths). */
export const SDP_MAX_RECORD_SIZE = 0xffff;

export class ServiceRecordItem {
  service_record_handle = 0;
  /** The record's own copy (exactly the record's octets). */
  service_record: Uint8Array = new Uint8Array(0);
}

/** Why a record cannot be registered, or '' when it is well formed. */
export function sdp_record_problem(record: Uint8Array, pos = 0, end: number = record.length): string {
  const size = de_validate(record, pos, end);
  if (size < 0) return `malformed data element (${size})`;
  if (de_get_element_type(record, pos) !== DE_DES) return 'not a data element sequence';
  if (size > SDP_MAX_RECORD_SIZE) return `larger than ${SDP_MAX_RECORD_SIZE} octets`;
  const it = new DesIterator();
  des_iterator_init(it, record, pos, pos + size);
  let last = -1;
  while (des_iterator_has_more(it)) {
    const idPos = it.pos;
    if (de_get_element_type(record, idPos) !== DE_UINT || de_get_size_type(record, idPos) !== DE_SIZE_16)
      return 'attribute id is not a 16-bit unsigned integer';
    const id = (record[idPos + 1]! << 8) | record[idPos + 2]!;
    if (id <= last) return `attribute ids not in ascending order (0x${id.toString(16).padStart(4, '0')})`;
    last = id;
    des_iterator_next(it);
    if (!des_iterator_has_more(it)) return `attribute 0x${id.toString(16).padStart(4, '0')} has no value`;
    des_iterator_next(it);
  }
  if (!des_iterator_is_complete(it)) return 'broken attribute list';
  return '';
}

/**
 * The ServiceRecordHandle (attribute 0x0000, a 32-bit unsigned integer) of a record, or 0
 * (BTstack's sdp_get_service_record_handle).
 */
export function sdp_get_service_record_handle(record: Uint8Array, pos = 0, end: number = record.length): number {
  const v = sdp_get_attribute_value_for_attribute_id(record, pos, BLUETOOTH_ATTRIBUTE_SERVICE_RECORD_HANDLE, end);
  if (v < 0 || de_get_element_type(record, v) !== DE_UINT || de_get_size_type(record, v) !== DE_SIZE_32) return 0;
  const h = de_element_get_uint32(record, v, end);
  return h < 0 ? 0 : h;
}

export class SdpRecordDb {
  private readonly pool: Pool<ServiceRecordItem>;
  /** Registered items in registration order. */
  readonly items: ServiceRecordItem[] = [];
  /** Bumped on every register/unregister. */
  generation = 0;

  constructor(
    pools: Pools,
    private readonly log: Logger,
  ) {
    this.pool = pools.create(
      'MAX_NR_SERVICE_RECORD_ITEMS',
      'sdp_service_records',
      () => new ServiceRecordItem(),
      (it) => {
        it.service_record_handle = 0;
        it.service_record = new Uint8Array(0);
      },
    );
  }

  get capacity(): number {
    return this.pool.capacity;
  }

  /**
   * Register a record whose ServiceRecordHandle is in the record (BTstack's sdp_register_service).
   * The record is copied. Returns ERROR_CODE_SUCCESS, SDP_HANDLE_INVALID (no/reserved handle or
   * a malformed record), SDP_HANDLE_ALREADY_REGISTERED or BTSTACK_MEMORY_ALLOC_FAILED.
   */
  register(record: Uint8Array): number {
    const problem = sdp_record_problem(record);
    if (problem) {
      this.log.error(`sdp_register_service: record rejected: ${problem}`);
      return SDP_HANDLE_INVALID;
    }
    const handle = sdp_get_service_record_handle(record);
    if (handle <= SDP_MAX_RESERVED_SERVICE_RECORD_HANDLE) {
      this.log.error(`sdp_register_service: invalid ServiceRecordHandle 0x${handle.toString(16)}`);
      return SDP_HANDLE_INVALID;
    }
    if (this.find(handle)) return SDP_HANDLE_ALREADY_REGISTERED;
    const item = this.pool.get();
    if (!item) return BTSTACK_MEMORY_ALLOC_FAILED;
    item.service_record_handle = handle;
    item.service_record = record.slice(0, de_validate(record, 0));
    this.items.push(item);
    this.generation++;
    this.log.info(
      () => `sdp: registered service record 0x${handle.toString(16).padStart(8, '0')} (${item.service_record.length} octets)`,
    );
    return ERROR_CODE_SUCCESS;
  }

  /** Remove a record; false if the handle is not registered. */
  unregister(handle: number): boolean {
    const i = this.items.findIndex((it) => it.service_record_handle === handle);
    if (i < 0) return false;
    const item = this.items[i]!;
    this.items.splice(i, 1);
    this.pool.free(item);
    this.generation++;
    return true;
  }

  find(handle: number): ServiceRecordItem | null {
    for (const it of this.items) if (it.service_record_handle === handle) return it;
    return null;
  }

  /** The lowest unused handle above the reserved range (BTstack's sdp_create_service_record_handle). */
  create_handle(): number {
    let h = SDP_MAX_RESERVED_SERVICE_RECORD_HANDLE + 1;
    while (this.find(h)) h++;
    return h;
  }

  /** Remove every record (sdp_deinit). */
  clear(): void {
    while (this.items.length) this.pool.free(this.items.pop()!);
    this.generation++;
  }
}
