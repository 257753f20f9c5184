/**
 * The records the RFCOMM layer keeps, all pooled and reused (BTstack's rfcomm_service_t,
 * rfcomm_multiplexer_t and rfcomm_channel_t), with their states and pending-work flags.
 *
 * State numbers follow BTstack's RFCOMM_MULTIPLEXER_* / RFCOMM_CHANNEL_* (internal, listed in
 * the code tables); the two multiplexer states for our own close-down (DISC on DLCI 0) are added.
 */
import { Timer } from '../core/run-loop.js';
import { RFCOMM_MAX_INFORMATION_SIZE } from './frames.js';
import type { RfcommMuxCommand, RfcommPn, RfcommRpn } from './mux-commands.js';

/** BTstack's btstack_packet_handler_t, as RFCOMM's applications get it. */
export type RfcommPacketHandler = (packet_type: number, channel: number, packet: Uint8Array, size: number) => void;

// ---- multiplexer states
export const MUX_CLOSED = 1;
/** Outgoing: the L2CAP channel is being opened. */
export const MUX_W4_CONNECT = 2;
export const MUX_SEND_SABM_0 = 3;
export const MUX_W4_UA_0 = 4;
/** Incoming: waiting for the initiator's SABM on DLCI 0. */
export const MUX_W4_SABM_0 = 5;
export const MUX_SEND_UA_0 = 6;
export const MUX_OPEN = 7;
/** The peer sent DISC on DLCI 0: answer UA, then close L2CAP. */
export const MUX_SEND_UA_0_AND_DISC = 8;
/** Channels finalized; the L2CAP channel is being closed. */
export const MUX_SHUTTING_DOWN = 9;
/** Idle: close down with DISC on DLCI 0. */
export const MUX_SEND_DISC_0 = 10;
export const MUX_W4_UA_0_AFTER_DISC = 11;

/** Multiplexer state names for the transition log (index: state number). */
export const MUX_STATE_NAMES: readonly string[] = [
  '?',
  'CLOSED',
  'W4_CONNECT',
  'SEND_SABM_0',
  'W4_UA_0',
  'W4_SABM_0',
  'SEND_UA_0',
  'OPEN',
  'SEND_UA_0_AND_DISC',
  'SHUTTING_DOWN',
  'SEND_DISC_0',
  'W4_UA_0_AFTER_DISC',
];

// ---- channel (DLC) states
export const CH_CLOSED = 1;
export const CH_W4_MULTIPLEXER = 2;
export const CH_SEND_UIH_PN = 3;
export const CH_W4_PN_RSP = 4;
export const CH_SEND_SABM_W4_UA = 5;
export const CH_W4_UA = 6;
/** Incoming: waiting for the application's accept/decline and the peer's PN/SABM. */
export const CH_INCOMING_SETUP = 7;
/** DLC established (SABM/UA done): exchanging MSC and initial credits. */
export const CH_DLC_SETUP = 8;
export const CH_OPEN = 9;
export const CH_SEND_UA_AFTER_DISC = 10;
export const CH_SEND_DISC = 11;
export const CH_W4_UA_AFTER_DISC = 12;
export const CH_SEND_DM = 13;

/** Channel (DLC) state names for the transition log (index: state number). */
export const CH_STATE_NAMES: readonly string[] = [
  '?',
  'CLOSED',
  'W4_MULTIPLEXER',
  'SEND_UIH_PN',
  'W4_PN_RSP',
  'SEND_SABM_W4_UA',
  'W4_UA',
  'INCOMING_SETUP',
  'DLC_SETUP',
  'OPEN',
  'SEND_UA_AFTER_DISC',
  'SEND_DISC',
  'W4_UA_AFTER_DISC',
  'SEND_DM',
];

// ---- channel flags (RfcommChannel.flags)
export const F_ACCEPTED = 1 << 0;
export const F_RCVD_PN = 1 << 1;
export const F_RCVD_SABM = 1 << 2;
export const F_SEND_PN_RSP = 1 << 3;
export const F_SEND_UA = 1 << 4;
export const F_SEND_MSC_CMD = 1 << 5;
export const F_SENT_MSC_CMD = 1 << 6;
export const F_RCVD_MSC_RSP = 1 << 7;
export const F_SEND_MSC_RSP = 1 << 8;
export const F_SEND_CREDITS = 1 << 9;
export const F_SENT_CREDITS = 1 << 10;
export const F_SEND_RPN_RSP = 1 << 11;
export const F_SEND_RPN_QUERY = 1 << 12;
export const F_SEND_RPN_CONFIG = 1 << 13;
export const F_SEND_RLS_RSP = 1 << 14;
export const F_SEND_RLS_CMD = 1 << 15;
/** Application modem status (rfcomm_send_modem_status) to send once the DLC is open. */
export const F_SEND_MSC_APP = 1 << 16;
/** PN exchanged with the convergence layer 0xF0/0xE0: credit-based flow control on this DLC. */
export const F_CREDIT_FLOW = 1 << 17;
/** The peer set FC in its MSC (only meaningful without credit-based flow control). */
export const F_REMOTE_FC = 1 << 18;
/** The channel was created for a registered service (RFCOMM_EVENT_CHANNEL_OPENED incoming = 1). */
export const F_INCOMING = 1 << 19;
/**
 * No credit-based flow control and the hold buffer (data before RFCOMM_EVENT_CHANNEL_OPENED) is
 * nearly full: our MSC carries FC = 1 (TS 07.10 5.4.6.3.7) until the channel is open.
 */
export const F_HOLD_FC = 1 << 20;

/** Flags that mean "a frame is waiting to be sent for this channel". */
export const F_ANY_SEND =
  F_SEND_PN_RSP |
  F_SEND_UA |
  F_SEND_MSC_CMD |
  F_SEND_MSC_RSP |
  F_SEND_CREDITS |
  F_SEND_RPN_RSP |
  F_SEND_RPN_QUERY |
  F_SEND_RPN_CONFIG |
  F_SEND_RLS_RSP |
  F_SEND_RLS_CMD |
  F_SEND_MSC_APP;

/**
 * Frames held per DLC before RFCOMM_EVENT_CHANNEL_OPENED at most (hold.ts), and so the credits
 * granted before it at most (the initial credits beyond this follow once the channel is open).
 */
export const RFCOMM_HOLD_FRAMES = 10; // BTstack's RFCOMM_CREDITS: automatic channels are unchanged

/** Credits that may still be granted before the channel is open (credit-based flow control). */
export function preOpenRoom(ch: RfcommChannel): number {
  return Math.max(0, RFCOMM_HOLD_FRAMES - ch.credits_incoming - ch.hold_count);
}

/** V.24 signals BTstack sends in its MSC: EA=1, FC=0, RTC=1, RTR=1, IC=0, DV=1. */
export const RFCOMM_DEFAULT_MODEM_STATUS = 0x8d;
/** Test pattern octets kept for the echo (longer patterns are answered truncated, as BTstack does). */
export const RFCOMM_TEST_DATA_MAX_LEN = 127;
/** Unsupported command types remembered for NSC answers per multiplexer; more are dropped (logged). */
export const RFCOMM_NSC_QUEUE_SIZE = 4;
/** Largest outgoing credit count kept (a peer granting more is clamped, never wrapped). */
export const RFCOMM_MAX_OUTGOING_CREDITS = 0xffff;
/** Octets of RPN port settings (rfcomm_rpn_data_t). */
export const RFCOMM_RPN_DATA_LEN = 7;

/** BTstack's default port settings: 9600 baud, 8N1, no flow control, XON 0xD1, XOFF 0xD3, all masks set. */
export function rpn_set_defaults(rpn: Uint8Array): void {
  rpn[0] = 0x03; // RPN_BAUD_9600
  rpn[1] = 0x03; // 8 data bits, 1 stop bit, no parity
  rpn[2] = 0x00;
  rpn[3] = 0xd1;
  rpn[4] = 0xd3;
  rpn[5] = 0x7f;
  rpn[6] = 0x3f;
}

export class RfcommService {
  handler: RfcommPacketHandler | null = null;
  server_channel = 0;
  max_frame_size = 0;
  /** Manual credits (rfcomm_register_service_with_initial_credits). */
  incoming_flow_control = false;
  initial_credits = 0;

  reset(): void {
    this.handler = null;
    this.server_channel = this.max_frame_size = this.initial_credits = 0;
    this.incoming_flow_control = false;
  }
}

export class RfcommMultiplexer {
  /** Bumped on every reuse: stale references compare it. */
  generation = 0;
  state = MUX_CLOSED;
  readonly addr = new Uint8Array(6);
  con_handle = 0xffff;
  /** 0 while unknown (outgoing channel being created). */
  l2cap_cid = 0;
  l2cap_open = false;
  /** We sent the SABM on DLCI 0 (TS 07.10 initiator): C/R and the direction bit depend on it. */
  initiator = false;
  /** Largest information field that fits both L2CAP MTUs (5 octets of frame overhead). */
  max_frame_size = 0;
  /** Aggregate flow: false after the peer's FCoff. */
  fcon = true;
  /** 0: nothing; 1: send FCon response; 2: send FCoff response. */
  fc_response = 0;
  /** DLCIs to answer with DM (bit i of lo: DLCI i; of hi: DLCI 32 + i). */
  dm_lo = 0;
  dm_hi = 0;
  /** The F bit of each queued DM (same bit layout): set unless it answers a frame with P = 0. */
  dm_f_lo = 0;
  dm_f_hi = 0;
  readonly nsc = new Uint8Array(RFCOMM_NSC_QUEUE_SIZE);
  nsc_count = 0;
  readonly test_data = new Uint8Array(RFCOMM_TEST_DATA_MAX_LEN);
  /** -1: no Test response pending. */
  test_len = -1;
  /** RPN for a DLCI of a registered service without a channel yet: answer with these settings. */
  rpn_dlci = -1;
  readonly rpn_data = new Uint8Array(RFCOMM_RPN_DATA_LEN);
  /** Idle / response timer. */
  readonly timer: Timer;
  /** Next channel index for round-robin can-send-now among this multiplexer's channels. */
  rr = 0;
  /** Inside the CAN_SEND_NOW handler (re-entrant events set token_again instead). */
  busy = false;
  token_again = false;

  constructor() {
    this.timer = new Timer(null, this);
  }

  reset(): void {
    this.generation++;
    this.state = MUX_CLOSED;
    this.addr.fill(0);
    this.con_handle = 0xffff;
    this.l2cap_cid = 0;
    this.l2cap_open = false;
    this.initiator = false;
    this.max_frame_size = 0;
    this.fcon = true;
    this.fc_response = 0;
    this.dm_lo = this.dm_hi = this.dm_f_lo = this.dm_f_hi = 0;
    this.nsc_count = 0;
    this.test_len = -1;
    this.rpn_dlci = -1;
    this.rr = 0;
    this.busy = false;
    this.token_again = false;
  }

  /**
   * Answer `dlci` with DM. `final`: the DM's F bit; a second DM queued for the same DLCI before
   * the first went out keeps F = 1 if either asked for it.
   */
  queueDm(dlci: number, final = true): void {
    if (dlci < 32) {
      const m = 1 << dlci;
      this.dm_f_lo = (this.dm_lo & m ? this.dm_f_lo : this.dm_f_lo & ~m) | (final ? m : 0);
      this.dm_lo |= m;
    } else {
      const m = 1 << (dlci - 32);
      this.dm_f_hi = (this.dm_hi & m ? this.dm_f_hi : this.dm_f_hi & ~m) | (final ? m : 0);
      this.dm_hi |= m;
    }
  }

  /** Lowest DLCI waiting for a DM, removing it; -1 when none. `dmFinal` then holds its F bit. */
  takeDm(): number {
    if (this.dm_lo) {
      const bit = 31 - Math.clz32(this.dm_lo & -this.dm_lo);
      this.dm_lo &= ~(1 << bit);
      this.dmFinal = (this.dm_f_lo & (1 << bit)) !== 0;
      return bit;
    }
    if (this.dm_hi) {
      const bit = 31 - Math.clz32(this.dm_hi & -this.dm_hi);
      this.dm_hi &= ~(1 << bit);
      this.dmFinal = (this.dm_f_hi & (1 << bit)) !== 0;
      return 32 + bit;
    }
    return -1;
  }

  /** F bit of the DLCI takeDm returned last. */
  dmFinal = true;

  hasMuxWork(): boolean {
    if (this.dm_lo || this.dm_hi || this.nsc_count || this.fc_response || this.test_len >= 0 || this.rpn_dlci >= 0) return true;
    const s = this.state;
    return s === MUX_SEND_SABM_0 || s === MUX_SEND_UA_0 || s === MUX_SEND_UA_0_AND_DISC || s === MUX_SEND_DISC_0;
  }
}

export class RfcommChannel {
  generation = 0;
  rfcomm_cid = 0;
  dlci = 0;
  server_channel = 0;
  mux: RfcommMultiplexer | null = null;
  handler: RfcommPacketHandler | null = null;
  state = CH_CLOSED;
  flags = 0;
  /** Manual credit management (the *_with_initial_credits variants). */
  incoming_flow_control = false;
  /** Credits the peer may still use to send to us. */
  credits_incoming = 0;
  /** Credits still to grant (initial remainder, automatic refill, rfcomm_grant_credits). */
  new_credits_incoming = 0;
  /** Credits we may use to send. */
  credits_outgoing = 0;
  max_frame_size = 0;
  priority = 0;
  waiting_for_can_send_now = false;
  /** MSC signals to echo in our MSC response. */
  msc_rsp = 0;
  /** Application modem status to send. */
  msc_app = RFCOMM_DEFAULT_MODEM_STATUS;
  /** Line status to echo in our RLS response / to send in an RLS command. */
  rls_rsp = 0;
  rls_cmd = 0;
  /** Local port settings (what we answer to RPN). */
  readonly rpn_local = new Uint8Array(RFCOMM_RPN_DATA_LEN);
  /** Our RPN response value (settings + accepted masks). */
  readonly rpn_rsp = new Uint8Array(RFCOMM_RPN_DATA_LEN);
  /** Settings to send with rfcomm_send_port_configuration. */
  readonly rpn_cfg = new Uint8Array(RFCOMM_RPN_DATA_LEN);
  /** Response timer (PN, SABM, MSC, DISC). */
  readonly timer: Timer;
  /**
   * Data that arrived before RFCOMM_EVENT_CHANNEL_OPENED, frames one after the other as a 2-octet
   * length and the data (hold.ts). Made on first use, grown only when a DLC needs more than any
   * before it (bounded: RFCOMM_HOLD_FRAMES frames of the DLC's max frame size), and kept with the
   * pooled record, so an open channel never allocates.
   */
  hold: Uint8Array | null = null;
  /** Octets of `hold` in use. */
  hold_len = 0;
  /** Frames in `hold`. */
  hold_count = 0;

  constructor() {
    this.timer = new Timer(null, this);
    rpn_set_defaults(this.rpn_local);
  }

  reset(): void {
    this.generation++;
    this.rfcomm_cid = this.dlci = this.server_channel = 0;
    this.mux = null;
    this.handler = null;
    this.state = CH_CLOSED;
    this.flags = 0;
    this.incoming_flow_control = false;
    this.credits_incoming = this.new_credits_incoming = this.credits_outgoing = 0;
    this.max_frame_size = this.priority = 0;
    this.waiting_for_can_send_now = false;
    this.msc_rsp = 0;
    this.msc_app = RFCOMM_DEFAULT_MODEM_STATUS;
    this.rls_rsp = this.rls_cmd = 0;
    rpn_set_defaults(this.rpn_local);
    this.rpn_rsp.fill(0);
    this.rpn_cfg.fill(0);
    this.hold_len = this.hold_count = 0;
  }

  has(f: number): boolean {
    return (this.flags & f) !== 0;
  }
  set(f: number): void {
    this.flags |= f;
  }
  clear(f: number): void {
    this.flags &= ~f;
  }

  /** Work for this channel's own state machine (not the application's CAN_SEND_NOW). */
  hasWork(): boolean {
    switch (this.state) {
      case CH_SEND_UIH_PN:
      case CH_SEND_SABM_W4_UA:
      case CH_SEND_UA_AFTER_DISC:
      case CH_SEND_DISC:
      case CH_SEND_DM:
        return true;
      case CH_W4_MULTIPLEXER:
      case CH_CLOSED:
        return false;
      default:
        break;
    }
    if (this.flags & F_ANY_SEND) return true;
    if (this.new_credits_incoming === 0 || !this.has(F_CREDIT_FLOW)) return false;
    return this.state === CH_OPEN || (this.state === CH_DLC_SETUP && preOpenRoom(this) > 0);
  }
}

// ---- pure helpers (frame sizes, PN and RPN values)

/** Octets of an RFCOMM frame around the information field when no credit octet is sent. */
export const RFCOMM_FRAME_OVERHEAD = 5;

/** Largest information field for an L2CAP MTU: address, control, two length octets and FCS around it. */
export function frameSizeForMtu(mtu: number): number {
  return Math.max(1, Math.min(RFCOMM_MAX_INFORMATION_SIZE, mtu - RFCOMM_FRAME_OVERHEAD));
}

export function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new TypeError(`RFCOMM: ${name} must be an integer 0-255, got ${String(v)}`);
}

export function fillPn(pn: RfcommPn, dlci: number, cl: number, priority: number, max_frame_size: number, credits: number): void {
  pn.dlci = dlci;
  pn.cl = cl;
  pn.priority = priority;
  pn.ack_timer = 0;
  pn.max_frame_size = max_frame_size;
  pn.max_retransmissions = 0;
  pn.credits = credits;
}

export function rpnFromCommand(out: Uint8Array, cmd: RfcommMuxCommand): void {
  out[0] = cmd.baud_rate;
  out[1] = cmd.flags;
  out[2] = cmd.flow_control;
  out[3] = cmd.xon;
  out[4] = cmd.xoff;
  out[5] = cmd.parameter_mask_0;
  out[6] = cmd.parameter_mask_1;
}

export function rpnToStruct(out: RfcommRpn, d: Uint8Array): void {
  out.baud_rate = d[0]!;
  out.flags = d[1]!;
  out.flow_control = d[2]!;
  out.xon = d[3]!;
  out.xoff = d[4]!;
  out.parameter_mask_0 = d[5]!;
  out.parameter_mask_1 = d[6]!;
}

/**
 * Apply the settings of an RPN command whose parameter-mask bits are set (TS 07.10 5.4.6.3.9):
 * mask 0 bit 0 baud, 1 data bits, 2 stop bits, 3 parity, 4 parity type, 5 XON, 6 XOFF; mask 1
 * bits 0-5 the flow-control bits of the same number. The masks are kept (the response carries them).
 */
export function rpnUpdate(dst: Uint8Array, src: Uint8Array): void {
  const m0 = src[5]!;
  const m1 = src[6]!;
  if (m0 & 0x01) dst[0] = src[0]!;
  let flags = dst[1]!;
  if (m0 & 0x02) flags = (flags & ~0x03) | (src[1]! & 0x03);
  if (m0 & 0x04) flags = (flags & ~0x04) | (src[1]! & 0x04);
  if (m0 & 0x08) flags = (flags & ~0x08) | (src[1]! & 0x08);
  if (m0 & 0x10) flags = (flags & ~0x30) | (src[1]! & 0x30);
  dst[1] = flags;
  dst[2] = (dst[2]! & ~(m1 & 0x3f)) | (src[2]! & m1 & 0x3f);
  if (m0 & 0x20) dst[3] = src[3]!;
  if (m0 & 0x40) dst[4] = src[4]!;
  dst[5] = m0;
  dst[6] = m1;
}
