/**
 * Text for people: Bluetooth versions, company names, LMP feature names, status codes, sizes,
 * rates and a progress bar (status codes: ../status-text.ts). Facts from the Core spec and the
 * Bluetooth SIG assigned numbers.
 */

/** HCI / LMP version numbers (Assigned Numbers 2.1). */
const CORE_VERSIONS = [
  '1.0b',
  '1.1',
  '1.2',
  '2.0+EDR',
  '2.1+EDR',
  '3.0+HS',
  '4.0',
  '4.1',
  '4.2',
  '5.0',
  '5.1',
  '5.2',
  '5.3',
  '5.4',
  '6.0',
  '6.1',
];

export function core_version(v: number): string {
  return CORE_VERSIONS[v] ?? 'unknown';
}

/** A few company identifiers a user is likely to meet on a UART or USB-serial controller. */
const COMPANIES: Record<number, string> = {
  0x0000: 'Ericsson',
  0x0002: 'Intel',
  0x000a: 'Qualcomm Technologies International (CSR)',
  0x000d: 'Texas Instruments',
  0x000f: 'Broadcom',
  0x001d: 'Qualcomm',
  0x0030: 'STMicroelectronics',
  0x0046: 'MediaTek',
  0x0059: 'Nordic Semiconductor',
  0x005d: 'Realtek',
  0x0131: 'Cypress Semiconductor',
  0x02e5: 'Espressif',
  0x05f1: 'The Linux Foundation (Zephyr)',
  0xffff: 'none (test / virtual controller)',
};

export function company_name(id: number): string {
  return COMPANIES[id] ?? 'unknown company';
}

/** LMP features page 0 (Core Vol 2, Part C, 3.3), by bit number. Reserved bits are absent. */
const LMP_FEATURES_PAGE0: Record<number, string> = {
  0: '3-slot packets',
  1: '5-slot packets',
  2: 'encryption',
  3: 'slot offset',
  4: 'timing accuracy',
  5: 'role switch',
  6: 'hold mode',
  7: 'sniff mode',
  9: 'power control requests',
  10: 'CQDDR',
  11: 'SCO link',
  12: 'HV2 packets',
  13: 'HV3 packets',
  14: 'u-law log',
  15: 'A-law log',
  16: 'CVSD',
  17: 'paging parameter negotiation',
  18: 'power control',
  19: 'transparent SCO',
  23: 'broadcast encryption',
  25: 'EDR ACL 2 Mb/s',
  26: 'EDR ACL 3 Mb/s',
  27: 'enhanced inquiry scan',
  28: 'interlaced inquiry scan',
  29: 'interlaced page scan',
  30: 'RSSI with inquiry results',
  31: 'eSCO (EV3)',
  32: 'EV4 packets',
  33: 'EV5 packets',
  35: 'AFH capable peripheral',
  36: 'AFH classification peripheral',
  37: 'BR/EDR not supported',
  38: 'LE supported',
  39: '3-slot EDR ACL',
  40: '5-slot EDR ACL',
  41: 'sniff subrating',
  42: 'pause encryption',
  43: 'AFH capable central',
  44: 'AFH classification central',
  45: 'EDR eSCO 2 Mb/s',
  46: 'EDR eSCO 3 Mb/s',
  47: '3-slot EDR eSCO',
  48: 'extended inquiry response',
  49: 'simultaneous LE and BR/EDR',
  51: 'secure simple pairing',
  52: 'encapsulated PDU',
  53: 'erroneous data reporting',
  54: 'non-flushable packet boundary flag',
  56: 'link supervision timeout changed event',
  57: 'variable inquiry TX power level',
  58: 'enhanced power control',
  63: 'extended features',
};

/** Names of the page-0 feature bits set in `features` (8 octets). */
export function lmp_feature_names(features: Uint8Array): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (!((features[bit >> 3] ?? 0) & (1 << (bit & 7)))) continue;
    out.push(LMP_FEATURES_PAGE0[bit] ?? `bit ${bit}`);
  }
  return out;
}

export { status_text } from '../status-text.js';

export function hex16(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

export function human_bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** Megabytes (10^6) per second. */
export function mb_per_s(bytes: number, ms: number): string {
  if (ms <= 0) return '- MB/s';
  return `${(bytes / 1e6 / (ms / 1000)).toFixed(2)} MB/s`;
}

/** `[########----------]  42%  1.20 MiB  3.41 MB/s` (total 0: no bar, no percentage). */
export function progress_bar(done: number, total: number, ms: number, width = 30): string {
  const rate = mb_per_s(done, ms);
  if (total <= 0) return `${human_bytes(done).padStart(10)}  ${rate}`;
  const frac = Math.min(1, done / total);
  const fill = Math.round(frac * width);
  return `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${human_bytes(done).padStart(10)}  ${rate}`;
}
