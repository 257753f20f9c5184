/**
 * A status code in words, for the CLI and the examples alike: `page timeout (0x04)`,
 * `Connection Accept Timeout Exceeded (0x10)`, `L2CAP: PSM not supported (0x65)`. The words come
 * from a short table of the codes a user meets most (HCI, BTstack, L2CAP, RFCOMM, SDP), else from
 * the generated ERROR_CODE_* constant's name (src/codes), never typed by hand; always with the value.
 */
import { codes_for } from '../src/codes/index.js';

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

let errorCodeNames: ReadonlyMap<number, string> | undefined;

/** Status value -> its generated ERROR_CODE_* constant as words (`Connection Accept Timeout Exceeded`), made on first use. */
function error_code_names(): ReadonlyMap<number, string> {
  if (errorCodeNames) return errorCodeNames;
  const m = new Map<number, string>();
  for (const [name, value] of Object.entries(codes_for('v1.4'))) {
    if (!name.startsWith('ERROR_CODE_') || typeof value !== 'number' || m.has(value)) continue;
    const words = name
      .slice('ERROR_CODE_'.length)
      .split('_')
      .map((w) => (ACRONYMS.has(w) ? w : w.charAt(0) + w.slice(1).toLowerCase()));
    m.set(value, words.join(' ').replace('BD ADDR', 'BD_ADDR'));
  }
  return (errorCodeNames = m);
}

/** A status code in words with its value: `page timeout (0x04)`, `Connection Accept Timeout Exceeded (0x10)`. */
export function status_text(status: number): string {
  const name = STATUS[status] ?? error_code_names().get(status) ?? 'unknown status';
  return `${name} (0x${status.toString(16).padStart(2, '0')})`;
}

/** A status's words without the value (`Unspecified Error`), for text that already shows the value. */
function status_words(status: number): string {
  return status_text(status).replace(/ \(0x[0-9a-f]+\)$/, '');
}

/** HciState.poweron_failure with its status decoded: `... failed with status 0x1f (Unspecified Error)`. */
export function poweron_failure_text(why: string): string {
  return why.replace(/\bstatus 0x([0-9a-f]{2})\b/, (m, h: string) => `${m} (${status_words(parseInt(h, 16))})`);
}
