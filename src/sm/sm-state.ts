/**
 * The Security Manager's state record (docs/ARCHITECTURE.md 2a): settings (sm_set_*), the event
 * handlers, the le device db, our keys, and one SmConnection per LE connection (BTstack's
 * sm_connection_t + sm_setup_context_t, from the fixed pool `sm_connections` of
 * MAX_NR_HCI_CONNECTIONS) with the one state-change function. No protocol logic here.
 */
import type { ResolvingListSource } from '../hci/gap-le-privacy.js';
import { randomBytes } from 'node:crypto';
import { Timer, type RunLoop } from '../core/run-loop.js';
import type { Logger } from '../core/log.js';
import type { Pool } from '../core/pool.js';
import { RegistrationList, type EventOut } from '../core/event-out.js';
import { bd_addr_to_str, type BdAddr } from '../core/bytes.js';
import type { Codes } from '../codes/index.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import type { HciLeSecurity } from '../hci/hci-le-security.js';
import type { BtstackPacketCallbackRegistration } from '../hci/hci-service.js';
import type { L2capFixedChannelService } from '../l2cap/l2cap-fixed-service.js';
import type { LeDeviceDb } from './le-device-db.js';
import type { SmP256KeyPair } from './p256.js';
import type { SmOobDataCallback, SmScOobDataCallback } from './sm-oob.js';

/** What the SM needs from HCI (BTstack names): events, commands, the link's LE security record. */
export interface SmHci {
  hci_add_event_handler(registration: BtstackPacketCallbackRegistration): void;
  hci_remove_event_handler?(registration: BtstackPacketCallbackRegistration): void;
  hci_send_cmd(cmd: HciCommand, ...args: HciArg[]): number;
  hci_connection_for_handle(con_handle: number): {
    readonly le_sec: HciLeSecurity;
    identity_addr?: BdAddr | null;
    identity_addr_type?: number;
    /** BR/EDR links (sm-br-edr.ts): HCI role (0 central), the link key (as on HCI) and its type. */
    readonly role?: number;
    readonly sec?: { readonly link_key: Uint8Array; readonly link_key_type: number };
  } | null;
  readonly gap: {
    gap_le_get_own_address(): { addr_type: number; addr: BdAddr };
    /** The BR/EDR link key store (dual-mode stacks): where CTKD puts the key derived from an LE SC LTK (sm-keys.ts). */
    gap_store_link_key_for_bd_addr?(addr: BdAddr, link_key: Uint8Array, type: number): void;
    /** Privacy (optional: test fakes lack them): the random address mode, our public address, GAP's RPA source. */
    gap_random_address_get_mode?(): number;
    gap_local_bd_addr?(): BdAddr;
    le_set_resolvable_address_source?(source: (() => BdAddr) | null): void;
    /** The controller's resolving list (gap-le-privacy.ts): our db and IRK, bonds stored / deleted. */
    le_set_resolving_list_source?(source: ResolvingListSource | null): void;
    hci_load_le_device_db_entry_into_resolving_list?(index: number): void;
    hci_remove_le_device_db_entry_from_resolving_list?(index: number): void;
  };
}

/** Association models (Vol 3 Part H 2.3.5.1). PK_INIT_INPUT: the initiator types what the responder shows. */
export type SmMethod = 'JW' | 'NC' | 'PK_INIT_INPUT' | 'PK_RESP_INPUT' | 'PK_BOTH_INPUT' | 'OOB';

/** Where a connection's SMP procedure stands. */
export type SmPhase =
  | 'IDLE'
  | 'W4_PAIRING_RESPONSE'
  | 'W4_PUBLIC_KEY'
  | 'W4_CONFIRM'
  | 'W4_RANDOM'
  | 'W4_DHKEY_CHECK'
  | 'W4_LTK_REQUEST'
  | 'W4_ENCRYPTION'
  | 'W4_KEYS'
  | 'REENCRYPTING'
  | 'BR_W4_FIXED_CHANNEL'
  | 'TIMEOUT';

export type SmUserState = 'NONE' | 'PENDING' | 'CONFIRMED' | 'DECLINED';

/** Keys the peer distributed in phase 3 (held until pairing completes, then stored when bonding). */
export class SmPeerKeys {
  ltk: Uint8Array | null = null;
  ediv = 0;
  rand: Uint8Array | null = null;
  irk: Uint8Array | null = null;
  identity_addr_type = -1;
  identity_addr: BdAddr | null = null;
  csrk: Uint8Array | null = null;

  reset(): void {
    this.ltk = this.rand = this.irk = this.identity_addr = this.csrk = null;
    this.ediv = 0;
    this.identity_addr_type = -1;
  }
}

/** The SM's fixed channels: LE (0x0006) and BR/EDR (0x0007, sm-br-edr.ts). */
export const SM_CID_LE = 0x0006;
export const SM_CID_BR_EDR = 0x0007;

export class SmConnection {
  con_handle = 0;
  /** A BR/EDR link (SMP over BR/EDR on 0x0007, sm-br-edr.ts), else LE. */
  classic = false;
  /** The fixed channel SMP runs on. */
  cid = SM_CID_LE;
  /** BR/EDR: a Simple Pairing Complete (success) since the last CTKD: a new link key to derive from. */
  ssp_done = false;
  /** 0 central (initiator), 1 peripheral (responder). */
  role = 0;
  peer_addr_type = 0;
  peer_addr: BdAddr = new Uint8Array(6);
  /** The peer's RPA when the controller resolved it (peer_addr_type 0x02 / 0x03): the address the pairing functions use. */
  peer_rpa: BdAddr | null = null;
  local_addr_type = 0;
  local_addr: BdAddr = new Uint8Array(6);
  phase: SmPhase = 'IDLE';
  /** Pairing started (PAIRING_STARTED sent, PAIRING_COMPLETE owed). */
  pairing = false;
  /** The link is encrypted (Encryption Change on). */
  encrypted = false;
  /**
   * Central: re-encryption with our bond failed on this link (BTstack's SM_GENERAL_REENCRYPTION_FAILED):
   * sm_request_pairing pairs instead of trying the stored LTK again.
   */
  reencryption_failed = false;
  /** le device db index of this peer's bond, -1 none. */
  db_index = -1;
  /** The peer's identity address once its bond is known (resolved or paired), else null (sm-privacy.ts). */
  identity_addr: BdAddr | null = null;
  identity_addr_type = 0;

  // ---- pairing setup (phase 1 and 2)
  /** Pairing Request / Response as on the wire (7 octets each). */
  readonly preq = new Uint8Array(7);
  readonly pres = new Uint8Array(7);
  sc = false;
  method: SmMethod = 'JW';
  key_size = 16;
  bonding = false;
  /** Negotiated key distribution (initiator's, responder's). */
  init_dist = 0;
  resp_dist = 0;
  user: SmUserState = 'NONE';
  passkey = 0;
  /** Passkey known (displayed, or entered by the user). */
  passkey_ready = false;
  /** TK (legacy) MSB first. */
  readonly tk = new Uint8Array(16);
  /** Our nonce / random for this round, MSB first. */
  local_random: Uint8Array = new Uint8Array(16);
  peer_confirm: Uint8Array | null = null;
  peer_random: Uint8Array | null = null;
  /** SC: the peer's public key (X || Y MSB first), DHKey, MacKey, LTK. */
  peer_pk: Uint8Array | null = null;
  dhkey: Uint8Array | null = null;
  mac_key: Uint8Array | null = null;
  /** The key the link is (to be) encrypted with: STK (legacy) or LTK (SC); MSB first, shortened to key_size. */
  readonly key = new Uint8Array(16);
  /** SC Passkey Entry: the round (0..19). */
  passkey_round = 0;
  /** A DHKey Check received before the user confirmed (responder), MSB first. */
  peer_dhkey_check: Uint8Array | null = null;
  /** Our confirm value of this round is sent (the initiator's comes first). */
  local_confirm_sent = false;
  /** Initiator: Ea sent. */
  dhkey_check_sent = false;
  /** Numeric comparison / passkey value shown to the user. */
  display_value = 0;
  /** OOB (sm-oob.ts): legacy TK, the peer's SC confirm / random from the application; SC ra / rb. */
  oob_tk: Uint8Array | null = null;
  oob_peer_confirm: Uint8Array | null = null;
  oob_peer_random: Uint8Array | null = null;
  oob_ra: Uint8Array | null = null;
  oob_rb: Uint8Array | null = null;
  /** CTKD (2.4.2.4): the Link Key bit agreed in an SC pairing; ct2: both set CT2 (h7 instead of h6 for the ILK). */
  ctkd = false;
  readonly peer_keys = new SmPeerKeys();
  /** Key distribution bits we still expect from the peer. */
  keys_expected = 0;
  /** Our keys are sent (phase 3). */
  keys_sent = false;
  /** Our legacy LTK / EDIV / Rand distributed in this pairing. */
  local_ltk: Uint8Array | null = null;
  local_ediv = 0;
  local_rand: Uint8Array | null = null;

  /** PDUs waiting for can-send-now (bounded: SM_OUT_MAX). */
  readonly out: Uint8Array[] = [];
  /** The SMP timer (30 s, Vol 3 Part H 3.4). */
  readonly timer = new Timer();

  reset(): void {
    this.con_handle = 0;
    this.classic = false;
    this.cid = SM_CID_LE;
    this.ssp_done = false;
    this.role = 0;
    this.peer_addr_type = 0;
    this.peer_addr = new Uint8Array(6);
    this.peer_rpa = null;
    this.local_addr_type = 0;
    this.local_addr = new Uint8Array(6);
    this.phase = 'IDLE';
    this.pairing = false;
    this.encrypted = false;
    this.reencryption_failed = false;
    this.db_index = -1;
    this.identity_addr = null;
    this.identity_addr_type = 0;
    this.out.length = 0;
    this.timer.context = null;
    this.reset_setup();
  }

  /** Forget everything of the current / last pairing. */
  reset_setup(): void {
    this.preq.fill(0);
    this.pres.fill(0);
    this.sc = false;
    this.method = 'JW';
    this.key_size = 16;
    this.bonding = false;
    this.init_dist = this.resp_dist = 0;
    this.user = 'NONE';
    this.passkey = 0;
    this.passkey_ready = false;
    this.tk.fill(0);
    this.local_random = new Uint8Array(16);
    this.peer_confirm = this.peer_random = this.peer_pk = this.dhkey = this.mac_key = null;
    this.key.fill(0);
    this.passkey_round = 0;
    this.peer_dhkey_check = null;
    this.local_confirm_sent = false;
    this.dhkey_check_sent = false;
    this.display_value = 0;
    this.oob_tk = this.oob_peer_confirm = this.oob_peer_random = this.oob_ra = this.oob_rb = null;
    this.ctkd = false;
    this.peer_keys.reset();
    this.keys_expected = 0;
    this.keys_sent = false;
    this.local_ltk = this.local_rand = null;
    this.local_ediv = 0;
  }
}

/** At most this many SMP PDUs wait per connection (phase 3 sends up to 5 in a row). */
export const SM_OUT_MAX = 8;
/** The SMP timeout (Vol 3 Part H 3.4). */
export const SM_TIMEOUT_MS = 30_000;

/** Repeated attempts (Vol 3 Part H 2.3.6): the first wait after a failed check, doubled per failure, capped. */
export const SM_REPEATED_ATTEMPTS_MIN_MS = 2_000;
export const SM_REPEATED_ATTEMPTS_MAX_MS = 64_000;
/** At most this many claimants are remembered (the oldest goes first). */
export const SM_REPEATED_ATTEMPTS_ENTRIES = 16;

/** sm_set_* settings, BTstack's defaults. */
export class SmSettings {
  io_capability = 3; // IO_CAPABILITY_NO_INPUT_NO_OUTPUT
  auth_req = 0;
  min_key_size = 7;
  max_key_size = 16;
  sc_only = false;
  request_security = false;
  fixed_passkey: number | null = null;
  /** Key distribution we ask for / offer (EncKey | IdKey | SignKey), BTstack's default. */
  key_distribution = 0x07;
  /** sm_register_oob_data_callback / sm_register_sc_oob_data_callback (sm-oob.ts). */
  oob_data_callback: SmOobDataCallback | null = null;
  sc_oob_data_callback: SmScOobDataCallback | null = null;
}

export class SmState {
  initialized = false;
  readonly settings = new SmSettings();
  readonly handlers = new RegistrationList<BtstackPacketCallbackRegistration>();
  readonly connections: SmConnection[] = [];
  /** Our Identity Root and Encryption Root (random per Stack unless set or stored; MSB first; sm-privacy.ts). */
  ir: Uint8Array;
  er: Uint8Array;
  /** Our Identity Resolving Key d1(IR, 1, 0), DHK d1(IR, 3, 0) (set by SmPrivacy) and CSRK (random per Stack). */
  irk: Uint8Array = new Uint8Array(16);
  dhk: Uint8Array = new Uint8Array(16);
  csrk: Uint8Array;
  /** Our P-256 key pair, made on the first Secure Connections pairing and kept (as BTstack). */
  key_pair: SmP256KeyPair | null = null;
  /** The random of our last sm_generate_sc_oob_data (MSB first), or null. */
  oob_sc_local_random: Uint8Array | null = null;
  /** Repeated attempts: per peer address ('type/AA:BB:..'), failed checks and when pairing is allowed again. */
  readonly attempts = new Map<string, { fails: number; since: number; until: number }>();
  /** Random octets; tests may replace it. */
  random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n));

  constructor(
    readonly codes: Codes,
    readonly log: Logger,
    readonly run_loop: RunLoop,
    readonly l2cap: L2capFixedChannelService,
    readonly hci: SmHci,
    readonly pool: Pool<SmConnection>,
    readonly events: EventOut,
    public db: LeDeviceDb,
  ) {
    this.ir = this.random(16);
    this.er = this.random(16);
    this.csrk = this.random(16);
  }

  private attemptKey(c: SmConnection): string {
    return `${c.peer_addr_type & 1}/${bd_addr_to_str(c.peer_addr)}`;
  }

  /** A check of the peer's values failed (confirm, DHKey check): make it wait longer before the next try. */
  attemptFailed(c: SmConnection): void {
    const now = this.run_loop.get_time_ms();
    const key = this.attemptKey(c);
    const prev = this.attempts.get(key);
    // a quiet period as long as the last wait forgives the earlier failures
    const fails = prev && now < prev.until + (prev.until - prev.since) ? prev.fails + 1 : 1;
    const wait = Math.min(SM_REPEATED_ATTEMPTS_MAX_MS, SM_REPEATED_ATTEMPTS_MIN_MS * 2 ** (fails - 1));
    this.attempts.delete(key);
    if (this.attempts.size >= SM_REPEATED_ATTEMPTS_ENTRIES) this.attempts.delete(this.attempts.keys().next().value!);
    this.attempts.set(key, { fails, since: now, until: now + wait });
  }

  /** True while this peer has to wait before pairing again. */
  attemptBlocked(c: SmConnection): boolean {
    const e = this.attempts.get(this.attemptKey(c));
    return !!e && this.run_loop.get_time_ms() < e.until;
  }

  /** A pairing with this peer succeeded: forget its failures. */
  attemptSucceeded(c: SmConnection): void {
    this.attempts.delete(this.attemptKey(c));
  }

  connectionFor(con_handle: number): SmConnection | null {
    for (const c of this.connections) if (c.con_handle === con_handle) return c;
    return null;
  }

  /** The one state-change function (debug line per transition). */
  setPhase(c: SmConnection, phase: SmPhase, why: string): void {
    if (c.phase === phase) return;
    this.log.debug(() => `sm 0x${c.con_handle.toString(16).padStart(4, '0')}: ${c.phase} -> ${phase} (${why})`);
    c.phase = phase;
  }
}
