/**
 * LE helpers on top of the L2CAP unit-test harness (l2cap-harness.ts): an LE link (HCI's LE
 * Connection Complete as the controller reports it, Core v5.4 Vol 4 Part E 7.7.65.1) and PDUs on
 * the LE fixed channels.
 */
import { fromHex, hex, little_endian_store_16, store_bd_addr, type BdAddr } from '../../../src/core/bytes.js';
import { REMOTE, type Harness } from './l2cap-harness.js';

export const LE_HANDLE = 0x0041;

/**
 * LE Connection Complete (subevent 0x01): status 0, handle, role (0 central, 1 peripheral), peer
 * address type, peer address, interval 0x0028, latency 0, timeout 0x01f4, clock accuracy 0.
 */
export function leLinkUp(h: Harness, handle = LE_HANDLE, role = 0, addr: BdAddr = REMOTE, addr_type = 1): void {
  (h.hci as unknown as { conns: Map<number, { address: BdAddr; is_le: boolean }> }).conns.set(handle, {
    address: Uint8Array.from(addr),
    is_le: true,
  });
  const e = new Uint8Array(21);
  e[0] = 0x3e;
  e[1] = 19;
  e[2] = 0x01;
  e[3] = 0;
  little_endian_store_16(e, 4, handle);
  e[6] = role;
  e[7] = addr_type;
  store_bd_addr(e, 8, addr);
  little_endian_store_16(e, 14, 0x0028);
  little_endian_store_16(e, 16, 0);
  little_endian_store_16(e, 18, 0x01f4);
  h.hci.event(e);
  h.loop.run(0);
}

/** A PDU on `cid` (basic header added) from the remote on `handle`. */
export function lePdu(h: Harness, cid: number, payloadHex: string, handle = LE_HANDLE): void {
  const p = fromHex(payloadHex);
  const pdu = new Uint8Array(4 + p.length);
  little_endian_store_16(pdu, 0, p.length);
  little_endian_store_16(pdu, 2, cid);
  pdu.set(p, 4);
  h.hci.acl(handle, pdu);
}

/** An LE signalling command (hex) on CID 0x0005. */
export function leSig(h: Harness, commandHex: string, handle = LE_HANDLE): void {
  lePdu(h, 0x0005, commandHex, handle);
}

/** Sent PDUs (hex, L2CAP header included), forgotten; runs the loop first. */
export function sent(h: Harness): string[] {
  h.loop.run(0);
  return h.hci.take();
}

export { hex };
