/**
 * An SDP server channel (one per peer, from the MAX_NR_HCI_CONNECTIONS pool): its L2CAP cid and
 * MTU, the response waiting for L2CAP_EVENT_CAN_SEND_NOW, its continuation slot, and the
 * pipelined requests it still owes ErrorResponse 0x0006 (see server.ts).
 */
import { ContinuationSlot } from './server-responder.js';

/** The smallest MTU an L2CAP channel may have (Core Vol 3 Part A 5.1). */
export const L2CAP_MIN_MTU = 48;

/** Runs of consecutive TransactionIDs of pipelined requests a channel remembers (see server.ts). */
export const SDP_SERVER_OWED_RUNS = 16;

/** Pipelined requests owed ErrorResponse 0x0006, oldest first, as runs of consecutive TransactionIDs. */
export class OwedErrors {
  private readonly first = new Uint16Array(SDP_SERVER_OWED_RUNS);
  private readonly count = new Uint32Array(SDP_SERVER_OWED_RUNS);
  private head = 0;
  private runs = 0;
  /** Requests owed an ErrorResponse. */
  total = 0;

  clear(): void {
    this.head = this.runs = this.total = 0;
  }

  /** Remember request `tid`; false when it would need one run more than there is room for. */
  add(tid: number): boolean {
    if (this.runs > 0) {
      const last = (this.head + this.runs - 1) % SDP_SERVER_OWED_RUNS;
      if (((this.first[last]! + this.count[last]!) & 0xffff) === tid && this.count[last]! < 0xffffffff) {
        this.count[last]!++;
        this.total++;
        return true;
      }
    }
    if (this.runs === SDP_SERVER_OWED_RUNS) return false;
    const at = (this.head + this.runs) % SDP_SERVER_OWED_RUNS;
    this.first[at] = tid;
    this.count[at] = 1;
    this.runs++;
    this.total++;
    return true;
  }

  /** TransactionID of the oldest owed answer (call only while total > 0). */
  peek(): number {
    return this.first[this.head]!;
  }

  /** The oldest owed answer went out. */
  shift(): void {
    if (this.total === 0) return;
    this.total--;
    this.first[this.head] = (this.first[this.head]! + 1) & 0xffff;
    if (--this.count[this.head]! === 0) {
      this.head = (this.head + 1) % SDP_SERVER_OWED_RUNS;
      this.runs--;
    }
  }
}

export class SdpServerChannel {
  local_cid = 0;
  open = false;
  remote_mtu = L2CAP_MIN_MTU;
  /** Octets of the response waiting for CAN_SEND_NOW (0: none). */
  pending = 0;
  response: Uint8Array = new Uint8Array(0);
  readonly slot = new ContinuationSlot();
  /** Requests that arrived while an answer was owed (pipelined), each owed ErrorResponse 0x0006. */
  readonly owed = new OwedErrors();

  /** Back to the pool's blank state (the response buffer is kept). */
  reset(): void {
    this.local_cid = 0;
    this.open = false;
    this.remote_mtu = L2CAP_MIN_MTU;
    this.pending = 0;
    this.slot.clear();
    this.owed.clear();
  }
}
