/**
 * The security level of an outgoing LE credit-based channel (component of l2cap-cbm.ts), as
 * BTstack's l2cap_cbm_create_channel: when the link is below the channel's `security_level`, the
 * channel waits (CBM_W4_SECURITY, BTstack's L2CAP_STATE_WAIT_OUTGOING_SECURITY_LEVEL_UPDATE) and
 * the Security Manager pairs first; the Connection Request goes out once the level is reached,
 * otherwise the channel ends with OPENED status ERROR_CODE_INSUFFICIENT_SECURITY (0x2F, both
 * profiles: the v1.4 table's L2CAP_EVENT_LE_CHANNEL_OPENED row, l2cap.c's
 * l2cap_cbm_sm_packet_handler in v1.8).
 *
 * The link's level is BTstack's l2cap_cbm_security_level_for_connection: 0 unencrypted, 2
 * unauthenticated, then 4 with a 16-octet key, else 3 (Secure Connections is not asked for).
 * BTstack calls sm_request_pairing and waits for SM_EVENT_PAIRING_COMPLETE; bthost asks HCI
 * (gap_request_security_level, which has the SM pair or encrypt with a bond, BTstack's hci.c does
 * the same for LE) and judges the channels waiting on the link at every GAP_EVENT_SECURITY_LEVEL,
 * so a re-encryption with a stored key also ends the wait (BTstack's would wait on). Without an SM
 * (sm_init not called) HCI answers at once and the channel ends with 0x2F. A link lost while
 * waiting ends the channel as any pending one (0x6A).
 *
 * ECBM (l2cap_ecbm_create_channels) takes the same path for its group; BTstack 1.8 has this check
 * compiled out there (`#if 0`) and sends the request whatever the level.
 */
import { little_endian_read_16 } from '../core/bytes.js';
import {
  ERROR_CODE_INSUFFICIENT_SECURITY,
  GAP_EVENT_SECURITY_LEVEL,
  HCI_EVENT_PACKET,
  LEVEL_0,
  LEVEL_2,
  LEVEL_3,
  LEVEL_4,
} from '../codes/v1.4.js';
import type { BtstackPacketCallbackRegistration } from '../hci/hci-service.js';
import { CBM_W4_SECURITY, CBM_WILL_SEND_REQUEST, type L2capCbmChannel } from './l2cap-le-objects.js';
import type { L2capLeSecurityGap } from './l2cap-le-security.js';
import type { L2capState } from './l2cap-state.js';

/** What the check needs from the channel lifecycle. */
export interface L2capCbmSecurityPeers {
  finalize(ch: L2capCbmChannel, status: number, why: string): void;
  scheduleRun(): void;
}

export class L2capCbmSecurity {
  private registration: BtstackPacketCallbackRegistration | null = null;

  constructor(
    private readonly s: L2capState,
    private readonly x: L2capCbmSecurityPeers,
  ) {}

  private get gap(): L2capLeSecurityGap & { gap_request_security_level(con_handle: number, level: number): void } {
    return this.s.hci.gap;
  }

  /** BTstack's l2cap_cbm_security_level_for_connection. */
  levelFor(con_handle: number): number {
    const gap = this.gap;
    const key_size = gap.gap_encryption_key_size
      ? gap.gap_encryption_key_size(con_handle)
      : gap.gap_security_level(con_handle) >= LEVEL_2
        ? 16
        : 0;
    if (key_size === 0) return LEVEL_0;
    const authenticated = gap.gap_authenticated
      ? gap.gap_authenticated(con_handle)
      : gap.gap_security_level(con_handle) >= LEVEL_3;
    if (!authenticated) return LEVEL_2;
    return key_size === 16 ? LEVEL_4 : LEVEL_3;
  }

  /**
   * The state a new outgoing channel (security_level set) starts in: CBM_WILL_SEND_REQUEST, or
   * CBM_W4_SECURITY with pairing asked for. Call once per channel (an ECBM group: each channel).
   */
  start(ch: L2capCbmChannel): void {
    if (this.levelFor(ch.con_handle) >= ch.security_level) {
      ch.state = CBM_WILL_SEND_REQUEST;
      return;
    }
    ch.state = CBM_W4_SECURITY;
    this.s.log.debug(
      () => `L2CAP LE channel 0x${ch.local_cid.toString(16)}: security level ${ch.security_level} needed, pairing first`,
    );
    if (!this.registration) {
      // lazily, as BTstack registers its SM event handler at the first channel that needs it
      this.registration = { callback: (this.#onHciEvent ??= this.onHciEvent.bind(this)) };
      this.s.hci.hci_add_event_handler(this.registration);
    }
    this.gap.gap_request_security_level(ch.con_handle, ch.security_level);
  }

  /** onHciEvent bound to this component, made the first time it is handed out. */
  #onHciEvent: ((packet_type: number, channel: number, packet: Uint8Array, size: number) => void) | null = null;

  private onHciEvent(packet_type: number, _channel: number, packet: Uint8Array, size: number): void {
    if (packet_type !== HCI_EVENT_PACKET || size < 5 || packet[0] !== GAP_EVENT_SECURITY_LEVEL) return;
    const handle = little_endian_read_16(packet, 2);
    if (!this.s.hci.hci_connection_for_handle(handle)) return; // the link went: its channels end with it
    let changed = false;
    for (const ch of this.s.le.channels) {
      if (ch.con_handle !== handle || ch.state !== CBM_W4_SECURITY) continue;
      if (this.levelFor(handle) >= ch.security_level) {
        ch.state = CBM_WILL_SEND_REQUEST;
        changed = true;
      } else {
        this.x.finalize(ch, ERROR_CODE_INSUFFICIENT_SECURITY, `security level ${ch.security_level} not reached`);
      }
    }
    if (changed) this.x.scheduleRun();
  }
}
