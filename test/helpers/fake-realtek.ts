/**
 * A Realtek USB dongle's ROM, in front of a virtual controller (test/helpers/fake-usb.ts puts it
 * between the host's control transfers and the controller): what Linux btrtl and BTstack's driver
 * rely on, reproduced from the commands' definitions:
 * - Read Local Version Information answers with Realtek's company id 0x005D, the chip's HCI
 *   version / revision and the ROM's LMP subversion; after a download, the firmware's revision and
 *   subversion (`patched`).
 * - Read ROM Version (0xFC6D): Command Complete status 0, the ROM version.
 * - Download (0xFC20, index + 1..252 data bytes): the index must be the next one (0, 1, ..., 0x7F,
 *   then 1 again; 0x80 marks the last), else Invalid HCI Command Parameters and the download
 *   starts over; Command Complete status 0, the index. After the last fragment the image is
 *   `firmware` and the chip runs it; HCI Reset does not undo that (only unplugging would).
 * Commands are recorded (`opcodes`) in the order they came.
 */
import {
  ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS,
  ERROR_CODE_SUCCESS,
  HCI_EVENT_COMMAND_COMPLETE,
} from '../../src/codes/v1.4.js';

export interface FakeRealtekOptions {
  hci_version?: number;
  hci_revision?: number;
  lmp_subversion?: number;
  rom_version?: number;
  /** Read Local Version after the download. */
  patched?: { hci_revision: number; lmp_subversion: number };
}

const READ_LOCAL_VERSION = 0x1001;

export class FakeRealtekChip {
  readonly hci_version: number;
  readonly hci_revision: number;
  readonly lmp_subversion: number;
  readonly rom_version: number;
  readonly patched: { hci_revision: number; lmp_subversion: number };
  /** Opcodes of every command, in order. */
  readonly opcodes: number[] = [];
  /** Index bytes of the Download commands accepted. */
  readonly indices: number[] = [];
  /** Download commands refused (wrong index or length). */
  refused = 0;
  /** The image after the last fragment (null: none yet). */
  firmware: Uint8Array | null = null;
  private chunks: Uint8Array[] = [];
  private expect = 0;

  constructor(o: FakeRealtekOptions = {}) {
    this.hci_version = o.hci_version ?? 0x0a;
    this.hci_revision = o.hci_revision ?? 0x000b;
    this.lmp_subversion = o.lmp_subversion ?? 0x8761;
    this.rom_version = o.rom_version ?? 0;
    this.patched = o.patched ?? { hci_revision: 0xdfc6, lmp_subversion: 0xd922 };
  }

  get running(): boolean {
    return this.firmware !== null;
  }

  private complete(opcode: number, ret: number[]): Uint8Array {
    return Uint8Array.of(HCI_EVENT_COMMAND_COMPLETE, 3 + ret.length, 1, opcode & 0xff, opcode >> 8, ...ret);
  }

  /** A command from the host: the chip's own answer (a Command Complete event), or null for the controller. */
  command(cmd: Uint8Array): Uint8Array | null {
    if (cmd.length < 3) return null;
    const opcode = cmd[0]! | (cmd[1]! << 8);
    this.opcodes.push(opcode);
    if (opcode === 0xfc6d) return this.complete(opcode, [ERROR_CODE_SUCCESS, this.rom_version]);
    if (opcode !== 0xfc20) return null;
    const plen = cmd[2]!;
    const index = cmd[3] ?? 0;
    if (plen < 2 || plen > 253 || cmd.length !== 3 + plen || (index & 0x7f) !== this.expect) {
      this.refused++;
      this.chunks = [];
      this.expect = 0;
      return this.complete(opcode, [ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS, index]);
    }
    this.indices.push(index);
    this.chunks.push(cmd.slice(4));
    this.expect = this.expect === 0x7f ? 1 : this.expect + 1;
    if (index & 0x80) {
      const n = this.chunks.reduce((a, c) => a + c.length, 0);
      const img = new Uint8Array(n);
      let o = 0;
      for (const c of this.chunks) {
        img.set(c, o);
        o += c.length;
      }
      this.firmware = img;
      this.chunks = [];
      this.expect = 0;
    }
    return this.complete(opcode, [ERROR_CODE_SUCCESS, index]);
  }

  /** An event from the controller to the host: Read Local Version as this chip answers it. */
  event(ev: Uint8Array): Uint8Array {
    if (ev.length < 14 || ev[0] !== HCI_EVENT_COMMAND_COMPLETE || (ev[3]! | (ev[4]! << 8)) !== READ_LOCAL_VERSION || ev[5] !== 0)
      return ev;
    const out = Uint8Array.from(ev);
    const rev = this.running ? this.patched.hci_revision : this.hci_revision;
    const sub = this.running ? this.patched.lmp_subversion : this.lmp_subversion;
    out[6] = this.hci_version;
    out[7] = rev & 0xff;
    out[8] = rev >> 8;
    out[10] = 0x5d; // Realtek Semiconductor Corporation
    out[11] = 0x00;
    out[12] = sub & 0xff;
    out[13] = sub >> 8;
    return out;
  }
}
