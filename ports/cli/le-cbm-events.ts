/**
 * The LE credit-based channel events of each code profile, for `bthost le-cbm` and the virtual
 * peer. v1.4 (BTstack 1.4.1): L2CAP_EVENT_LE_INCOMING_CONNECTION 0x79, _LE_CHANNEL_OPENED 0x7A,
 * _LE_CAN_SEND_NOW 0x7C, _LE_PACKET_SENT 0x7D, closed as L2CAP_EVENT_CHANNEL_CLOSED 0x71 (remote
 * Disconnection Request) or _LE_CHANNEL_CLOSED 0x7B. v1.8: _CBM_INCOMING_CONNECTION 0x7C,
 * _CBM_CHANNEL_OPENED 0x7D, the shared L2CAP_EVENT_CAN_SEND_NOW 0x79, _PACKET_SENT 0x7A,
 * _CHANNEL_CLOSED 0x71. The INCOMING / OPENED layouts are the same in both (local_cid at octet
 * 13 / 15, remote MTU at 17 / 21; CAN_SEND_NOW, PACKET_SENT, CLOSED: local_cid at octet 2).
 */
import * as V14 from '../../src/codes/v1.4.js';
import * as V18 from '../../src/codes/v1.8.js';
import type { CodeProfile } from '../../src/codes/index.js';

export interface CbmEvents {
  readonly INCOMING: number;
  readonly OPENED: number;
  readonly CAN_SEND_NOW: number;
  readonly PACKET_SENT: number;
  readonly CLOSED: readonly number[];
}

export function cbm_events(profile: CodeProfile): CbmEvents {
  if (profile === 'v1.4')
    return {
      INCOMING: V14.L2CAP_EVENT_LE_INCOMING_CONNECTION,
      OPENED: V14.L2CAP_EVENT_LE_CHANNEL_OPENED,
      CAN_SEND_NOW: V14.L2CAP_EVENT_LE_CAN_SEND_NOW,
      PACKET_SENT: V14.L2CAP_EVENT_LE_PACKET_SENT,
      CLOSED: [V14.L2CAP_EVENT_CHANNEL_CLOSED, V14.L2CAP_EVENT_LE_CHANNEL_CLOSED],
    };
  return {
    INCOMING: V18.L2CAP_EVENT_CBM_INCOMING_CONNECTION,
    OPENED: V18.L2CAP_EVENT_CBM_CHANNEL_OPENED,
    CAN_SEND_NOW: V18.L2CAP_EVENT_CAN_SEND_NOW,
    PACKET_SENT: V18.L2CAP_EVENT_PACKET_SENT,
    CLOSED: [V18.L2CAP_EVENT_CHANNEL_CLOSED],
  };
}
