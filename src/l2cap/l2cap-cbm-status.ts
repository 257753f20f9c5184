/**
 * The status an outgoing LE credit-based channel (CBM, ECBM) reports in its OPENED event when the
 * remote refused it, per code profile:
 *
 * | remote's result (Vol 3 Part A 4.23 / 4.26)     | v1.4 (BTstack 1.4.1) | v1.8 (BTstack >= 1.5)                                  |
 * |------------------------------------------------|----------------------|--------------------------------------------------------|
 * | 0x0002 SPSM not supported                      | 0x02 (raw)           | 0x65 L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM       |
 * | 0x0004 no resources                            | 0x04                 | 0x67 L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES |
 * | 0x0005-0x0008 authentication / authorization / key size / encryption | raw | 0x66 L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY |
 * | anything else (0x0009-0x000C ...)              | raw                  | 0x6F L2CAP_CONNECTION_RESPONSE_UNKNOWN_ERROR            |
 *
 * v1.4: l2cap.c 1.4.1 passes the response's result as the status (the reference table's
 * L2CAP_EVENT_LE_CHANNEL_OPENED row). v1.8: l2cap.c's l2cap_cbm_status_for_result /
 * l2cap_ecbm_status_for_result (the same table for both modes). A result above 0xFF stays raw in
 * v1.4 and its low octet is what the event carries, as BTstack's uint8_t status.
 *
 * BTstack quirk kept: a Command Reject of our LE Credit Based Connection Request (a remote without
 * CBM) is reported as the raw wire value 0x02 in both profiles (l2cap.c, "no official value for
 * this"), while the same reject of an ECBM request is 0x65 REFUSED_PSM (v1.8); see
 * l2cap_cbm_rejected_status.
 */
import {
  L2CAP_CBM_CONNECTION_RESULT_ENCYRPTION_KEY_SIZE_TOO_SHORT,
  L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_AUTHENTICATION,
  L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_AUTHORIZATION,
  L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_ENCRYPTION,
  L2CAP_CBM_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE,
  L2CAP_CBM_CONNECTION_RESULT_SPSM_NOT_SUPPORTED,
  L2CAP_CBM_CONNECTION_RESULT_SUCCESS,
  L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM,
  L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES,
  L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY,
  L2CAP_CONNECTION_RESPONSE_UNKNOWN_ERROR,
} from '../codes/v1.8.js';
import type { CodeProfile } from '../codes/index.js';

/** The OPENED status for the remote's refusal `result` (CBM or ECBM: the same result values). */
export function l2cap_cbm_status_for_result(profile: CodeProfile, result: number): number {
  if (profile === 'v1.4') return result;
  switch (result) {
    case L2CAP_CBM_CONNECTION_RESULT_SUCCESS:
      return 0;
    case L2CAP_CBM_CONNECTION_RESULT_SPSM_NOT_SUPPORTED:
      return L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM;
    case L2CAP_CBM_CONNECTION_RESULT_NO_RESOURCES_AVAILABLE:
      return L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_RESOURCES;
    case L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_AUTHENTICATION:
    case L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_AUTHORIZATION:
    case L2CAP_CBM_CONNECTION_RESULT_ENCYRPTION_KEY_SIZE_TOO_SHORT:
    case L2CAP_CBM_CONNECTION_RESULT_INSUFFICIENT_ENCRYPTION:
      return L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY;
    default:
      return L2CAP_CONNECTION_RESPONSE_UNKNOWN_ERROR;
  }
}

/** The OPENED status when the remote answers our connection request with a Command Reject. */
export function l2cap_cbm_rejected_status(profile: CodeProfile, enhanced: boolean): number {
  return enhanced && profile === 'v1.8'
    ? L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_PSM
    : L2CAP_CBM_CONNECTION_RESULT_SPSM_NOT_SUPPORTED;
}
