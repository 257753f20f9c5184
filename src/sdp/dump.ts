/**
 * Readable text for SDP data elements (what BTstack's de_dump_data_element prints), for
 * examples and logs. Safe on any input: a malformed element is named, never read past its end.
 *
 *   DES
 *     DES
 *       UUID16 0x0100 (L2CAP)
 *     DES
 *       UUID16 0x0003 (RFCOMM)
 *       UINT8 0x01
 */
import {
  DE_BOOL,
  DE_DEA,
  DE_DES,
  DE_INT,
  DE_NIL,
  DE_SIZE_128,
  DE_STRING,
  DE_UINT,
  DE_URL,
  DE_UUID,
  de_element_size,
  de_get_data_size,
  de_get_header_size,
  de_get_size_type,
  de_get_element_type,
} from './data-element.js';

/** Names of well-known 16-bit UUIDs (protocols, service classes) for dumps. */
const UUID_NAMES: Readonly<Record<number, string>> = {
  0x0001: 'SDP',
  0x0003: 'RFCOMM',
  0x0008: 'OBEX',
  0x000f: 'BNEP',
  0x0017: 'AVCTP',
  0x0019: 'AVDTP',
  0x0100: 'L2CAP',
  0x1000: 'ServiceDiscoveryServer',
  0x1001: 'BrowseGroupDescriptor',
  0x1002: 'PublicBrowseRoot',
  0x1101: 'SerialPort',
  0x1103: 'DialupNetworking',
  0x1105: 'OBEXObjectPush',
  0x1106: 'OBEXFileTransfer',
  0x1108: 'Headset',
  0x110a: 'AudioSource',
  0x110b: 'AudioSink',
  0x110c: 'A/V_RemoteControlTarget',
  0x110e: 'A/V_RemoteControl',
  0x1112: 'Headset-AG',
  0x111e: 'Handsfree',
  0x111f: 'HandsfreeAudioGateway',
  0x1124: 'HumanInterfaceDevice',
  0x112f: 'PhonebookAccess-PSE',
  0x1200: 'PnPInformation',
};

const TYPE_NAMES = ['NIL', 'UINT', 'INT', 'UUID', 'STRING', 'BOOL', 'DES', 'DEA', 'URL'];

function hexOf(buf: Uint8Array, pos: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += buf[pos + i]!.toString(16).padStart(2, '0');
  return s;
}

function uuid128Text(buf: Uint8Array, p: number): string {
  const h = hexOf(buf, p, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`.toUpperCase();
}

/** One element (and its children) as indented lines appended to `out`. */
function dump(buf: Uint8Array, pos: number, end: number, indent: string, out: string[], depth: number): number {
  const n = de_element_size(buf, pos, end);
  if (n < 0) {
    out.push(`${indent}<malformed data element${pos < end ? ` 0x${buf[pos]!.toString(16).padStart(2, '0')}` : ''}>`);
    return -1;
  }
  const type = de_get_element_type(buf, pos);
  const hs = de_get_header_size(buf, pos);
  const len = de_get_data_size(buf, pos);
  const d = pos + hs;
  switch (type) {
    case DE_NIL:
      out.push(`${indent}NIL`);
      break;
    case DE_BOOL:
      out.push(`${indent}BOOL ${buf[d] ? 'true' : 'false'}`);
      break;
    case DE_UINT:
    case DE_INT: {
      const bits = len * 8;
      if (de_get_size_type(buf, pos) === DE_SIZE_128 || len > 4)
        out.push(`${indent}${TYPE_NAMES[type]}${bits} 0x${hexOf(buf, d, len)}`);
      else {
        let v = 0;
        for (let i = 0; i < len; i++) v = v * 256 + buf[d + i]!;
        if (type === DE_INT && v >= 2 ** (bits - 1)) v -= 2 ** bits;
        out.push(`${indent}${TYPE_NAMES[type]}${bits} ${type === DE_INT ? v : `0x${v.toString(16).padStart(len * 2, '0')}`}`);
      }
      break;
    }
    case DE_UUID: {
      if (len === 16) {
        out.push(`${indent}UUID128 ${uuid128Text(buf, d)}`);
        break;
      }
      let v = 0;
      for (let i = 0; i < len; i++) v = v * 256 + buf[d + i]!;
      const name = UUID_NAMES[v];
      out.push(`${indent}UUID${len * 8} 0x${v.toString(16).padStart(len * 2, '0')}${name ? ` (${name})` : ''}`);
      break;
    }
    case DE_STRING:
    case DE_URL:
      out.push(`${indent}${TYPE_NAMES[type]} ${JSON.stringify(new TextDecoder().decode(buf.subarray(d, d + len)))}`);
      break;
    case DE_DES:
    case DE_DEA: {
      out.push(`${indent}${TYPE_NAMES[type]}${len === 0 ? ' (empty)' : ''}`);
      if (depth >= 16) {
        out.push(`${indent}  ...`);
        break;
      }
      for (let p = d; p < d + len;) {
        const k = dump(buf, p, d + len, indent + '  ', out, depth + 1);
        if (k < 0) break;
        p += k;
      }
      break;
    }
    default:
      out.push(`${indent}<type ${type}>`);
  }
  return n;
}

/** The data element at buf[pos] (fitting in [pos, end)) as indented text lines. */
export function de_data_element_to_string(buf: Uint8Array, pos = 0, end: number = buf.length): string {
  const out: string[] = [];
  dump(buf, pos, Math.min(end, buf.length), '', out, 0);
  return out.join('\n');
}

/** BTstack's de_dump_data_element: print the element (console.log). */
export function de_dump_data_element(record: Uint8Array, pos = 0): void {
  console.log(de_data_element_to_string(record, pos));
}
