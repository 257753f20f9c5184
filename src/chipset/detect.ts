/**
 * Chipset detection from Read Local Version Information (Core Vol 4 Part E 7.4.1), as BTstack's
 * posix-h4 main does after HCI Reset: the Company_Identifier (manufacturer) picks the driver.
 *
 * Company identifiers are the Bluetooth SIG assigned numbers (checked against the list BTstack
 * generates from the SIG's table, src/bluetooth_company_id.h). The chipset names follow BTstack's
 * drivers (btstack_chipset_<name>): posix-h4 maps CSR -> csr, TI -> cc256x, Broadcom -> bcm,
 * ST -> stlc2500d, EM -> em9301, Nordic / The Linux Foundation (Zephyr) / Packetcraft -> zephyr,
 * Toshiba -> tc3566x; BTstack's HCI treats Cypress as Broadcom. Realtek and Intel are named for the
 * USB dongles that need their firmware download. Infineon (0x0009, the company id of Infineon's
 * own older parts), Ericsson, Atmel, MediaTek, Marvell and Qualcomm are named but get no driver.
 * `supported` says whether bthost has that driver (src/chipset: bcm, zephyr, realtek: USB only).
 *
 * Pure: bytes in, a typed value or a status out; never throws.
 */

export type ChipsetName = 'bcm' | 'zephyr' | 'csr' | 'realtek' | 'ti' | 'intel' | 'stlc2500d' | 'em9301' | 'tc3566x';

/** HCI_Read_Local_Version_Information return parameters (after the status). */
export interface LocalVersionInformation {
  hci_version: number;
  hci_revision: number;
  lmp_version: number;
  manufacturer: number;
  lmp_subversion: number;
}

export interface ChipsetDetection {
  manufacturer: number;
  /** The SIG's name for the company identifier, or 'unknown (0x....)'. */
  manufacturer_name: string;
  /** Driver to use, or null when none applies (generic controller). */
  chipset: ChipsetName | null;
  /** Whether bthost ships that driver. */
  supported: boolean;
  /** One line for `bthost info`. */
  description: string;
}

interface Entry {
  name: string;
  chipset: ChipsetName | null;
  note: string;
}

/** Company identifier -> (SIG name, driver). */
export const CHIPSET_TABLE: ReadonlyMap<number, Readonly<Entry>> = new Map<number, Entry>([
  [0x0000, { name: 'Ericsson Technology Licensing', chipset: null, note: 'no driver' }],
  [0x0002, { name: 'Intel Corp.', chipset: 'intel', note: 'Intel (firmware download not supported yet)' }],
  [0x0004, { name: 'Toshiba Corp.', chipset: 'tc3566x', note: 'Toshiba TC3566x' }],
  [
    0x0009,
    { name: 'Infineon Technologies AG', chipset: null, note: 'no driver (Cypress-made AIROC parts report 0x000F or 0x0131)' },
  ],
  [0x000a, { name: 'Qualcomm Technologies International, Ltd. (QTIL)', chipset: 'csr', note: 'Cambridge Silicon Radio (CSR)' }],
  [0x000d, { name: 'Texas Instruments Inc.', chipset: 'ti', note: 'TI CC256x' }],
  [0x000f, { name: 'Broadcom Corporation', chipset: 'bcm', note: 'Broadcom/Cypress, BCM driver' }],
  [0x0013, { name: 'Atmel Corporation', chipset: null, note: 'no driver' }],
  [0x001d, { name: 'Qualcomm', chipset: null, note: 'no driver' }],
  [0x0030, { name: 'ST Microelectronics', chipset: 'stlc2500d', note: 'ST STLC2500D' }],
  [0x0046, { name: 'MediaTek, Inc.', chipset: null, note: 'no driver' }],
  [0x0048, { name: 'Marvell Technology Group Ltd.', chipset: null, note: 'no driver' }],
  [0x0059, { name: 'Nordic Semiconductor ASA', chipset: 'zephyr', note: 'Nordic nRF5 (Zephyr hci_uart)' }],
  [0x005a, { name: 'EM Microelectronic-Marin SA', chipset: 'em9301', note: 'EM EM9301' }],
  [0x005d, { name: 'Realtek Semiconductor Corporation', chipset: 'realtek', note: 'Realtek (needs rtl_bt firmware)' }],
  [0x0131, { name: 'Cypress Semiconductor', chipset: 'bcm', note: 'Cypress, treated as Broadcom' }],
  [0x05f1, { name: 'The Linux Foundation', chipset: 'zephyr', note: 'Zephyr controller' }],
  [0x07e8, { name: 'Packetcraft, Inc.', chipset: 'zephyr', note: 'Packetcraft controller (Zephyr driver)' }],
]);

const SUPPORTED: ReadonlySet<ChipsetName> = new Set<ChipsetName>(['bcm', 'zephyr', 'realtek']);

const HCI_EVENT_COMMAND_COMPLETE = 0x0e;
/** OGF 0x04 (informational), OCF 0x001. */
export const HCI_OPCODE_READ_LOCAL_VERSION_INFORMATION = 0x1001;

export type LocalVersionResult = { status: 'ok'; info: LocalVersionInformation } | { status: 'error'; reason: string };

/**
 * Parse a Command Complete event for Read Local Version Information (event code, length,
 * Num_HCI_Command_Packets, opcode, status, HCI_Version, HCI_Revision, LMP_Version,
 * Company_Identifier, LMP_Subversion; 14 bytes, no H4 type byte).
 */
export function parse_local_version_information(event: Uint8Array, size = event.length): LocalVersionResult {
  const n = Math.min(size, event.length);
  if (n < 6 || event[0] !== HCI_EVENT_COMMAND_COMPLETE) return { status: 'error', reason: 'not a Command Complete event' };
  const opcode = event[3]! | (event[4]! << 8);
  if (opcode !== HCI_OPCODE_READ_LOCAL_VERSION_INFORMATION) {
    return {
      status: 'error',
      reason: `Command Complete for opcode 0x${opcode.toString(16).padStart(4, '0')}, not Read Local Version Information`,
    };
  }
  if (event[5] !== 0)
    return {
      status: 'error',
      reason: `Read Local Version Information failed: status 0x${event[5]!.toString(16).padStart(2, '0')}`,
    };
  if (n < 14 || event[1]! < 12)
    return { status: 'error', reason: `Read Local Version Information answer too short (${n} bytes)` };
  return {
    status: 'ok',
    info: {
      hci_version: event[6]!,
      hci_revision: event[7]! | (event[8]! << 8),
      lmp_version: event[9]!,
      manufacturer: event[10]! | (event[11]! << 8),
      lmp_subversion: event[12]! | (event[13]! << 8),
    },
  };
}

/** Pick the chipset driver for a controller's version information. */
export function detect_chipset(info: LocalVersionInformation): ChipsetDetection {
  const id = info.manufacturer & 0xffff;
  const e = CHIPSET_TABLE.get(id);
  const hexid = `0x${id.toString(16).padStart(4, '0')}`;
  if (!e) {
    return {
      manufacturer: id,
      manufacturer_name: `unknown (${hexid})`,
      chipset: null,
      supported: false,
      description: `manufacturer ${hexid} not in the table: generic controller, no vendor init`,
    };
  }
  const supported = e.chipset !== null && SUPPORTED.has(e.chipset);
  const driver =
    e.chipset === null
      ? 'no chipset driver'
      : supported
        ? `chipset ${e.chipset}`
        : `chipset ${e.chipset} (not supported by bthost yet)`;
  return {
    manufacturer: id,
    manufacturer_name: e.name,
    chipset: e.chipset,
    supported,
    description: `${e.name} (${hexid}): ${e.note}; ${driver}`,
  };
}

/** parse_local_version_information + detect_chipset. */
export function detect_chipset_from_event(
  event: Uint8Array,
  size = event.length,
): { status: 'ok'; info: LocalVersionInformation; detection: ChipsetDetection } | { status: 'error'; reason: string } {
  const r = parse_local_version_information(event, size);
  if (r.status !== 'ok') return r;
  return { status: 'ok', info: r.info, detection: detect_chipset(r.info) };
}
