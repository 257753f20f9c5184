/**
 * Text for people: Bluetooth versions, company names, LMP feature names, status codes, sizes,
 * rates and a progress bar. Facts from the Core spec and the Bluetooth SIG assigned numbers.
 */
import * as CODES_V14 from '../../src/codes/v1.4.js';

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

/** Status codes a CLI user meets (Core Vol 1, Part F; BTstack's L2CAP/RFCOMM/SDP codes). */
const STATUS: Record<number, string> = {
  0x00: 'success',
  0x02: 'unknown connection identifier',
  0x04: 'page timeout',
  0x05: 'authentication failure',
  0x06: 'PIN or key missing',
  0x07: 'memory capacity exceeded',
  0x08: 'connection timeout',
  0x09: 'connection limit exceeded',
  0x0b: 'connection already exists',
  0x0c: 'command disallowed',
  0x0d: 'rejected: limited resources',
  0x0e: 'rejected: security reasons',
  0x0f: 'rejected: unacceptable BD_ADDR',
  0x12: 'invalid HCI command parameters',
  0x13: 'remote user terminated connection',
  0x16: 'connection terminated by local host',
  0x18: 'pairing not allowed',
  0x1a: 'unsupported remote feature',
  0x22: 'LMP response timeout',
  0x2f: 'insufficient security',
  0x56: 'BTstack: memory alloc failed',
  0x57: 'BTstack: ACL buffers full',
  0x60: 'L2CAP: command not understood',
  0x63: 'L2CAP: connection refused',
  0x64: 'L2CAP: connection pending',
  0x65: 'L2CAP: PSM not supported',
  0x66: 'L2CAP: security block',
  0x67: 'L2CAP: no resources',
  0x68: 'L2CAP: ERTM not supported',
  0x69: 'L2CAP: no response (RTX timeout)',
  0x6a: 'L2CAP: baseband disconnect',
  0x6b: 'L2CAP: service already registered',
  0x6c: 'L2CAP: data longer than the remote MTU',
  0x6d: 'L2CAP: service does not exist',
  0x6e: 'L2CAP: local CID does not exist',
  0x70: 'RFCOMM: multiplexer stopped',
  0x71: 'RFCOMM: channel already registered',
  0x72: 'RFCOMM: no outgoing credits',
  0x73: 'RFCOMM: aggregate flow off',
  0x74: 'RFCOMM: data longer than the frame size',
  0x80: 'SDP: handle already registered',
  0x81: 'SDP: query incomplete',
  0x82: 'SDP: service not found',
  0x83: 'SDP: handle invalid',
  0x84: 'SDP: query busy',
};

/** Words of the generated ERROR_CODE_* names kept in capitals. */
const ACRONYMS = new Set([
  'HCI',
  'LMP',
  'LL',
  'ACL',
  'SCO',
  'QOS',
  'BD',
  'ADDR',
  'PIN',
  'AMP',
  'MAC',
  'MIC',
  'CSR',
  'LE',
  'ID',
  'PDU',
]);

/** Status value -> its generated ERROR_CODE_* constant as words (`Connection Accept Timeout Exceeded`). */
const ERROR_CODE_NAMES: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, value] of Object.entries(CODES_V14)) {
    if (!name.startsWith('ERROR_CODE_') || typeof value !== 'number' || m.has(value)) continue;
    const words = name
      .slice('ERROR_CODE_'.length)
      .split('_')
      .map((w) => (ACRONYMS.has(w) ? w : w.charAt(0) + w.slice(1).toLowerCase()));
    m.set(value, words.join(' ').replace('BD ADDR', 'BD_ADDR'));
  }
  return m;
})();

/** A status code in words with its value: `page timeout (0x04)`, `Connection Accept Timeout Exceeded (0x10)`. */
export function status_text(status: number): string {
  const name = STATUS[status] ?? ERROR_CODE_NAMES.get(status) ?? 'unknown status';
  return `${name} (0x${status.toString(16).padStart(2, '0')})`;
}

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
