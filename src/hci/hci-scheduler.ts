/**
 * Commands out and BTstack's hci_run(): command flow control (one command per
 * Num_HCI_Command_Packets credit, the opcodes outstanding), the bounded queue of app commands
 * (hci_send_cmd while the controller has no credit), and the scheduler that sends at most one
 * command per credit in priority order: init sequence, queued app commands, connection work, GAP
 * work. API calls and incoming events only record work; run() then sends what is due.
 */
import { little_endian_read_16 } from '../core/bytes.js';
import { BufferPool } from '../core/pool.js';
import {
  ERROR_CODE_COMMAND_DISALLOWED,
  ERROR_CODE_SUCCESS,
  HCI_COMMAND_DATA_PACKET,
  HCI_STATE_FALLING_ASLEEP,
  HCI_STATE_HALTING,
  HCI_STATE_INITIALIZING,
  HCI_STATE_OFF,
  HCI_STATE_SLEEPING,
  HCI_STATE_WORKING,
} from '../codes/v1.4.js';
import { hci_cmd_encode, type HciArg, type HciCommand } from './commands.js';
import { ConnState } from './hci-connection.js';
import type { HciState } from './hci-state.js';

/** App commands accepted while the controller has no command credit wait here (bounded). */
export const HCI_COMMAND_QUEUE_SIZE = 8;

/** What the scheduler needs from its siblings. */
export interface HciSchedulerPeers {
  /** Connection bookkeeping for an app command before it is accepted (0 or a status). */
  prepare(packet: Uint8Array, size: number): number;
  /** State changes caused by any command going out. */
  command_sent(opcode: number, params: Uint8Array): void;
  /** Write one command packet to the packet log and the transport. */
  transport_send_command(packet: Uint8Array, size: number): void;
  /** Host flow control (hci-host-flow.ts): a report waiting for the transport. Called on every hci_run, so a component, not a closure. */
  readonly host_flow: { run(): void };
  /** ACL (hci-acl.ts): fragments waiting for controller buffers. Called on every hci_run. */
  readonly acl: { pump(): void };
  /** Send the next init command; true when one went out. */
  init_run(): boolean;
  /** Connection work (hci-link-control.ts), then security work (hci-security.ts): one command; true when one went out. */
  readonly links: { run(): boolean };
  readonly security: { run(): boolean };
  /**
   * GAP work, in this order: classic (gap-classic.ts), then on an LE controller the LE GAP
   * (gap-le.ts) and, once the random address is settled, LE connections (gap-le-conn.ts). Each
   * run() sends one command; true when one went out. Called on every hci_run: components, not closures.
   */
  readonly classic: { run(): boolean };
  readonly le: { run(): boolean; readonly address_settled: boolean };
  readonly le_conn: { run(): boolean };
  /** HALTING / FALLING_ASLEEP has nothing left to wait for. */
  finish_halting(): void;
}

export class HciScheduler {
  private readonly cmdBuf = new Uint8Array(3 + 255);
  private readonly appCmdBuf = new Uint8Array(3 + 255);
  private readonly cmdPool: BufferPool;
  private cmdQueue: Uint8Array[] = [];
  private running = false;
  private runAgain = false;
  /**
   * The last pass found no security or GAP work (hci-security.ts, gap-classic.ts, gap-le.ts,
   * gap-le-conn.ts), and only ACL traffic (run_acl) asked for a pass since. Their work is recorded
   * by API calls, HCI events and timers, which all end in run(); so until the next run() those
   * runners would find nothing again and are not asked (they were half the cost of a pass).
   */
  private gapIdle = false;
  /** run() calls so far: a pass marks GAP idle only when no run() came while its runners ran. */
  private wakeups = 0;

  constructor(
    private readonly s: HciState,
    private readonly x: HciSchedulerPeers,
  ) {
    this.cmdPool = s.pools.register(new BufferPool('hci_command_queue', HCI_COMMAND_QUEUE_SIZE, 3 + 255));
  }

  // ------------------------------------------------------------------ app commands

  /** hci_send_cmd after its argument check: encode into the app buffer, then as a packet. */
  send_app_command(cmd: HciCommand, ...args: HciArg[]): number {
    const n = hci_cmd_encode(this.appCmdBuf, cmd, ...args);
    if (n < 0) throw new TypeError(`hci_send_cmd(${cmd.name}): arguments do not match format '${cmd.format}'`);
    return this.send_app_packet(this.appCmdBuf, n);
  }

  /** hci_send_cmd_packet after its argument check: now, or queued while there is no credit. */
  send_app_packet(packet: Uint8Array, size: number): number {
    const st0 = this.s.power;
    if (st0 === HCI_STATE_OFF || st0 === HCI_STATE_SLEEPING || !this.s.transport) return ERROR_CODE_COMMAND_DISALLOWED;
    if (this.cmdQueue.length === 0 && st0 !== HCI_STATE_INITIALIZING && this.can_send_command()) {
      const st = this.x.prepare(packet, size);
      if (st !== ERROR_CODE_SUCCESS) return st;
      this.send_command_packet(packet, size);
      this.run();
      return ERROR_CODE_SUCCESS;
    }
    const slot = this.cmdPool.get();
    if (!slot) {
      this.s.log.error('hci_send_cmd: command queue full');
      return ERROR_CODE_COMMAND_DISALLOWED;
    }
    const st = this.x.prepare(packet, size);
    if (st !== ERROR_CODE_SUCCESS) {
      this.cmdPool.free(slot);
      return st;
    }
    slot.set(packet.subarray(0, size));
    this.cmdQueue = [...this.cmdQueue, slot];
    this.run();
    return ERROR_CODE_SUCCESS;
  }

  /** hci_can_send_command_packet_now. */
  can_send_app_command_now(): boolean {
    const st = this.s.power;
    if (st === HCI_STATE_OFF || st === HCI_STATE_INITIALIZING || st === HCI_STATE_SLEEPING) return false;
    return this.cmdQueue.length === 0 && this.can_send_command();
  }

  get queued(): number {
    return this.cmdQueue.length;
  }

  /** Power off / sleep: queued app commands are dropped. */
  drop_queued(): void {
    if (this.cmdQueue.length) this.s.log.info(() => `dropping ${this.cmdQueue.length} queued command(s) at power off`);
    for (const b of this.cmdQueue) this.cmdPool.free(b);
    this.cmdQueue = [];
  }

  // ------------------------------------------------------------------ commands out

  /** The controller is being reset: one credit, nothing outstanding. */
  reset_flow(): void {
    this.s.cmd_credits = 1;
    this.s.outstanding.length = 0;
  }

  /** The shared buffer for building internal commands. */
  command_buffer(): Uint8Array {
    return this.cmdBuf;
  }

  /** A command may go to the controller now (credit, open transport). */
  can_send_command(): boolean {
    return this.s.cmd_credits > 0 && this.s.transport_can_send(HCI_COMMAND_DATA_PACKET);
  }

  /** The Reset resend path: the controller may have lost the first Reset. */
  force_command_credit(): void {
    if (this.s.cmd_credits < 1) this.s.cmd_credits = 1;
  }

  /**
   * Send a command that takes no command credit and gets no Command Complete unless it is wrong
   * (Host Number Of Completed Packets, Vol 4 Part E 7.3.40); the caller checked the transport.
   */
  send_command_without_credit(packet: Uint8Array, size: number): void {
    this.x.transport_send_command(packet, size);
  }

  /** Encode and send an internal command; false on an encoding bug. */
  send_command(cmd: HciCommand, ...args: HciArg[]): boolean {
    const n = hci_cmd_encode(this.cmdBuf, cmd, ...args);
    if (n < 0) {
      this.s.log.error(() => `internal: cannot encode ${cmd.name}`);
      return false;
    }
    return this.send_command_packet(this.cmdBuf, n);
  }

  /** Send a complete command packet now (the caller checked can_send_command). */
  send_command_packet(packet: Uint8Array, size: number): boolean {
    const opcode = little_endian_read_16(packet, 0);
    const s = this.s;
    if (s.cmd_credits > 0) s.cmd_credits--;
    s.outstanding.push(opcode);
    if (s.outstanding.length > 64) s.outstanding.shift();
    this.x.command_sent(opcode, packet.subarray(3, size));
    this.x.transport_send_command(packet, size);
    return true;
  }

  // ------------------------------------------------------------------ hci_run

  /** BTstack's hci_run: send what is due, one command per credit. Safe to call any time. */
  run(): void {
    this.gapIdle = false;
    this.wakeups++;
    this.pass();
  }

  /**
   * hci_run after ACL traffic only (an ACL packet sent or received, Number Of Completed Packets):
   * as run(), but the security and GAP runners are asked only when something else woke the
   * scheduler since they last found nothing (ACL traffic records no work for them).
   */
  run_acl(): void {
    this.pass();
  }

  private pass(): void {
    if (this.running) {
      this.runAgain = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.runAgain = false;
        this.runOnce();
      } while (this.runAgain);
    } finally {
      this.running = false;
    }
  }

  /** Run once more before run() returns (the init sequence just ended). */
  run_again(): void {
    this.runAgain = true;
  }

  private runOnce(): void {
    const s = this.s;
    if (s.power === HCI_STATE_OFF || s.power === HCI_STATE_SLEEPING || !s.transport_open) return;
    this.x.host_flow.run();
    this.x.acl.pump();
    if (s.power === HCI_STATE_INITIALIZING) {
      // the init sequence checks credits itself; it also notices when it is done
      while (s.power === HCI_STATE_INITIALIZING && this.x.init_run());
      if (s.power === HCI_STATE_INITIALIZING) return;
    }
    while (this.can_send_command()) {
      if (!this.runStep()) break;
    }
    if ((s.power === HCI_STATE_HALTING || s.power === HCI_STATE_FALLING_ASLEEP) && this.haltingDone()) {
      this.x.finish_halting();
    }
  }

  private haltingDone(): boolean {
    for (const c of this.s.connections.list) {
      if (c.state !== ConnState.SEND_CREATE_CONNECTION) return false;
    }
    return this.cmdQueue.length === 0;
  }

  /** Send one command if there is work. */
  private runStep(): boolean {
    switch (this.s.power) {
      case HCI_STATE_WORKING: {
        if (this.cmdQueue.length !== 0 && this.sendQueuedCommand()) return true;
        const x = this.x;
        if (x.links.run()) return true;
        if (this.gapIdle) return false;
        const wakeups = this.wakeups;
        if (x.security.run() || x.classic.run()) return true;
        if (this.s.controller.le_supported && (x.le.run() || (x.le.address_settled && x.le_conn.run()))) return true;
        if (this.wakeups === wakeups) this.gapIdle = true;
        return false;
      }
      case HCI_STATE_HALTING:
      case HCI_STATE_FALLING_ASLEEP:
        if (this.sendQueuedCommand()) return true;
        return this.x.links.run() || this.x.security.run();
      default:
        return false;
    }
  }

  private sendQueuedCommand(): boolean {
    if (this.cmdQueue.length === 0) return false;
    const slot = this.cmdQueue[0]!;
    this.cmdQueue = this.cmdQueue.slice(1);
    this.send_command_packet(slot, 3 + slot[2]!);
    this.cmdPool.free(slot);
    return true;
  }
}
