/**
 * L2CAP configuration parameter options (Core spec v5.4, Vol 3, Part A, 5): the Config field of
 * Configuration Request and Configuration Response commands is a list of options, each
 * Type (1 octet: bit 7 = hint, bits 6-0 = option type), Length (1 octet, of the option data), data.
 *
 * | type | option                               | data octets | fields |
 * |------|--------------------------------------|-------------|--------|
 * | 0x01 | MTU                                  | 2           | MTU |
 * | 0x02 | Flush Timeout                        | 2           | flush timeout (ms; 0x0001 = no retransmission, 0xFFFF = infinite) |
 * | 0x03 | QoS (flow specification)             | 22          | flags 1, service type 1, token rate 4, token bucket size 4, peak bandwidth 4, latency 4, delay variation 4 |
 * | 0x04 | Retransmission and Flow Control      | 9           | mode 1, TxWindow 1, MaxTransmit 1, retransmission time-out 2, monitor time-out 2, MPS 2 |
 * | 0x05 | Frame Check Sequence                 | 1           | 0x00 no FCS, 0x01 16-bit FCS |
 * | 0x06 | Extended Flow Specification          | 16          | identifier 1, service type 1, max SDU 2, SDU inter-arrival time 4, access latency 4, flush timeout 4 |
 * | 0x07 | Extended Window Size                 | 2           | max window size |
 *
 * Rules applied (Vol 3 Part A, 4.4, 4.5, 5, 5.1, 5.4):
 * - An option the receiver does not recognise is skipped when its hint bit is set; when the hint
 *   bit is clear the request is refused with result 0x0003 "Failure - unknown options" and the
 *   unrecognised options are listed in the response (hints are never listed).
 * - The MTU minimum on ACL-U is 48 octets (L2CAP_MINIMAL_MTU); a smaller MTU is answered with
 *   0x0001 "Failure - unacceptable parameters" carrying the acceptable value, 48.
 * - A Retransmission and Flow Control option asking for a mode other than the channel's (Basic
 *   unless the channel was made for ERTM / streaming; no option = Basic) is answered with
 *   "unacceptable parameters" proposing the channel's mode.
 * - An option whose length runs past the Config field, or a recognised option whose Length is not
 *   its defined size, makes the request unparseable; it is answered with 0x0002 "Failure - rejected".
 *
 * Everything here is allocation-free: parsing fills a caller-owned L2capConfigOptions, writing
 * goes into a caller-supplied buffer and returns bytes written or -1 when the buffer is too small.
 */
import { little_endian_read_16, little_endian_read_32, little_endian_store_16, little_endian_store_32 } from '../core/bytes.js';
import {
  L2CAP_MINIMAL_MTU,
  L2CAP_DEFAULT_MTU,
  L2CAP_CHANNEL_MODE_BASIC,
  L2CAP_CONF_RESULT_SUCCESS,
  L2CAP_CONF_RESULT_UNACCEPTABLE_PARAMETERS,
  L2CAP_CONF_RESULT_REJECT,
  L2CAP_CONF_RESULT_UNKNOWN_OPTIONS,
} from '../codes/v1.4.js';

// Option types (Vol 3 Part A, 5). BTstack spells them this way in l2cap_signaling.h; the reference
// tables do not list them, so they are written here from the spec.
export const L2CAP_CONFIG_OPTION_TYPE_MAX_TRANSMISSION_UNIT = 0x01;
export const L2CAP_CONFIG_OPTION_TYPE_FLUSH_TIMEOUT = 0x02;
export const L2CAP_CONFIG_OPTION_TYPE_QUALITY_OF_SERVICE = 0x03;
export const L2CAP_CONFIG_OPTION_TYPE_RETRANSMISSION_AND_FLOW_CONTROL = 0x04;
export const L2CAP_CONFIG_OPTION_TYPE_FRAME_CHECK_SEQUENCE = 0x05;
export const L2CAP_CONFIG_OPTION_TYPE_EXTENDED_FLOW_SPECIFICATION = 0x06;
export const L2CAP_CONFIG_OPTION_TYPE_EXTENDED_WINDOW_SIZE = 0x07;
/** Bit 7 of the option type octet: the option is a hint and may be skipped if not recognised. */
export const L2CAP_CONFIG_OPTION_HINT = 0x80;

/** Data length of each recognised option type (index = type), 0 = not recognised. */
const OPTION_LENGTH = [0, 2, 2, 22, 9, 1, 16, 2] as const;

/** Data length of a recognised option type, or 0 for an unrecognised one (hint bit ignored). */
export function l2cap_config_option_length(type: number): number {
  const t = type & 0x7f;
  return t < OPTION_LENGTH.length ? OPTION_LENGTH[t]! : 0;
}

/** Default flush timeout: infinite (0xFFFF, Vol 3 Part A, 5.2). */
export const L2CAP_FLUSH_TIMEOUT_INFINITE = 0xffff;
/** QoS service types (Vol 3 Part A, 5.3). */
export const L2CAP_QOS_SERVICE_TYPE_NO_TRAFFIC = 0x00;
export const L2CAP_QOS_SERVICE_TYPE_BEST_EFFORT = 0x01;
export const L2CAP_QOS_SERVICE_TYPE_GUARANTEED = 0x02;
/** FCS option values (Vol 3 Part A, 5.5). */
export const L2CAP_FCS_NONE = 0x00;
export const L2CAP_FCS_16_BIT = 0x01;

/** Presence bits of L2capConfigOptions.present (1 << option type). */
export const L2CAP_CONFIG_HAS_MTU = 1 << L2CAP_CONFIG_OPTION_TYPE_MAX_TRANSMISSION_UNIT;
export const L2CAP_CONFIG_HAS_FLUSH_TIMEOUT = 1 << L2CAP_CONFIG_OPTION_TYPE_FLUSH_TIMEOUT;
export const L2CAP_CONFIG_HAS_QOS = 1 << L2CAP_CONFIG_OPTION_TYPE_QUALITY_OF_SERVICE;
export const L2CAP_CONFIG_HAS_RFC = 1 << L2CAP_CONFIG_OPTION_TYPE_RETRANSMISSION_AND_FLOW_CONTROL;
export const L2CAP_CONFIG_HAS_FCS = 1 << L2CAP_CONFIG_OPTION_TYPE_FRAME_CHECK_SEQUENCE;
export const L2CAP_CONFIG_HAS_EFS = 1 << L2CAP_CONFIG_OPTION_TYPE_EXTENDED_FLOW_SPECIFICATION;
export const L2CAP_CONFIG_HAS_EWS = 1 << L2CAP_CONFIG_OPTION_TYPE_EXTENDED_WINDOW_SIZE;

/**
 * The options of one configuration exchange, as parsed or to be written. Reusable: `clear()`
 * restores the spec defaults (the constructor calls it). Fields are only meaningful when their bit is set in `present`.
 * Parsing a request with the continuation flag into the same object merges the fragments.
 */
export class L2capConfigOptions {
  // every field is set by clear(), the one list of the defaults
  /** Bitmask of L2CAP_CONFIG_HAS_*. */
  present!: number;
  mtu!: number;
  flush_timeout!: number;
  // QoS (flow specification)
  qos_flags!: number;
  qos_service_type!: number;
  qos_token_rate!: number;
  qos_token_bucket_size!: number;
  qos_peak_bandwidth!: number;
  qos_latency!: number;
  qos_delay_variation!: number;
  // Retransmission and Flow Control
  mode!: number;
  tx_window_size!: number;
  max_transmit!: number;
  retransmission_timeout!: number;
  monitor_timeout!: number;
  mps!: number;
  // Frame Check Sequence
  fcs!: number;
  // Extended Flow Specification
  efs_identifier!: number;
  efs_service_type!: number;
  efs_max_sdu_size!: number;
  efs_sdu_inter_arrival_time!: number;
  efs_access_latency!: number;
  efs_flush_timeout!: number;
  // Extended Window Size
  extended_window_size!: number;
  /** Unrecognised options without the hint bit (each must be listed in an Unknown Options response). */
  unknown_count!: number;
  /** Type octet of the first unrecognised non-hint option (0 when none). */
  first_unknown_type!: number;
  /** Unrecognised hint options skipped. */
  hints_skipped!: number;

  constructor() {
    this.clear();
  }

  clear(): this {
    this.present = 0;
    this.mtu = L2CAP_DEFAULT_MTU;
    this.flush_timeout = L2CAP_FLUSH_TIMEOUT_INFINITE;
    this.qos_flags = 0;
    this.qos_service_type = L2CAP_QOS_SERVICE_TYPE_BEST_EFFORT;
    this.qos_token_rate = 0;
    this.qos_token_bucket_size = 0;
    this.qos_peak_bandwidth = 0;
    this.qos_latency = 0xffffffff;
    this.qos_delay_variation = 0xffffffff;
    this.mode = L2CAP_CHANNEL_MODE_BASIC;
    this.tx_window_size = 0;
    this.max_transmit = 0;
    this.retransmission_timeout = 0;
    this.monitor_timeout = 0;
    this.mps = 0;
    this.fcs = L2CAP_FCS_16_BIT;
    this.efs_identifier = 0;
    this.efs_service_type = 0;
    this.efs_max_sdu_size = 0;
    this.efs_sdu_inter_arrival_time = 0;
    this.efs_access_latency = 0;
    this.efs_flush_timeout = 0;
    this.extended_window_size = 0;
    this.unknown_count = 0;
    this.first_unknown_type = 0;
    this.hints_skipped = 0;
    return this;
  }

  has(bit: number): boolean {
    return (this.present & bit) !== 0;
  }

  /** Include an MTU option. */
  set_mtu(mtu: number): this {
    this.mtu = mtu & 0xffff;
    this.present |= L2CAP_CONFIG_HAS_MTU;
    return this;
  }

  /** Include a Flush Timeout option. */
  set_flush_timeout(ms: number): this {
    this.flush_timeout = ms & 0xffff;
    this.present |= L2CAP_CONFIG_HAS_FLUSH_TIMEOUT;
    return this;
  }

  /** Include a Retransmission and Flow Control option (for Basic mode the other fields are 0). */
  set_rfc(mode: number, tx_window_size = 0, max_transmit = 0, retransmission_timeout = 0, monitor_timeout = 0, mps = 0): this {
    this.mode = mode & 0xff;
    this.tx_window_size = tx_window_size & 0xff;
    this.max_transmit = max_transmit & 0xff;
    this.retransmission_timeout = retransmission_timeout & 0xffff;
    this.monitor_timeout = monitor_timeout & 0xffff;
    this.mps = mps & 0xffff;
    this.present |= L2CAP_CONFIG_HAS_RFC;
    return this;
  }

  /** Include an FCS option. */
  set_fcs(fcs: number): this {
    this.fcs = fcs & 0xff;
    this.present |= L2CAP_CONFIG_HAS_FCS;
    return this;
  }

  /** The MTU the sender of these options can receive: the option's value, or 672 when absent. */
  get effective_mtu(): number {
    return this.present & L2CAP_CONFIG_HAS_MTU ? this.mtu : L2CAP_DEFAULT_MTU;
  }
}

/** Result of parsing a Config field. */
export type L2capConfigParse =
  | 'ok'
  /** Fewer than 2 octets left for an option's type and length, or its data runs past the field. */
  | 'truncated-option'
  /** A recognised option whose Length is not the size the spec defines for it. */
  | 'bad-option-length';

/**
 * Parse the options in buf[off, off+len) into `out` (which is NOT cleared first, so continuation
 * fragments merge; call out.clear() before the first fragment). Never reads outside the range or
 * past the end of `buf`. On an error, the options before the bad one are in `out`.
 */
export function l2cap_config_options_parse(buf: Uint8Array, off: number, len: number, out: L2capConfigOptions): L2capConfigParse {
  let pos = off;
  const end = Math.min(off + len, buf.length);
  while (pos < end) {
    if (end - pos < 2) return 'truncated-option';
    const type = buf[pos]!;
    const olen = buf[pos + 1]!;
    const data = pos + 2;
    if (data + olen > end) return 'truncated-option';
    const t = type & 0x7f;
    const want = t < OPTION_LENGTH.length ? OPTION_LENGTH[t]! : 0;
    if (want === 0) {
      if (type & L2CAP_CONFIG_OPTION_HINT) out.hints_skipped++;
      else {
        if (out.unknown_count === 0) out.first_unknown_type = type;
        out.unknown_count++;
      }
      pos = data + olen;
      continue;
    }
    if (olen !== want) return 'bad-option-length';
    switch (t) {
      case L2CAP_CONFIG_OPTION_TYPE_MAX_TRANSMISSION_UNIT:
        out.mtu = little_endian_read_16(buf, data);
        break;
      case L2CAP_CONFIG_OPTION_TYPE_FLUSH_TIMEOUT:
        out.flush_timeout = little_endian_read_16(buf, data);
        break;
      case L2CAP_CONFIG_OPTION_TYPE_QUALITY_OF_SERVICE:
        out.qos_flags = buf[data]!;
        out.qos_service_type = buf[data + 1]!;
        out.qos_token_rate = little_endian_read_32(buf, data + 2);
        out.qos_token_bucket_size = little_endian_read_32(buf, data + 6);
        out.qos_peak_bandwidth = little_endian_read_32(buf, data + 10);
        out.qos_latency = little_endian_read_32(buf, data + 14);
        out.qos_delay_variation = little_endian_read_32(buf, data + 18);
        break;
      case L2CAP_CONFIG_OPTION_TYPE_RETRANSMISSION_AND_FLOW_CONTROL:
        out.mode = buf[data]!;
        out.tx_window_size = buf[data + 1]!;
        out.max_transmit = buf[data + 2]!;
        out.retransmission_timeout = little_endian_read_16(buf, data + 3);
        out.monitor_timeout = little_endian_read_16(buf, data + 5);
        out.mps = little_endian_read_16(buf, data + 7);
        break;
      case L2CAP_CONFIG_OPTION_TYPE_FRAME_CHECK_SEQUENCE:
        out.fcs = buf[data]!;
        break;
      case L2CAP_CONFIG_OPTION_TYPE_EXTENDED_FLOW_SPECIFICATION:
        out.efs_identifier = buf[data]!;
        out.efs_service_type = buf[data + 1]!;
        out.efs_max_sdu_size = little_endian_read_16(buf, data + 2);
        out.efs_sdu_inter_arrival_time = little_endian_read_32(buf, data + 4);
        out.efs_access_latency = little_endian_read_32(buf, data + 8);
        out.efs_flush_timeout = little_endian_read_32(buf, data + 12);
        break;
      default: // L2CAP_CONFIG_OPTION_TYPE_EXTENDED_WINDOW_SIZE
        out.extended_window_size = little_endian_read_16(buf, data);
        break;
    }
    out.present |= 1 << t;
    pos = data + olen;
  }
  return 'ok';
}

// ---------------------------------------------------------------------------------------------
// Option writers: each returns bytes written (type + length + data) or -1 when buf is too small.

function room(buf: Uint8Array, pos: number, n: number): boolean {
  return pos >= 0 && pos + n <= buf.length;
}

export function l2cap_config_option_write_mtu(buf: Uint8Array, pos: number, mtu: number): number {
  if (!room(buf, pos, 4)) return -1;
  buf[pos] = L2CAP_CONFIG_OPTION_TYPE_MAX_TRANSMISSION_UNIT;
  buf[pos + 1] = 2;
  little_endian_store_16(buf, pos + 2, mtu);
  return 4;
}

export function l2cap_config_option_write_flush_timeout(buf: Uint8Array, pos: number, flush_timeout: number): number {
  if (!room(buf, pos, 4)) return -1;
  buf[pos] = L2CAP_CONFIG_OPTION_TYPE_FLUSH_TIMEOUT;
  buf[pos + 1] = 2;
  little_endian_store_16(buf, pos + 2, flush_timeout);
  return 4;
}

export function l2cap_config_option_write_qos(
  buf: Uint8Array,
  pos: number,
  flags: number,
  service_type: number,
  token_rate: number,
  token_bucket_size: number,
  peak_bandwidth: number,
  latency: number,
  delay_variation: number,
): number {
  if (!room(buf, pos, 24)) return -1;
  buf[pos] = L2CAP_CONFIG_OPTION_TYPE_QUALITY_OF_SERVICE;
  buf[pos + 1] = 22;
  buf[pos + 2] = flags & 0xff;
  buf[pos + 3] = service_type & 0xff;
  little_endian_store_32(buf, pos + 4, token_rate);
  little_endian_store_32(buf, pos + 8, token_bucket_size);
  little_endian_store_32(buf, pos + 12, peak_bandwidth);
  little_endian_store_32(buf, pos + 16, latency);
  little_endian_store_32(buf, pos + 20, delay_variation);
  return 24;
}

export function l2cap_config_option_write_rfc(
  buf: Uint8Array,
  pos: number,
  mode: number,
  tx_window_size: number,
  max_transmit: number,
  retransmission_timeout: number,
  monitor_timeout: number,
  mps: number,
): number {
  if (!room(buf, pos, 11)) return -1;
  buf[pos] = L2CAP_CONFIG_OPTION_TYPE_RETRANSMISSION_AND_FLOW_CONTROL;
  buf[pos + 1] = 9;
  buf[pos + 2] = mode & 0xff;
  buf[pos + 3] = tx_window_size & 0xff;
  buf[pos + 4] = max_transmit & 0xff;
  little_endian_store_16(buf, pos + 5, retransmission_timeout);
  little_endian_store_16(buf, pos + 7, monitor_timeout);
  little_endian_store_16(buf, pos + 9, mps);
  return 11;
}

export function l2cap_config_option_write_fcs(buf: Uint8Array, pos: number, fcs: number): number {
  if (!room(buf, pos, 3)) return -1;
  buf[pos] = L2CAP_CONFIG_OPTION_TYPE_FRAME_CHECK_SEQUENCE;
  buf[pos + 1] = 1;
  buf[pos + 2] = fcs & 0xff;
  return 3;
}

export function l2cap_config_option_write_efs(
  buf: Uint8Array,
  pos: number,
  identifier: number,
  service_type: number,
  max_sdu_size: number,
  sdu_inter_arrival_time: number,
  access_latency: number,
  flush_timeout: number,
): number {
  if (!room(buf, pos, 18)) return -1;
  buf[pos] = L2CAP_CONFIG_OPTION_TYPE_EXTENDED_FLOW_SPECIFICATION;
  buf[pos + 1] = 16;
  buf[pos + 2] = identifier & 0xff;
  buf[pos + 3] = service_type & 0xff;
  little_endian_store_16(buf, pos + 4, max_sdu_size);
  little_endian_store_32(buf, pos + 6, sdu_inter_arrival_time);
  little_endian_store_32(buf, pos + 10, access_latency);
  little_endian_store_32(buf, pos + 14, flush_timeout);
  return 18;
}

export function l2cap_config_option_write_extended_window_size(buf: Uint8Array, pos: number, size: number): number {
  if (!room(buf, pos, 4)) return -1;
  buf[pos] = L2CAP_CONFIG_OPTION_TYPE_EXTENDED_WINDOW_SIZE;
  buf[pos + 1] = 2;
  little_endian_store_16(buf, pos + 2, size);
  return 4;
}

/** Bytes l2cap_config_options_write will produce for `opts`. */
export function l2cap_config_options_size(opts: L2capConfigOptions): number {
  let n = 0;
  for (let t = 1; t < OPTION_LENGTH.length; t++) if (opts.present & (1 << t)) n += 2 + OPTION_LENGTH[t]!;
  return n;
}

/**
 * Write every option present in `opts`, in type order; returns bytes written (0 for none) or -1
 * when buf is too small (nothing useful is written then).
 */
export function l2cap_config_options_write(buf: Uint8Array, pos: number, opts: L2capConfigOptions): number {
  if (!room(buf, pos, l2cap_config_options_size(opts))) return -1;
  let p = pos;
  const o = opts;
  if (o.present & L2CAP_CONFIG_HAS_MTU) p += l2cap_config_option_write_mtu(buf, p, o.mtu);
  if (o.present & L2CAP_CONFIG_HAS_FLUSH_TIMEOUT) p += l2cap_config_option_write_flush_timeout(buf, p, o.flush_timeout);
  if (o.present & L2CAP_CONFIG_HAS_QOS)
    p += l2cap_config_option_write_qos(
      buf,
      p,
      o.qos_flags,
      o.qos_service_type,
      o.qos_token_rate,
      o.qos_token_bucket_size,
      o.qos_peak_bandwidth,
      o.qos_latency,
      o.qos_delay_variation,
    );
  if (o.present & L2CAP_CONFIG_HAS_RFC)
    p += l2cap_config_option_write_rfc(
      buf,
      p,
      o.mode,
      o.tx_window_size,
      o.max_transmit,
      o.retransmission_timeout,
      o.monitor_timeout,
      o.mps,
    );
  if (o.present & L2CAP_CONFIG_HAS_FCS) p += l2cap_config_option_write_fcs(buf, p, o.fcs);
  if (o.present & L2CAP_CONFIG_HAS_EFS)
    p += l2cap_config_option_write_efs(
      buf,
      p,
      o.efs_identifier,
      o.efs_service_type,
      o.efs_max_sdu_size,
      o.efs_sdu_inter_arrival_time,
      o.efs_access_latency,
      o.efs_flush_timeout,
    );
  if (o.present & L2CAP_CONFIG_HAS_EWS) p += l2cap_config_option_write_extended_window_size(buf, p, o.extended_window_size);
  return p - pos;
}

/**
 * Bytes taken by the unrecognised non-hint options in src[off, off+len) (what
 * l2cap_config_options_copy_unknown writes). Stops at the first truncated option.
 */
export function l2cap_config_unknown_options_size(src: Uint8Array, off: number, len: number): number {
  let n = 0;
  let pos = off;
  const end = Math.min(off + len, src.length);
  while (end - pos >= 2) {
    const type = src[pos]!;
    const next = pos + 2 + src[pos + 1]!;
    if (next > end) break;
    if (l2cap_config_option_length(type) === 0 && !(type & L2CAP_CONFIG_OPTION_HINT)) n += next - pos;
    pos = next;
  }
  return n;
}

/**
 * Copy the unrecognised non-hint options of src[off, off+len) to dst[dpos] as complete options
 * (type, length, data), for a Configuration Response with result Unknown Options. Listing the
 * whole option keeps the Config field in option format, which is what protocol analysers
 * (Wireshark's btl2cap) decode; the option type octets the spec requires are included.
 * Returns bytes written or -1 when dst is too small.
 */
export function l2cap_config_options_copy_unknown(
  src: Uint8Array,
  off: number,
  len: number,
  dst: Uint8Array,
  dpos: number,
): number {
  if (!room(dst, dpos, l2cap_config_unknown_options_size(src, off, len))) return -1;
  let p = dpos;
  let pos = off;
  const end = Math.min(off + len, src.length);
  while (end - pos >= 2) {
    const type = src[pos]!;
    const next = pos + 2 + src[pos + 1]!;
    if (next > end) break;
    if (l2cap_config_option_length(type) === 0 && !(type & L2CAP_CONFIG_OPTION_HINT)) {
      for (let i = pos; i < next; i++) dst[p++] = src[i]!;
    }
    pos = next;
  }
  return p - dpos;
}

/** Why a configuration request gets the answer it gets. */
export type L2capConfigProblem =
  | 'none'
  | 'truncated-option'
  | 'bad-option-length'
  | 'unknown-options'
  | 'mtu-below-minimum'
  | 'unsupported-mode'
  | 'mtu-below-minimum+unsupported-mode';

/**
 * The answer a Configuration Request must get (reusable; filled by l2cap_config_request_answer).
 * Encode it with l2cap_sig_configure_response_answer (signaling.ts).
 */
export class L2capConfigAnswer {
  /** L2CAP_CONF_RESULT_* for the Configuration Response. */
  result!: number;
  problem!: L2capConfigProblem;
  /** Options to put in the response (for unacceptable parameters: the acceptable values). */
  readonly options = new L2capConfigOptions();
  /** Echo the unrecognised non-hint options of the request (result Unknown Options). */
  echo_unknown!: boolean;

  constructor() {
    this.clear();
  }

  clear(): this {
    this.result = L2CAP_CONF_RESULT_SUCCESS;
    this.problem = 'none';
    this.options.clear();
    this.echo_unknown = false;
    return this;
  }
}

/**
 * Decide the answer to a (complete) configuration request whose options were parsed into `opts`
 * with outcome `parse`. Precedence: unparseable -> Rejected; unknown non-hint options -> Unknown
 * Options (nothing else is judged until the peer drops them); otherwise MTU below 48 and/or a mode
 * other than `channel_mode` (default Basic) -> Unacceptable Parameters with MTU 48 and/or an RFC
 * option proposing `channel_mode` (its other fields 0: the ERTM layer fills them); otherwise Success
 * with no options (every value accepted as sent; for ERTM / streaming the caller adds the RFC
 * option). Flush timeout, QoS, FCS, Extended Flow Spec and Extended Window Size are accepted as
 * sent. Returns `answer`.
 */
export function l2cap_config_request_answer(
  opts: L2capConfigOptions,
  parse: L2capConfigParse,
  answer: L2capConfigAnswer,
  channel_mode: number = L2CAP_CHANNEL_MODE_BASIC,
): L2capConfigAnswer {
  answer.clear();
  if (parse !== 'ok') {
    answer.result = L2CAP_CONF_RESULT_REJECT;
    answer.problem = parse;
    return answer;
  }
  if (opts.unknown_count > 0) {
    answer.result = L2CAP_CONF_RESULT_UNKNOWN_OPTIONS;
    answer.problem = 'unknown-options';
    answer.echo_unknown = true;
    return answer;
  }
  const small_mtu = (opts.present & L2CAP_CONFIG_HAS_MTU) !== 0 && opts.mtu < L2CAP_MINIMAL_MTU;
  const asked = (opts.present & L2CAP_CONFIG_HAS_RFC) !== 0 ? opts.mode : L2CAP_CHANNEL_MODE_BASIC;
  const bad_mode = asked !== channel_mode;
  if (small_mtu || bad_mode) {
    answer.result = L2CAP_CONF_RESULT_UNACCEPTABLE_PARAMETERS;
    if (small_mtu) answer.options.set_mtu(L2CAP_MINIMAL_MTU);
    if (bad_mode) answer.options.set_rfc(channel_mode);
    answer.problem =
      small_mtu && bad_mode ? 'mtu-below-minimum+unsupported-mode' : small_mtu ? 'mtu-below-minimum' : 'unsupported-mode';
    return answer;
  }
  return answer;
}
