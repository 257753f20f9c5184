import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from '../../../src/core/bytes.js';
import {
  LINE_STATUS_FRAMING_ERROR,
  LINE_STATUS_OVERRUN_ERROR,
  MODEM_STATUS_DV,
  MODEM_STATUS_FC,
  MODEM_STATUS_RTC,
  MODEM_STATUS_RTR,
  RPN_BAUD_115200,
  RPN_BAUD_9600,
  RPN_FLOW_CONTROL_RTR_ON_INPUT,
  RPN_FLOW_CONTROL_RTR_ON_OUTPUT,
  RPN_PARAM_MASK_0_BAUD,
  RPN_PARAM_MASK_0_DATA_BITS,
  RPN_PARAM_MASK_0_PARITY,
  RPN_PARAM_MASK_0_PARITY_TYPE,
  RPN_PARAM_MASK_0_STOP_BITS,
  RPN_PARAM_MASK_0_XOFF_CHAR,
  RPN_PARAM_MASK_0_XON_CHAR,
  RPN_PARITY_EVEN,
  RPN_PARITY_NONE,
  RPN_STOP_BITS_1_0,
  RPN_STOP_BITS_1_5,
} from '../../../src/codes/v1.4.js';
import { RfcommFrame, rfcomm_encode_uih, rfcomm_frame_decode } from '../../../src/rfcomm/frames.js';
import {
  BT_RFCOMM_MSC_CMD,
  BT_RFCOMM_PN_CMD,
  RFCOMM_MUX_ACTION,
  RFCOMM_MUX_BUFFER_TOO_SMALL,
  RFCOMM_MUX_CLD,
  RFCOMM_MUX_FCOFF,
  RFCOMM_MUX_FCON,
  RFCOMM_MUX_MSC,
  RFCOMM_MUX_NSC,
  RFCOMM_MUX_PN,
  RFCOMM_MUX_RLS,
  RFCOMM_MUX_RPN,
  RFCOMM_MUX_TEST,
  RFCOMM_PN_CL_CREDIT_ACCEPT,
  RFCOMM_PN_CL_CREDIT_REQUEST,
  RfcommMuxCommand,
  rfcomm_mux_decode,
  rfcomm_mux_encode_fc,
  rfcomm_mux_encode_msc,
  rfcomm_mux_encode_nsc,
  rfcomm_mux_encode_pn,
  rfcomm_mux_encode_rls,
  rfcomm_mux_encode_rpn,
  rfcomm_mux_encode_test,
  rfcomm_rpn_flags,
  rfcomm_rpn_get_data_bits,
  rfcomm_rpn_get_parity,
  rfcomm_rpn_get_stop_bits,
} from '../../../src/rfcomm/mux-commands.js';

function enc(fn: (buf: Uint8Array, pos: number) => number): string {
  const buf = new Uint8Array(300);
  const n = fn(buf, 0);
  assert.ok(n > 0, `encoder returned ${n}`);
  return hex(buf, n);
}

const cmd = new RfcommMuxCommand();

function dec(s: string) {
  const b = fromHex(s);
  const st = rfcomm_mux_decode(b, 0, b.length, cmd);
  return st;
}

// RPN data-bits field (TS 07.10: D1 D2, 0 = 5 bits .. 3 = 8 bits). The v1.4 table's
// RPN_DATA_BITS_* are all 0 (a BTstack bug noted in the table), so the codes are spelled here.
const DATA_BITS_7 = 2;
const DATA_BITS_8 = 3;

test('PN command and response: type 83/81, length 0x11, 8 value octets (N1 little endian)', () => {
  const pn = {
    dlci: 2,
    cl: RFCOMM_PN_CL_CREDIT_REQUEST,
    priority: 7,
    ack_timer: 0,
    max_frame_size: 1008,
    max_retransmissions: 0,
    credits: 7,
  };
  // 1008 = 0x03f0 -> f0 03
  assert.is(
    enc((b, p) => rfcomm_mux_encode_pn(b, p, true, pn)),
    '83 11 02 f0 07 00 f0 03 00 07',
  );
  assert.is(
    enc((b, p) => rfcomm_mux_encode_pn(b, p, false, { ...pn, cl: RFCOMM_PN_CL_CREDIT_ACCEPT, max_frame_size: 127 })),
    '81 11 02 e0 07 00 7f 00 00 07',
  );
  assert.is(dec('83 11 02 f0 07 00 f0 03 00 07'), 'ok');
  assert.is(cmd.type, RFCOMM_MUX_PN);
  assert.is(cmd.type_octet, BT_RFCOMM_PN_CMD);
  assert.ok(cmd.command);
  assert.is(cmd.dlci, 2);
  assert.is(cmd.cl, 0xf0);
  assert.is(cmd.priority, 7);
  assert.is(cmd.max_frame_size, 1008);
  assert.is(cmd.credits, 7);
  assert.is(cmd.size, 10);
  assert.is(dec('81 11 3e e0 3f 00 ff 7f 00 07'), 'ok');
  assert.not.ok(cmd.command);
  assert.is(cmd.dlci, 62);
  assert.is(cmd.max_frame_size, 32767);
});

test('PN inside a UIH frame on DLCI 0: 03 ef 15 <pn> 70', () => {
  const info = new Uint8Array(10);
  rfcomm_mux_encode_pn(info, 0, true, {
    dlci: 2,
    cl: 0xf0,
    priority: 7,
    ack_timer: 0,
    max_frame_size: 1008,
    max_retransmissions: 0,
    credits: 7,
  });
  const out = new Uint8Array(20);
  const n = rfcomm_encode_uih(out, 0, true, 0, -1, info);
  assert.is(hex(out, n), '03 ef 15 83 11 02 f0 07 00 f0 03 00 07 70');
  const f = new RfcommFrame();
  assert.is(rfcomm_frame_decode(out, 0, n, f), 'ok');
  assert.is(rfcomm_mux_decode(out, f.info_pos, f.info_len, cmd), 'ok');
  assert.is(cmd.max_frame_size, 1008);
});

test('MSC: DLCI octet (EA, 1, DLCI), V.24 signals with EA, optional break octet', () => {
  const sig = MODEM_STATUS_RTC | MODEM_STATUS_RTR | MODEM_STATUS_DV; // 0x8c
  assert.is(
    enc((b, p) => rfcomm_mux_encode_msc(b, p, true, 2, sig)),
    'e3 05 0b 8d',
  );
  assert.is(
    enc((b, p) => rfcomm_mux_encode_msc(b, p, false, 2, sig)),
    'e1 05 0b 8d',
  );
  assert.is(
    enc((b, p) => rfcomm_mux_encode_msc(b, p, true, 3, MODEM_STATUS_FC)),
    'e3 05 0f 03',
  );
  // break: B1 (0x02) + length 3 x 200 ms in bits 4-7 (0x30) + EA -> 0x33; the signals octet then has EA=0
  assert.is(
    enc((b, p) => rfcomm_mux_encode_msc(b, p, true, 2, sig, 0x32)),
    'e3 07 0b 8c 33',
  );
  assert.is(dec('e3 05 0b 8d'), 'ok');
  assert.is(cmd.type, RFCOMM_MUX_MSC);
  assert.is(cmd.type_octet, BT_RFCOMM_MSC_CMD);
  assert.is(cmd.dlci, 2);
  assert.is(cmd.modem_status, 0x8d);
  assert.is(cmd.break_signal, -1);
  assert.is(dec('e1 07 0b 8c 33'), 'ok');
  assert.not.ok(cmd.command);
  assert.is(cmd.break_signal, 0x33);
  assert.is(dec('e3 03 0b'), 'bad-length');
  assert.is(dec('e3 05 0a 8d'), 'bad-value'); // DLCI octet EA=0
});

test('RPN: 1-octet query and 8-octet form with the table constants', () => {
  assert.is(
    enc((b, p) => rfcomm_mux_encode_rpn(b, p, true, 2, null)),
    '93 03 0b',
  );
  const flags = rfcomm_rpn_flags(DATA_BITS_8, RPN_STOP_BITS_1_0, RPN_PARITY_NONE);
  assert.is(flags, 0x03);
  const all0 =
    RPN_PARAM_MASK_0_BAUD |
    RPN_PARAM_MASK_0_DATA_BITS |
    RPN_PARAM_MASK_0_STOP_BITS |
    RPN_PARAM_MASK_0_PARITY |
    RPN_PARAM_MASK_0_PARITY_TYPE |
    RPN_PARAM_MASK_0_XON_CHAR |
    RPN_PARAM_MASK_0_XOFF_CHAR; // 0x7f
  const rpn = {
    baud_rate: RPN_BAUD_115200,
    flags,
    flow_control: 0,
    xon: 0x11,
    xoff: 0x13,
    parameter_mask_0: all0,
    parameter_mask_1: 0x3f,
  };
  assert.is(
    enc((b, p) => rfcomm_mux_encode_rpn(b, p, true, 2, rpn)),
    '93 11 0b 07 03 00 11 13 7f 3f',
  );
  assert.is(
    enc((b, p) => rfcomm_mux_encode_rpn(b, p, false, 3, { ...rpn, baud_rate: RPN_BAUD_9600 })),
    '91 11 0f 03 03 00 11 13 7f 3f',
  );
  // 7 data bits, 1.5 stop bits, even parity: 2 | 1<<2 | 3<<3 = 0x1e
  const f2 = rfcomm_rpn_flags(DATA_BITS_7, RPN_STOP_BITS_1_5, RPN_PARITY_EVEN);
  assert.is(f2, 0x1e);
  assert.is(rfcomm_rpn_get_data_bits(f2), DATA_BITS_7);
  assert.is(rfcomm_rpn_get_stop_bits(f2), RPN_STOP_BITS_1_5);
  assert.is(rfcomm_rpn_get_parity(f2), RPN_PARITY_EVEN);
  assert.is(dec('93 03 0b'), 'ok');
  assert.is(cmd.type, RFCOMM_MUX_RPN);
  assert.ok(cmd.rpn_query);
  assert.is(cmd.dlci, 2);
  assert.is(dec('91 11 0b 07 1e 0c 11 13 7f 3f'), 'ok');
  assert.not.ok(cmd.rpn_query);
  assert.is(cmd.baud_rate, RPN_BAUD_115200);
  assert.is(cmd.flags, 0x1e);
  assert.is(cmd.flow_control, RPN_FLOW_CONTROL_RTR_ON_INPUT | RPN_FLOW_CONTROL_RTR_ON_OUTPUT);
  assert.is(cmd.xon, 0x11);
  assert.is(cmd.xoff, 0x13);
  assert.is(cmd.parameter_mask_0, 0x7f);
  assert.is(cmd.parameter_mask_1, 0x3f);
  assert.is(dec('93 05 0b 07'), 'bad-length');
});

test('RLS, FCon/FCoff, Test and NSC', () => {
  assert.is(
    enc((b, p) => rfcomm_mux_encode_rls(b, p, true, 2, LINE_STATUS_OVERRUN_ERROR)),
    '53 05 0b 03',
  );
  assert.is(
    enc((b, p) => rfcomm_mux_encode_rls(b, p, false, 2, LINE_STATUS_FRAMING_ERROR)),
    '51 05 0b 09',
  );
  assert.is(dec('53 05 0b 05'), 'ok');
  assert.is(cmd.type, RFCOMM_MUX_RLS);
  assert.is(cmd.line_status, 0x05);
  assert.is(
    enc((b, p) => rfcomm_mux_encode_fc(b, p, true, true)),
    'a3 01',
  );
  assert.is(
    enc((b, p) => rfcomm_mux_encode_fc(b, p, true, false)),
    '63 01',
  );
  assert.is(
    enc((b, p) => rfcomm_mux_encode_fc(b, p, false, true)),
    'a1 01',
  );
  assert.is(dec('a3 01'), 'ok');
  assert.is(cmd.type, RFCOMM_MUX_FCON);
  assert.is(dec('61 01'), 'ok');
  assert.is(cmd.type, RFCOMM_MUX_FCOFF);
  assert.is(dec('63 03 00'), 'bad-length');
  assert.is(
    enc((b, p) => rfcomm_mux_encode_test(b, p, true, fromHex('01 02 03 04'))),
    '23 09 01 02 03 04',
  );
  assert.is(dec('23 09 01 02 03 04'), 'ok');
  assert.is(cmd.type, RFCOMM_MUX_TEST);
  assert.is(cmd.value_len, 4);
  assert.is(cmd.value_pos, 2);
  assert.is(
    enc((b, p) => rfcomm_mux_encode_nsc(b, p, 0xc3)),
    '11 03 c3',
  );
  assert.is(dec('11 03 c3'), 'ok');
  assert.is(cmd.type, RFCOMM_MUX_NSC);
  assert.not.ok(cmd.command);
  assert.is(cmd.nsc_type, 0xc3);
});

test('Test with 200 octets: length field of two EA-chained octets (7 bits each)', () => {
  const data = new Uint8Array(200).map((_, i) => 255 - i);
  const buf = new Uint8Array(210);
  const n = rfcomm_mux_encode_test(buf, 0, true, data);
  assert.is(n, 203);
  // 200 = 0b1_1001000: (0x48 << 1) | EA0 = 0x90, then (1 << 1) | EA1 = 0x03
  assert.is(hex(buf, 3), '23 90 03');
  assert.is(rfcomm_mux_decode(buf, 0, n, cmd), 'ok');
  assert.is(cmd.value_len, 200);
  assert.is(cmd.value_pos, 3);
  assert.is(buf[3 + 199], 255 - 199);
});

test('unsupported commands get NSC with their type octet; odd responses and broken ones are discarded', () => {
  assert.is(dec('c3 01'), 'not-supported'); // CLD command
  assert.is(cmd.type, RFCOMM_MUX_CLD);
  assert.is(RFCOMM_MUX_ACTION['not-supported'], 'nsc');
  const nsc = new Uint8Array(3);
  rfcomm_mux_encode_nsc(nsc, 0, cmd.type_octet);
  assert.is(hex(nsc), '11 03 c3');
  assert.is(dec('43 01'), 'not-supported'); // PSC command
  assert.is(dec('d3 01'), 'not-supported'); // SNC command
  assert.is(dec('f3 03 55'), 'not-supported'); // unknown type 0xf0
  assert.is(dec('c1 01'), 'unknown-response'); // CLD response: never asked for
  assert.is(RFCOMM_MUX_ACTION['unknown-response'], 'discard');
  assert.is(dec('82 11 02 f0 07 00 f0 03 00 07'), 'bad-type'); // EA = 0 in the type octet
  assert.is(dec('83 13 02 f0 07 00 f0 03 00 07'), 'truncated'); // says 9, has 8
  assert.is(dec('83 0f 02 f0 07 00 f0 03 00'), 'bad-length'); // PN with 7 octets
  assert.is(dec('83'), 'truncated');
  assert.is(dec('23 90'), 'truncated'); // second length octet missing
  assert.is(dec('23 90 02 00'), 'bad-length'); // three length octets
  assert.is(dec('11 05 c3 00'), 'bad-length');
  assert.is(RFCOMM_MUX_ACTION.ok, 'handle');
  for (const s of ['truncated', 'bad-type', 'bad-length', 'bad-value'] as const) assert.is(RFCOMM_MUX_ACTION[s], 'discard');
});

test('decoder reports the size so several commands in one field can be walked', () => {
  const b = fromHex('e3 05 0b 8d a3 01');
  assert.is(rfcomm_mux_decode(b, 0, b.length, cmd), 'ok');
  assert.is(cmd.size, 4);
  assert.is(rfcomm_mux_decode(b, 4, 2, cmd), 'ok');
  assert.is(cmd.type, RFCOMM_MUX_FCON);
});

test('encoders refuse a too-small buffer without writing', () => {
  const b = new Uint8Array(9).fill(0xaa);
  assert.is(
    rfcomm_mux_encode_pn(b, 0, true, {
      dlci: 2,
      cl: 0,
      priority: 0,
      ack_timer: 0,
      max_frame_size: 10,
      max_retransmissions: 0,
      credits: 0,
    }),
    RFCOMM_MUX_BUFFER_TOO_SMALL,
  );
  assert.is(
    rfcomm_mux_encode_rpn(b, 0, true, 2, {
      baud_rate: 0,
      flags: 0,
      flow_control: 0,
      xon: 0,
      xoff: 0,
      parameter_mask_0: 0,
      parameter_mask_1: 0,
    }),
    RFCOMM_MUX_BUFFER_TOO_SMALL,
  );
  assert.is(rfcomm_mux_encode_msc(b, 7, true, 2, 0), RFCOMM_MUX_BUFFER_TOO_SMALL);
  assert.is(rfcomm_mux_encode_test(b, 0, true, new Uint8Array(8)), RFCOMM_MUX_BUFFER_TOO_SMALL);
  assert.ok(b.every((x) => x === 0xaa));
});

test.run();
