/**
 * Controller-to-host flow control (BTstack's ENABLE_HCI_CONTROLLER_TO_HOST_FLOW_CONTROL), on with
 * the Stack option `host_flow_control: true`.
 *
 * During init HCI announces the host's receive buffers with Host Buffer Size (0x0C33:
 * Host_ACL_Data_Packet_Length = HCI_HOST_ACL_PACKET_LEN, capped by what the transport's receive
 * path takes; Host_Total_Num_ACL_Data_Packets = HCI_HOST_ACL_PACKET_NUM; synchronous length and
 * count 0, SCO is not taken) and, when the controller accepted that, turns flow control on for
 * ACL with Set Controller To Host Flow Control (0x0C31, Flow_Control_Enable 0x01). The controller
 * then never sends an ACL packet longer than the announced length, nor more packets than the
 * announced count before the host returns them (Core Vol 4 Part E 7.3.39, 7.3.40, 4.2).
 *
 * Every ACL packet HCI takes from the transport for a known connection is consumed at once
 * (reassembled or delivered to L2CAP synchronously); its buffer is reported back with Host Number
 * Of Completed Packets (0x0C35), one command per run-loop turn for every handle with packets,
 * sent without waiting for a command credit and not answered by Command Complete unless wrong
 * (7.3.40). A handle that disconnected is not reported: the controller counts its packets as
 * returned (7.7.5).
 *
 * Differences from BTstack: Host Buffer Size goes first and Set Controller To Host Flow Control
 * only after it succeeded (a controller that refuses the buffer size never waits for
 * completions it cannot get); Flow_Control_Enable is 0x01 (ACL only), not 0x03, as HCI drops SCO.
 */
import { little_endian_store_16 } from '../core/bytes.js';
import { HCI_COMMAND_DATA_PACKET } from '../codes/v1.4.js';
import type { HciConnection } from './hci-connection.js';
import type { HciState } from './hci-state.js';

/** Opcode of Host Number Of Completed Packets (OGF 0x03, OCF 0x0035). */
export const HCI_OPCODE_HOST_NUMBER_OF_COMPLETED_PACKETS = 0x0c35;
/** Handles per Host Number Of Completed Packets command: 1 + 4 * 63 = 253 parameter bytes. */
const MAX_HANDLES_PER_COMMAND = 63;

/** What host flow control needs from its siblings. */
export interface HciHostFlowPeers {
  /** Send a command that takes no credit and gets no Command Complete unless it is wrong. */
  send_command_without_credit(packet: Uint8Array, size: number): void;
}

/** Status (enabled, announced sizes, active) is in HciState.host_flow, shared with the init sequence. */
export class HciHostFlow {
  private posted = false;
  private waiting_for_transport = false;
  private readonly cmd = new Uint8Array(3 + 1 + 4 * MAX_HANDLES_PER_COMMAND);
  /** flushCb bound to this component, made the first time it is handed out. */
  #flushCb: (() => void) | null = null;

  private flushCb(): void {
    this.posted = false;
    this.flush();
  }

  constructor(
    private readonly s: HciState,
    private readonly x: HciHostFlowPeers,
  ) {}

  /** Power off / reset: the controller forgets the setting; nothing is owed. */
  reset(): void {
    this.s.host_flow.buffer_size_set = false;
    this.s.host_flow.active = false;
    this.waiting_for_transport = false;
  }

  /** An ACL packet for `conn` was taken from the transport (and is consumed by the time this returns). */
  consumed(conn: HciConnection, data_length: number): void {
    const f = this.s.host_flow;
    if (f.buffer_size_set && data_length > f.acl_packet_length) {
      this.s.log.error(
        () =>
          `controller sent an ACL packet of ${data_length} bytes, above the announced Host_ACL_Data_Packet_Length ${f.acl_packet_length}`,
      );
    }
    if (!f.active) return;
    conn.host_completed++;
    if (this.posted) return;
    this.posted = true;
    this.s.run_loop.execute_on_main_thread((this.#flushCb ??= this.flushCb.bind(this)));
  }

  /** Called from HCI's run(): send what waited for the transport. */
  run(): void {
    if (this.waiting_for_transport) this.flush();
  }

  /** Report every consumed packet: one Host Number Of Completed Packets per 63 handles. */
  flush(): void {
    this.waiting_for_transport = false;
    if (!this.s.host_flow.active) return;
    const b = this.cmd;
    let n = 0;
    for (const conn of this.s.connections.list) {
      if (conn.host_completed === 0 || conn.con_handle === 0xffff) continue;
      if (n === 0 && !this.s.transport_can_send(HCI_COMMAND_DATA_PACKET)) {
        this.waiting_for_transport = true; // a 'can-send-now' runs HCI again
        return;
      }
      const k = 4 + 4 * n;
      little_endian_store_16(b, k, conn.con_handle);
      little_endian_store_16(b, k + 2, Math.min(conn.host_completed, 0xffff));
      conn.host_completed -= Math.min(conn.host_completed, 0xffff);
      n++;
      if (n === MAX_HANDLES_PER_COMMAND) {
        this.send(n);
        n = 0;
      }
    }
    if (n > 0) this.send(n);
  }

  private send(n: number): void {
    const b = this.cmd;
    little_endian_store_16(b, 0, HCI_OPCODE_HOST_NUMBER_OF_COMPLETED_PACKETS);
    b[2] = 1 + 4 * n;
    b[3] = n;
    this.s.host_flow.commands_sent++;
    this.x.send_command_without_credit(b, 3 + b[2]);
  }
}
