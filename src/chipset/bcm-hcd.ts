/**
 * Broadcom / Cypress patch files (.hcd): reader and firmware naming.
 *
 * A .hcd file is a sequence of complete HCI command packets without H4 type byte: opcode (LE16),
 * parameter length (1 byte), parameters. Almost all are the vendor command Write RAM (0xFC4C:
 * 32-bit little-endian address, then up to 251 data bytes); the last is Launch RAM (0xFC4E:
 * the address to jump to, usually 0xFFFFFFFF). The host sends Download Minidriver (0xFC2E) first,
 * waits about 50 ms, sends every record as a command (each answered by Command Complete), waits
 * about 250 ms after Launch RAM, then sends HCI Reset (at the initial baud rate on a UART).
 *
 * File names follow Linux's btbcm: the chip name comes from the LMP subversion of Read Local
 * Version Information through a table (one for UART, one for USB parts), e.g. 0x2209 ->
 * BCM43430A1 (Raspberry Pi 3 / Zero W), 0x6119 -> BCM4345C0 (Pi 3B+ / 4), and the candidates are,
 * in order: <chip><postfix>.<board>.hcd, <chip><postfix>.hcd, BCM<postfix>.<board>.hcd,
 * BCM<postfix>.hcd, where postfix is "-vvvv-pppp" (USB vendor and product id, hex) for USB parts
 * and <board> is the device-tree board name with '/' replaced by '-' (e.g. "raspberrypi,4-model-b").
 * BTstack's bcm driver instead names the file after Read Local Name ("BCM43430A1" ->
 * BCM43430A1.hcd; Cypress-branded parts answer e.g. "CYW43455"), which is added as a candidate.
 *
 * Pure: bytes in, validated records or an error status out; never throws.
 */

export const HCI_BCM_DOWNLOAD_MINIDRIVER = 0xfc2e;
export const HCI_BCM_WRITE_RAM = 0xfc4c;
export const HCI_BCM_LAUNCH_RAM = 0xfc4e;
/** Directory Linux distributions install the .hcd files in. */
export const BCM_FIRMWARE_DIR = '/lib/firmware/brcm';
/** Largest .hcd accepted (real ones are 20-100 KiB). */
export const BCM_HCD_MAX_SIZE = 1 << 20;

export interface BcmHcdRecord {
  /** Byte offset of the record in the file. */
  offset: number;
  opcode: number;
  kind: 'write_ram' | 'launch_ram' | 'other';
  /** Write RAM / Launch RAM: the 32-bit address; other: -1. */
  address: number;
  /** Write RAM: the data bytes after the address (view into the file). */
  data: Uint8Array;
  /** The whole command packet (opcode, length, parameters) to send as is (view into the file). */
  packet: Uint8Array;
}

export type BcmHcdResult =
  | {
      status: 'ok';
      records: BcmHcdRecord[];
      /** Bytes written by Write RAM records. */
      write_ram_bytes: number;
      /** Launch RAM address. */
      launch_address: number;
    }
  | { status: 'error'; reason: string; offset: number };

function hex4(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/**
 * Read and validate a .hcd file: every record complete, Write RAM records with an address, one
 * Launch RAM record and nothing after it, file not empty and at most BCM_HCD_MAX_SIZE bytes.
 */
export function bcm_hcd_parse(file: Uint8Array): BcmHcdResult {
  if (file.length === 0) return { status: 'error', reason: 'empty .hcd file', offset: 0 };
  if (file.length > BCM_HCD_MAX_SIZE)
    return { status: 'error', reason: `.hcd file too large (${file.length} bytes, limit ${BCM_HCD_MAX_SIZE})`, offset: 0 };
  const records: BcmHcdRecord[] = [];
  let pos = 0;
  let write_ram_bytes = 0;
  let launch = -1;
  while (pos < file.length) {
    if (launch >= 0) return { status: 'error', reason: `record after Launch RAM at offset ${pos}`, offset: pos };
    if (pos + 3 > file.length) return { status: 'error', reason: `truncated record header at offset ${pos}`, offset: pos };
    const opcode = file[pos]! | (file[pos + 1]! << 8);
    const len = file[pos + 2]!;
    if (pos + 3 + len > file.length) {
      return {
        status: 'error',
        reason: `record ${hex4(opcode)} at offset ${pos}: ${len} parameter bytes, ${file.length - pos - 3} left`,
        offset: pos,
      };
    }
    const p = pos + 3;
    let kind: BcmHcdRecord['kind'] = 'other';
    let address = -1;
    let data = file.subarray(p, p);
    if (opcode === HCI_BCM_WRITE_RAM || opcode === HCI_BCM_LAUNCH_RAM) {
      if (len < 4)
        return {
          status: 'error',
          reason: `record ${hex4(opcode)} at offset ${pos}: ${len} parameter bytes, no 32-bit address`,
          offset: pos,
        };
      address = (file[p]! | (file[p + 1]! << 8) | (file[p + 2]! << 16) | (file[p + 3]! << 24)) >>> 0;
      if (opcode === HCI_BCM_WRITE_RAM) {
        kind = 'write_ram';
        data = file.subarray(p + 4, p + len);
        write_ram_bytes += len - 4;
      } else {
        kind = 'launch_ram';
        launch = address;
      }
    } else if (opcode >> 10 !== 0x3f) {
      return { status: 'error', reason: `record at offset ${pos}: opcode ${hex4(opcode)} is not a vendor command`, offset: pos };
    }
    records.push({ offset: pos, opcode, kind, address, data, packet: file.subarray(pos, p + len) });
    pos = p + len;
  }
  if (launch < 0) return { status: 'error', reason: 'no Launch RAM record', offset: file.length };
  return { status: 'ok', records, write_ram_bytes, launch_address: launch };
}

/** Chip names by LMP subversion (Linux btbcm's tables; facts only). */
const UART_CHIPS: ReadonlyMap<number, string> = new Map([
  [0x1111, 'BCM4362A2'],
  [0x4103, 'BCM4330B1'],
  [0x410d, 'BCM4334B0'],
  [0x410e, 'BCM43341B0'],
  [0x4204, 'BCM2076B1'],
  [0x4406, 'BCM4324B3'],
  [0x4606, 'BCM4324B5'],
  [0x6109, 'BCM4335C0'],
  [0x610c, 'BCM4354'],
  [0x2122, 'BCM4343A0'],
  [0x2209, 'BCM43430A1'],
  [0x6119, 'BCM4345C0'],
  [0x6606, 'BCM4345C5'],
  [0x230f, 'BCM4356A2'],
  [0x220e, 'BCM20702A1'],
  [0x420d, 'BCM4349B1'],
  [0x420e, 'BCM4349B1'],
  [0x4217, 'BCM4329B1'],
  [0x6106, 'BCM4359C0'],
  [0x4106, 'BCM4335A0'],
  [0x410c, 'BCM43430B0'],
  [0x2119, 'BCM4373A0'],
]);

const USB_CHIPS: ReadonlyMap<number, string> = new Map([
  [0x2105, 'BCM20703A1'],
  [0x210b, 'BCM43142A0'],
  [0x2112, 'BCM4314A0'],
  [0x2118, 'BCM20702A0'],
  [0x2126, 'BCM4335A0'],
  [0x220e, 'BCM20702A1'],
  [0x230f, 'BCM4356A2'],
  [0x4106, 'BCM4335B0'],
  [0x410e, 'BCM20702B0'],
  [0x6109, 'BCM4335C0'],
  [0x610c, 'BCM4354'],
  [0x6607, 'BCM4350C5'],
]);

/** The chip name for an LMP subversion, or null when the table does not know it. */
export function bcm_chip_name(lmp_subversion: number, bus: 'uart' | 'usb' = 'uart'): string | null {
  return (bus === 'usb' ? USB_CHIPS : UART_CHIPS).get(lmp_subversion & 0xffff) ?? null;
}

/** "BCM43430A1 37.4MHz Raspberry Pi 3-0190" -> "BCM43430A1" (BCM/CYW names only), else null. */
export function bcm_chip_name_from_local_name(local_name: string): string | null {
  const m = /^((?:BCM|CYW)[0-9A-Z]+)/.exec(local_name.trim());
  return m ? m[1]! : null;
}

export interface BcmFirmwareQuery {
  lmp_subversion: number;
  bus?: 'uart' | 'usb';
  /** USB vendor / product id (USB parts). */
  vid?: number;
  pid?: number;
  /** Device-tree board name ('/' becomes '-'), e.g. "raspberrypi,4-model-b". */
  board?: string;
  /** Read Local Name answer (adds BTstack's <name>.hcd). */
  local_name?: string;
}

/** Candidate .hcd file names, most specific first (file names only; see BCM_FIRMWARE_DIR). */
export function bcm_firmware_names(q: BcmFirmwareQuery): string[] {
  const bus = q.bus ?? 'uart';
  const hw = bcm_chip_name(q.lmp_subversion, bus);
  const h = (v: number) => (v & 0xffff).toString(16).padStart(4, '0');
  const postfix = bus === 'usb' && q.vid !== undefined && q.pid !== undefined ? `-${h(q.vid)}-${h(q.pid)}` : '';
  const board = q.board ? q.board.replaceAll('/', '-') : '';
  const names: string[] = [];
  const add = (n: string) => {
    if (!names.includes(n)) names.push(n);
  };
  if (hw) {
    if (board) add(`${hw}${postfix}.${board}.hcd`);
    add(`${hw}${postfix}.hcd`);
  }
  const local = q.local_name ? bcm_chip_name_from_local_name(q.local_name) : null;
  if (local) add(`${local}.hcd`);
  if (board) add(`BCM${postfix}.${board}.hcd`);
  add(`BCM${postfix}.hcd`);
  return names;
}
