/**
 * The one line a CLI command prints when power-on fails or times out (issue 18 item 5), from what
 * the controller actually said:
 *
 * - an init answer with an error status (HciState.poweron_failure, set by src/hci/hci-init.ts):
 *   `power on failed: Read BD_ADDR (opcode 0x1009) failed with status 0x1f (Unspecified Error)`;
 * - a controller that answered commands the host sent but gave no command credit
 *   (Num_HCI_Command_Packets 0): named as such, never as a baud-rate problem;
 * - a controller that answered but did not finish init in time: the last command it answered;
 * - nothing sent back at all (or only bytes that were no answer to a command we sent: garbage from
 *   a wrong baud rate): the caller's baud-rate / flow-control hint.
 *
 * `PowerOnWitness` sees the commands the host writes and the events it reads (the CLI's transport tap).
 */
import { HCI_COMMANDS } from '../../src/hci/commands.js';
import { status_text } from '../status-text.js';

const HCI_COMMAND_DATA_PACKET = 0x01;
const HCI_EVENT_PACKET = 0x04;
const HCI_EVENT_COMMAND_COMPLETE = 0x0e;
const HCI_EVENT_COMMAND_STATUS = 0x0f;

const op4 = (opcode: number) => `0x${opcode.toString(16).padStart(4, '0')}`;

/** `HCI_Reset (opcode 0x0c03)`, or the opcode alone when no template knows it. */
function command_name(opcode: number): string {
  const c = HCI_COMMANDS.get(opcode);
  return c ? `${c.name} (opcode ${op4(opcode)})` : `opcode ${op4(opcode)}`;
}

export { poweron_failure_text } from '../status-text.js';

export class PowerOnWitness {
  /** Opcodes of the commands the host wrote. */
  private readonly sent = new Set<number>();
  /** Command Complete / Status events answering a command the host wrote. */
  answers = 0;
  /** Opcode of the last answered command (0: none yet). */
  last_opcode = 0;
  /** Num_HCI_Command_Packets of the last answer. */
  last_credits = 0;

  /** A packet the host writes. */
  sent_packet(type: number, packet: Uint8Array, size: number): void {
    if (type === HCI_COMMAND_DATA_PACKET && size >= 3) this.sent.add(packet[0]! | (packet[1]! << 8));
  }

  /** A packet the host reads. */
  received_packet(type: number, packet: Uint8Array, size: number): void {
    if (type !== HCI_EVENT_PACKET || size < 2) return;
    let credits: number;
    let opcode: number;
    if (packet[0] === HCI_EVENT_COMMAND_COMPLETE && size >= 5 && packet[1]! >= 3) {
      credits = packet[2]!;
      opcode = packet[3]! | (packet[4]! << 8);
    } else if (packet[0] === HCI_EVENT_COMMAND_STATUS && size >= 6 && packet[1]! >= 4) {
      credits = packet[3]!;
      opcode = packet[4]! | (packet[5]! << 8);
    } else return;
    if (opcode === 0) {
      this.last_credits = credits; // a NOP grants credits without answering a command
      return;
    }
    if (!this.sent.has(opcode)) return; // garbage that happens to frame as an event is no answer
    this.answers++;
    this.last_opcode = opcode;
    this.last_credits = credits;
  }

  /**
   * The line for a power-on that did not finish within `ms`, when the controller answered at
   * least one command; null when it did not (the caller's hint for a silent line applies).
   */
  timeout_line(where: string, ms: number): string | null {
    if (this.answers === 0) return null;
    const last = command_name(this.last_opcode);
    if (this.last_credits === 0)
      return (
        `the controller on ${where} answered (${this.answers} command answer${this.answers === 1 ? '' : 's'}, the last to ${last}) ` +
        `but gave no command credits (Num_HCI_Command_Packets 0): power on could not go on within ${ms} ms`
      );
    return (
      `the controller on ${where} answered ${this.answers} command${this.answers === 1 ? '' : 's'} (the last ${last}) ` +
      `but power on did not finish within ${ms} ms (a slow controller? try a longer --timeout)`
    );
  }
}
