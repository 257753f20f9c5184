/**
 * The ATT server's request handler on a BTstack att_db (BTstack's att.c / att_db.c request side,
 * Bluetooth Core spec Vol 3 Part F 3.4): one request PDU in, the response PDU written into a
 * caller buffer (length returned, 0 for none). No I/O, no timers: the only side effects are the
 * app's read / write callbacks (ATT_PROPERTY_DYNAMIC attributes) and the connection's MTU and
 * prepared-write error state.
 *
 * Behaviour as BTstack, with these documented differences:
 * - Find By Type Value / Read By Group Type: a group that starts inside [start, end] reports its
 *   real Group End Handle even when the group runs past `end` (spec 3.4.3.4 / 3.4.4.10; BTstack
 *   leaves such a group half written or out).
 * - Read By Type / Read By Group Type: a value is cut to 253 / 251 octets so the 1-octet Length
 *   field stays right (spec 3.4.4.2 / 3.4.4.10).
 * - Read Multiple Variable carries each value's length (spec 3.4.4.12; BTstack only with EATT).
 * - The prepared-write error state is per connection (BTstack keeps one for all).
 */
import { little_endian_read_16, little_endian_store_16 } from '../core/bytes.js';
import { ViewCache } from '../core/span.js';
import {
  ATT_ERROR_ATTRIBUTE_NOT_FOUND,
  ATT_ERROR_INSUFFICIENT_AUTHENTICATION,
  ATT_ERROR_INSUFFICIENT_AUTHORIZATION,
  ATT_ERROR_INSUFFICIENT_ENCRYPTION,
  ATT_ERROR_INSUFFICIENT_ENCRYPTION_KEY_SIZE,
  ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH,
  ATT_ERROR_INVALID_HANDLE,
  ATT_ERROR_INVALID_OFFSET,
  ATT_ERROR_INVALID_PDU,
  ATT_ERROR_READ_NOT_PERMITTED,
  ATT_ERROR_REQUEST_NOT_SUPPORTED,
  ATT_ERROR_UNSUPPORTED_GROUP_TYPE,
  ATT_ERROR_WRITE_NOT_PERMITTED,
} from '../codes/v1.4.js';
import {
  ATT_PROPERTY_DYNAMIC,
  ATT_PROPERTY_READ,
  ATT_PROPERTY_WRITE,
  ATT_PROPERTY_WRITE_WITHOUT_RESPONSE,
  ATT_SECURITY_AUTHENTICATED,
  ATT_SECURITY_AUTHORIZED,
  ATT_SECURITY_ENCRYPTED,
  AttDbIterator,
  att_db_encryption_key_size,
  att_db_find_handle,
  ATT_PROPERTY_READ_PERMISSION_BIT_0,
  ATT_PROPERTY_READ_PERMISSION_BIT_1,
  ATT_PROPERTY_READ_PERMISSION_SC,
  ATT_PROPERTY_WRITE_PERMISSION_BIT_0,
  ATT_PROPERTY_WRITE_PERMISSION_BIT_1,
  ATT_PROPERTY_WRITE_PERMISSION_SC,
} from './att-db.js';
import {
  ATT_DEFAULT_MTU,
  ATT_ERROR_RESPONSE,
  ATT_EXCHANGE_MTU_REQUEST,
  ATT_EXCHANGE_MTU_RESPONSE,
  ATT_EXECUTE_WRITE_REQUEST,
  ATT_EXECUTE_WRITE_RESPONSE,
  ATT_FIND_BY_TYPE_VALUE_REQUEST,
  ATT_FIND_BY_TYPE_VALUE_RESPONSE,
  ATT_FIND_INFORMATION_REPLY,
  ATT_FIND_INFORMATION_REQUEST,
  ATT_PREPARE_WRITE_REQUEST,
  ATT_PREPARE_WRITE_RESPONSE,
  ATT_READ_BLOB_REQUEST,
  ATT_READ_BLOB_RESPONSE,
  ATT_READ_BY_GROUP_TYPE_REQUEST,
  ATT_READ_BY_GROUP_TYPE_RESPONSE,
  ATT_READ_BY_TYPE_REQUEST,
  ATT_READ_BY_TYPE_RESPONSE,
  ATT_READ_MULTIPLE_REQUEST,
  ATT_READ_MULTIPLE_RESPONSE,
  ATT_READ_MULTIPLE_VARIABLE_REQ,
  ATT_READ_MULTIPLE_VARIABLE_RSP,
  ATT_READ_REQUEST,
  ATT_READ_RESPONSE,
  ATT_WRITE_COMMAND,
  ATT_WRITE_REQUEST,
  ATT_WRITE_RESPONSE,
  GATT_PRIMARY_SERVICE_UUID,
  GATT_SECONDARY_SERVICE_UUID,
} from './att-pdu.js';

// ---- BTstack's att_db.h constants ----
export const ATT_TRANSACTION_MODE_NONE = 0;
export const ATT_TRANSACTION_MODE_ACTIVE = 1;
export const ATT_TRANSACTION_MODE_EXECUTE = 2;
export const ATT_TRANSACTION_MODE_CANCEL = 3;
export const ATT_TRANSACTION_MODE_VALIDATE = 4;
/** A read callback returning ATT_READ_ERROR_CODE_OFFSET + code answers with that ATT error. */
export const ATT_READ_ERROR_CODE_OFFSET = 0xfe00;

/**
 * BTstack's att_read_callback_t: with `buffer` null return the value's length; else copy up to
 * `buffer_size` octets from `offset` into `buffer` and return how many.
 */
export type AttReadCallback = (
  con_handle: number,
  attribute_handle: number,
  offset: number,
  buffer: Uint8Array | null,
  buffer_size: number,
) => number;

/** BTstack's att_write_callback_t: 0 or an ATT error code. `buffer` is valid during the call only. */
export type AttWriteCallback = (
  con_handle: number,
  attribute_handle: number,
  transaction_mode: number,
  offset: number,
  buffer: Uint8Array,
  buffer_size: number,
) => number;

/** What the request handler knows of a connection (BTstack's att_connection_t). */
export interface AttConnection {
  con_handle: number;
  mtu: number;
  max_mtu: number;
  mtu_exchanged: boolean;
  encryption_key_size: number;
  authenticated: boolean;
  authorized: boolean;
  secure_connection: boolean;
  /** Prepared writes: the first postponed error (Invalid Attribute Value Length before Invalid Offset). */
  prepare_write_error_code: number;
  prepare_write_error_handle: number;
}

const EMPTY = new Uint8Array(0);

/** Error Response (3.4.1.1): opcode 0x01, request opcode, handle, error code. 5 octets. */
export function att_error_response(out: Uint8Array, request_opcode: number, handle: number, error_code: number): number {
  out[0] = ATT_ERROR_RESPONSE;
  out[1] = request_opcode;
  little_endian_store_16(out, 2, handle);
  out[4] = error_code;
  return 5;
}

/** BTstack's att_validate_security: 0 or the ATT error the connection's security earns. */
export function att_validate_security(conn: AttConnection, flags: number, write: boolean): number {
  let required = 0;
  if (flags & (write ? ATT_PROPERTY_WRITE_PERMISSION_BIT_0 : ATT_PROPERTY_READ_PERMISSION_BIT_0)) required |= 1;
  if (flags & (write ? ATT_PROPERTY_WRITE_PERMISSION_BIT_1 : ATT_PROPERTY_READ_PERMISSION_BIT_1)) required |= 2;
  const sc_missing =
    (flags & (write ? ATT_PROPERTY_WRITE_PERMISSION_SC : ATT_PROPERTY_READ_PERMISSION_SC)) !== 0 && !conn.secure_connection;
  const key_size = att_db_encryption_key_size(flags);
  // BTstack's switch with fall-through: authorized -> authenticated -> encrypted. One difference:
  // BTstack checks encryption only when the db names a key size; here any encrypted permission
  // needs an encrypted link (a .gatt READ_ENCRYPTED without ENCRYPTION_KEY_SIZE_n stays protected).
  if (required === ATT_SECURITY_AUTHORIZED && (!conn.authorized || sc_missing)) return ATT_ERROR_INSUFFICIENT_AUTHORIZATION;
  if (required >= ATT_SECURITY_AUTHENTICATED && (!conn.authenticated || sc_missing)) return ATT_ERROR_INSUFFICIENT_AUTHENTICATION;
  if (required >= ATT_SECURITY_ENCRYPTED) {
    if (conn.encryption_key_size === 0 || sc_missing) return ATT_ERROR_INSUFFICIENT_ENCRYPTION;
    if (key_size > conn.encryption_key_size) return ATT_ERROR_INSUFFICIENT_ENCRYPTION_KEY_SIZE;
  }
  return 0;
}

/** The request side of BTstack's att.c on one database. */
export class AttRequestHandler {
  private readonly it = new AttDbIterator();
  private readonly it2 = new AttDbIterator();
  /** The values handed to the write callback: views of the request, made once per (PDU buffer, length). */
  private readonly values = new ViewCache(4);

  constructor(
    readonly db: Uint8Array,
    readonly read_callback: AttReadCallback | null,
    readonly write_callback: AttWriteCallback | null,
  ) {}

  /**
   * BTstack's att_handle_request: answer `req[0..len)` into `out` (room for conn.mtu octets, at
   * least 23); returns the response length, 0 when nothing is sent (Write Command).
   */
  handle_request(conn: AttConnection, req: Uint8Array, len: number, out: Uint8Array): number {
    const op = req[0]!;
    switch (op) {
      case ATT_EXCHANGE_MTU_REQUEST:
        return this.exchange_mtu(conn, req, len, out);
      case ATT_FIND_INFORMATION_REQUEST:
        if (len !== 5) return att_error_response(out, op, 0, ATT_ERROR_INVALID_PDU);
        return this.find_information(conn, out, little_endian_read_16(req, 1), little_endian_read_16(req, 3));
      case ATT_FIND_BY_TYPE_VALUE_REQUEST:
        if (len < 7) return att_error_response(out, op, 0, ATT_ERROR_INVALID_PDU);
        return this.find_by_type_value(conn, req, len, out);
      case ATT_READ_BY_TYPE_REQUEST:
      case ATT_READ_BY_GROUP_TYPE_REQUEST: {
        if (len !== 7 && len !== 21) return att_error_response(out, op, 0, ATT_ERROR_INVALID_PDU);
        const type = req.subarray(5, len);
        const start = little_endian_read_16(req, 1);
        const end = little_endian_read_16(req, 3);
        return op === ATT_READ_BY_TYPE_REQUEST
          ? this.read_by_type(conn, out, start, end, type)
          : this.read_by_group_type(conn, out, start, end, type);
      }
      case ATT_READ_REQUEST:
        if (len !== 3) return att_error_response(out, op, 0, ATT_ERROR_INVALID_PDU);
        return this.read(conn, out, op, little_endian_read_16(req, 1), 0);
      case ATT_READ_BLOB_REQUEST:
        if (len !== 5) return att_error_response(out, op, 0, ATT_ERROR_INVALID_PDU);
        return this.read(conn, out, op, little_endian_read_16(req, 1), little_endian_read_16(req, 3));
      case ATT_READ_MULTIPLE_REQUEST:
      case ATT_READ_MULTIPLE_VARIABLE_REQ:
        if (len < 5 || (len & 1) === 0) return att_error_response(out, op, 0, ATT_ERROR_INVALID_PDU);
        return this.read_multiple(conn, req, len, out, op === ATT_READ_MULTIPLE_VARIABLE_REQ);
      case ATT_WRITE_REQUEST:
        if (len < 3) return att_error_response(out, op, 0, ATT_ERROR_INVALID_PDU);
        return this.write(conn, req, len, out);
      case ATT_PREPARE_WRITE_REQUEST:
        if (len < 5) return att_error_response(out, op, 0, ATT_ERROR_INVALID_PDU);
        return this.prepare_write(conn, req, len, out);
      case ATT_EXECUTE_WRITE_REQUEST:
        if (len !== 2) return att_error_response(out, op, 0, ATT_ERROR_INVALID_PDU);
        return this.execute_write(conn, req[1]!, out);
      case ATT_WRITE_COMMAND:
        this.write_command(conn, req, len);
        return 0;
      default:
        return att_error_response(out, op, 0, ATT_ERROR_REQUEST_NOT_SUPPORTED);
    }
  }

  /** BTstack's att_clear_transaction_queue: the app drops its prepared writes. */
  clear_transaction_queue(conn: AttConnection): void {
    this.write_callback?.(conn.con_handle, 0, ATT_TRANSACTION_MODE_CANCEL, 0, EMPTY, 0);
  }

  // ---- 3.4.2 MTU exchange

  private exchange_mtu(conn: AttConnection, req: Uint8Array, len: number, out: Uint8Array): number {
    if (len !== 3) return att_error_response(out, ATT_EXCHANGE_MTU_REQUEST, 0, ATT_ERROR_INVALID_PDU);
    const client_rx_mtu = little_endian_read_16(req, 1);
    conn.mtu = Math.max(ATT_DEFAULT_MTU, Math.min(client_rx_mtu, conn.max_mtu));
    conn.mtu_exchanged = true;
    out[0] = ATT_EXCHANGE_MTU_RESPONSE;
    little_endian_store_16(out, 1, conn.mtu);
    return 3;
  }

  // ---- 3.4.3 discovery

  private find_information(conn: AttConnection, out: Uint8Array, start: number, end: number): number {
    const op = ATT_FIND_INFORMATION_REQUEST;
    if (start > end || start === 0) return att_error_response(out, op, start, ATT_ERROR_INVALID_HANDLE);
    const it = this.it;
    let pos = 1;
    let uuid_len = 0;
    if (it.init(this.db)) {
      while (it.next()) {
        if (it.handle > end) break;
        if (it.handle < start) continue;
        if (pos === 1) {
          uuid_len = it.uuid_len;
          out[pos++] = uuid_len === 16 ? 0x02 : 0x01;
        } else if (it.uuid_len !== uuid_len) break;
        if (pos + 2 + uuid_len > conn.mtu) break;
        little_endian_store_16(out, pos, it.handle);
        out.set(this.db.subarray(it.uuid_offset, it.uuid_offset + uuid_len), pos + 2);
        pos += 2 + uuid_len;
      }
    }
    if (pos === 1) return att_error_response(out, op, start, ATT_ERROR_ATTRIBUTE_NOT_FOUND);
    out[0] = ATT_FIND_INFORMATION_REPLY;
    return pos;
  }

  /** The last handle of the group (service) that starts at the iterator's current entry. */
  private group_end(start_it: AttDbIterator): number {
    const it = this.it2;
    let last = start_it.handle;
    if (!it.init(this.db)) return last;
    it.pos = start_it.pos; // continue after the declaration
    while (it.next()) {
      if (it.uuid_len === 2 && (it.uuid16 === GATT_PRIMARY_SERVICE_UUID || it.uuid16 === GATT_SECONDARY_SERVICE_UUID)) break;
      last = it.handle;
    }
    return last;
  }

  private find_by_type_value(conn: AttConnection, req: Uint8Array, len: number, out: Uint8Array): number {
    const op = ATT_FIND_BY_TYPE_VALUE_REQUEST;
    const start = little_endian_read_16(req, 1);
    const end = little_endian_read_16(req, 3);
    const type = req.subarray(5, 7);
    const value_len = len - 7;
    if (start > end || start === 0) return att_error_response(out, op, start, ATT_ERROR_INVALID_HANDLE);
    const it = this.it;
    const db = this.db;
    let pos = 1;
    if (it.init(db)) {
      while (it.next()) {
        if (it.handle < start) continue;
        if (it.handle > end) break;
        if (!it.uuid_equals(type) || it.value_len !== value_len) continue;
        let same = true;
        for (let i = 0; i < value_len && same; i++) same = db[it.value_offset + i] === req[7 + i];
        if (!same) continue;
        if (pos + 4 > conn.mtu) break;
        little_endian_store_16(out, pos, it.handle);
        little_endian_store_16(out, pos + 2, this.group_end(it));
        pos += 4;
      }
    }
    if (pos === 1) return att_error_response(out, op, start, ATT_ERROR_ATTRIBUTE_NOT_FOUND);
    out[0] = ATT_FIND_BY_TYPE_VALUE_RESPONSE;
    return pos;
  }

  /** The value length of the iterator's entry: stored, or asked of the app for DYNAMIC ones. */
  private value_len(conn: AttConnection, it: AttDbIterator, offset: number): number {
    if ((it.flags & ATT_PROPERTY_DYNAMIC) === 0) return it.value_len;
    if (!this.read_callback) return 0;
    const n = this.read_callback(conn.con_handle, it.handle, offset, null, 0);
    return Number.isInteger(n) && n >= 0 ? Math.min(n, 0xffff) : 0;
  }

  /** Copy up to `max` octets of the value from `offset` to out[pos..]; returns the count. */
  private copy_value(conn: AttConnection, it: AttDbIterator, offset: number, out: Uint8Array, pos: number, max: number): number {
    if (max <= 0) return 0;
    if ((it.flags & ATT_PROPERTY_DYNAMIC) === 0) {
      const n = Math.max(0, Math.min(it.value_len - offset, max));
      out.set(this.db.subarray(it.value_offset + offset, it.value_offset + offset + n), pos);
      return n;
    }
    if (!this.read_callback) return 0;
    const n = this.read_callback(conn.con_handle, it.handle, offset, out.subarray(pos, pos + max), max);
    return Number.isInteger(n) && n >= 0 ? Math.min(n, max) : 0;
  }

  private read_by_type(conn: AttConnection, out: Uint8Array, start: number, end: number, type: Uint8Array): number {
    const op = ATT_READ_BY_TYPE_REQUEST;
    if (start > end || start === 0) return att_error_response(out, op, start, ATT_ERROR_INVALID_HANDLE);
    const it = this.it;
    let pos = 1;
    let pair_len = 0;
    let error = 0;
    let unreadable = 0;
    if (it.init(this.db)) {
      while (it.next()) {
        if (it.handle > end) break;
        if (it.handle < start || !it.uuid_equals(type)) continue;
        if ((it.flags & ATT_PROPERTY_READ) === 0) {
          if (unreadable === 0) unreadable = it.handle;
          continue;
        }
        error = att_validate_security(conn, it.flags, false);
        if (error !== 0) break;
        let vlen = this.value_len(conn, it, 0);
        if (vlen > ATT_READ_ERROR_CODE_OFFSET) {
          error = (vlen - ATT_READ_ERROR_CODE_OFFSET) & 0xff;
          break;
        }
        vlen = Math.min(vlen, 253);
        const this_pair_len = 2 + vlen;
        if (pos > 1 && this_pair_len !== pair_len) break;
        if (pos === 1) {
          pair_len = this_pair_len;
          out[pos++] = pair_len;
        }
        if (pos + pair_len > conn.mtu) {
          if (pos > 2) break;
          vlen = conn.mtu - 4;
          out[1] = 2 + vlen;
        }
        little_endian_store_16(out, pos, it.handle);
        pos += 2;
        pos += this.copy_value(conn, it, 0, out, pos, vlen);
      }
    }
    if (pos > 1) {
      out[0] = ATT_READ_BY_TYPE_RESPONSE;
      return pos;
    }
    if (error !== 0) return att_error_response(out, op, start, error);
    if (unreadable !== 0) return att_error_response(out, op, unreadable, ATT_ERROR_READ_NOT_PERMITTED);
    return att_error_response(out, op, start, ATT_ERROR_ATTRIBUTE_NOT_FOUND);
  }

  private read_by_group_type(conn: AttConnection, out: Uint8Array, start: number, end: number, type: Uint8Array): number {
    const op = ATT_READ_BY_GROUP_TYPE_REQUEST;
    if (start > end || start === 0) return att_error_response(out, op, start, ATT_ERROR_INVALID_HANDLE);
    const it = this.it;
    if (!uuid_is(type, GATT_PRIMARY_SERVICE_UUID) && !uuid_is(type, GATT_SECONDARY_SERVICE_UUID))
      return att_error_response(out, op, start, ATT_ERROR_UNSUPPORTED_GROUP_TYPE);
    let pos = 1;
    let pair_len = 0;
    if (it.init(this.db)) {
      while (it.next()) {
        if (it.handle < start) continue;
        if (it.handle > end) break;
        if (!it.uuid_equals(type)) continue;
        const vlen = Math.min(it.value_len, 251);
        const this_pair_len = 4 + vlen;
        if (pos > 1 && this_pair_len !== pair_len) break;
        if (pos + this_pair_len > conn.mtu) break;
        if (pos === 1) {
          pair_len = this_pair_len;
          out[pos++] = pair_len;
        }
        little_endian_store_16(out, pos, it.handle);
        little_endian_store_16(out, pos + 2, this.group_end(it));
        out.set(this.db.subarray(it.value_offset, it.value_offset + vlen), pos + 4);
        pos += pair_len;
      }
    }
    if (pos === 1) return att_error_response(out, op, start, ATT_ERROR_ATTRIBUTE_NOT_FOUND);
    out[0] = ATT_READ_BY_GROUP_TYPE_RESPONSE;
    return pos;
  }

  // ---- 3.4.4 reads

  /** Read (offset 0, opcode 0x0A) and Read Blob (0x0C). */
  private read(conn: AttConnection, out: Uint8Array, op: number, handle: number, offset: number): number {
    const it = this.it;
    if (handle === 0 || !att_db_find_handle(this.db, handle, it))
      return att_error_response(out, op, handle, ATT_ERROR_INVALID_HANDLE);
    if ((it.flags & ATT_PROPERTY_READ) === 0) return att_error_response(out, op, handle, ATT_ERROR_READ_NOT_PERMITTED);
    const error = att_validate_security(conn, it.flags, false);
    if (error !== 0) return att_error_response(out, op, handle, error);
    const vlen = this.value_len(conn, it, offset);
    if (vlen > ATT_READ_ERROR_CODE_OFFSET) return att_error_response(out, op, handle, (vlen - ATT_READ_ERROR_CODE_OFFSET) & 0xff);
    if (op === ATT_READ_BLOB_REQUEST && offset > vlen) return att_error_response(out, op, handle, ATT_ERROR_INVALID_OFFSET);
    out[0] = op === ATT_READ_REQUEST ? ATT_READ_RESPONSE : ATT_READ_BLOB_RESPONSE;
    if (offset >= vlen && op === ATT_READ_BLOB_REQUEST) return 1;
    return 1 + this.copy_value(conn, it, offset, out, 1, Math.min(conn.mtu - 1, vlen - offset));
  }

  private read_multiple(conn: AttConnection, req: Uint8Array, len: number, out: Uint8Array, variable: boolean): number {
    const op = variable ? ATT_READ_MULTIPLE_VARIABLE_REQ : ATT_READ_MULTIPLE_REQUEST;
    const it = this.it;
    let pos = 1;
    let error = 0;
    let handle = 0;
    for (let i = 1; i + 1 < len; i += 2) {
      handle = little_endian_read_16(req, i);
      if (handle === 0 || !att_db_find_handle(this.db, handle, it))
        return att_error_response(out, op, handle, ATT_ERROR_INVALID_HANDLE);
      if ((it.flags & ATT_PROPERTY_READ) === 0) {
        error = ATT_ERROR_READ_NOT_PERMITTED;
        break;
      }
      error = att_validate_security(conn, it.flags, false);
      if (error !== 0) break;
      const vlen = this.value_len(conn, it, 0);
      if (vlen > ATT_READ_ERROR_CODE_OFFSET) {
        error = (vlen - ATT_READ_ERROR_CODE_OFFSET) & 0xff;
        break;
      }
      if (variable) {
        if (pos + 2 >= conn.mtu) break;
        const n = this.copy_value(conn, it, 0, out, pos + 2, Math.min(vlen, conn.mtu - pos - 2));
        little_endian_store_16(out, pos, n);
        pos += 2 + n;
      } else {
        pos += this.copy_value(conn, it, 0, out, pos, Math.min(vlen, conn.mtu - pos));
      }
    }
    if (error !== 0) return att_error_response(out, op, handle, error);
    out[0] = variable ? ATT_READ_MULTIPLE_VARIABLE_RSP : ATT_READ_MULTIPLE_RESPONSE;
    return pos;
  }

  // ---- 3.4.5 / 3.4.6 writes

  /** Checks shared by Write Request and Prepare Write Request: 0 or the error. */
  private check_write(conn: AttConnection, handle: number, it: AttDbIterator): number {
    if (handle === 0 || !att_db_find_handle(this.db, handle, it)) return ATT_ERROR_INVALID_HANDLE;
    if (!this.write_callback) return ATT_ERROR_WRITE_NOT_PERMITTED;
    if ((it.flags & ATT_PROPERTY_WRITE) === 0 || (it.flags & ATT_PROPERTY_DYNAMIC) === 0) return ATT_ERROR_WRITE_NOT_PERMITTED;
    return att_validate_security(conn, it.flags, true);
  }

  private write(conn: AttConnection, req: Uint8Array, len: number, out: Uint8Array): number {
    const handle = little_endian_read_16(req, 1);
    let error = this.check_write(conn, handle, this.it);
    if (error === 0)
      error = this.write_callback!(conn.con_handle, handle, ATT_TRANSACTION_MODE_NONE, 0, this.values.view(req, 3, len), len - 3);
    if (error !== 0) return att_error_response(out, ATT_WRITE_REQUEST, handle, error & 0xff);
    out[0] = ATT_WRITE_RESPONSE;
    return 1;
  }

  private prepare_write(conn: AttConnection, req: Uint8Array, len: number, out: Uint8Array): number {
    const handle = little_endian_read_16(req, 1);
    const offset = little_endian_read_16(req, 3);
    let error = this.check_write(conn, handle, this.it);
    if (error === 0) {
      error = this.write_callback!(
        conn.con_handle,
        handle,
        ATT_TRANSACTION_MODE_ACTIVE,
        offset,
        this.values.view(req, 5, len),
        len - 5,
      );
      if (error === ATT_ERROR_INVALID_OFFSET || error === ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH) {
        // postponed to the Execute Write Response; Invalid Attribute Value Length wins
        if (error === ATT_ERROR_INVALID_ATTRIBUTE_VALUE_LENGTH && conn.prepare_write_error_code !== error) {
          conn.prepare_write_error_code = error;
          conn.prepare_write_error_handle = handle;
        } else if (error === ATT_ERROR_INVALID_OFFSET && conn.prepare_write_error_code === 0) {
          conn.prepare_write_error_code = error;
          conn.prepare_write_error_handle = handle;
        }
        error = 0;
      }
    }
    if (error !== 0) return att_error_response(out, ATT_PREPARE_WRITE_REQUEST, handle, error & 0xff);
    const n = Math.min(len, conn.mtu);
    out.set(req.subarray(0, n), 0);
    out[0] = ATT_PREPARE_WRITE_RESPONSE;
    return n;
  }

  private execute_write(conn: AttConnection, flags: number, out: Uint8Array): number {
    const op = ATT_EXECUTE_WRITE_REQUEST;
    const cb = this.write_callback;
    if (!cb) return att_error_response(out, op, 0, ATT_ERROR_WRITE_NOT_PERMITTED);
    if (flags !== 0) {
      if (conn.prepare_write_error_code === 0)
        conn.prepare_write_error_code = cb(conn.con_handle, 0, ATT_TRANSACTION_MODE_VALIDATE, 0, EMPTY, 0) & 0xff;
      if (conn.prepare_write_error_code !== 0) {
        this.clear_transaction_queue(conn);
        const code = conn.prepare_write_error_code;
        const handle = conn.prepare_write_error_handle;
        conn.prepare_write_error_code = 0;
        conn.prepare_write_error_handle = 0;
        return att_error_response(out, op, handle, code);
      }
      cb(conn.con_handle, 0, ATT_TRANSACTION_MODE_EXECUTE, 0, EMPTY, 0);
    } else {
      this.clear_transaction_queue(conn);
    }
    out[0] = ATT_EXECUTE_WRITE_RESPONSE;
    return 1;
  }

  /** Write Command (3.4.5.3): never answered; dropped when any check fails. */
  private write_command(conn: AttConnection, req: Uint8Array, len: number): void {
    if (len < 3 || !this.write_callback) return;
    const handle = little_endian_read_16(req, 1);
    const it = this.it;
    if (handle === 0 || !att_db_find_handle(this.db, handle, it)) return;
    if ((it.flags & ATT_PROPERTY_DYNAMIC) === 0 || (it.flags & ATT_PROPERTY_WRITE_WITHOUT_RESPONSE) === 0) return;
    if (att_validate_security(conn, it.flags, true) !== 0) return;
    this.write_callback(conn.con_handle, handle, ATT_TRANSACTION_MODE_NONE, 0, this.values.view(req, 3, len), len - 3);
  }
}

/** The first 12 octets of the Bluetooth Base UUID, little endian. */
const BASE_UUID_LE = [0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00];

/** Whether a 2- or 16-octet little-endian UUID is the 16-bit `uuid16` (Base UUID form included). */
function uuid_is(type: Uint8Array, uuid16: number): boolean {
  if (type.length === 2) return (type[0]! | (type[1]! << 8)) === uuid16;
  for (let i = 0; i < 12; i++) if (type[i] !== BASE_UUID_LE[i]) return false;
  return type[14] === 0 && type[15] === 0 && (type[12]! | (type[13]! << 8)) === uuid16;
}
