/**
 * Independent check of the encoders: every command we build, wrapped in a C-frame and an HCI ACL
 * packet, is decoded by tshark (Wireshark's btl2cap dissector). No frame may be malformed, and
 * the fields tshark reads must be the values we encoded. This also pins the format of our
 * "Unknown Options" answer (complete options echoed), which tshark decodes as options.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromHex } from './helpers.js';
import {
  l2cap_sig_frame_finish,
  l2cap_sig_connection_request,
  l2cap_sig_connection_response,
  l2cap_sig_configure_request,
  l2cap_sig_configure_response,
  l2cap_sig_configure_response_answer,
  l2cap_sig_disconnection_request,
  l2cap_sig_disconnection_response,
  l2cap_sig_echo_request,
  l2cap_sig_echo_response,
  l2cap_sig_information_request,
  l2cap_sig_information_response_connectionless_mtu,
  l2cap_sig_information_response_extended_features,
  l2cap_sig_information_response_fixed_channels,
  l2cap_sig_information_response_not_supported,
  l2cap_sig_command_reject_not_understood,
  l2cap_sig_command_reject_mtu_exceeded,
  l2cap_sig_command_reject_invalid_cid,
  L2CAP_CONFIG_FLAG_CONTINUATION,
} from '../../../src/l2cap/signaling.js';
import {
  L2capConfigOptions,
  L2capConfigAnswer,
  l2cap_config_options_parse,
  l2cap_config_request_answer,
} from '../../../src/l2cap/config-options.js';

type Writer = (b: Uint8Array, p: number) => number;

/** One C-frame holding the given commands (the basic header in front). */
function frame(...writers: Writer[]): Uint8Array {
  const b = new Uint8Array(256);
  let p = 4;
  for (const w of writers) {
    const n = w(b, p);
    assert.ok(n > 0);
    p += n;
  }
  return b.slice(0, l2cap_sig_frame_finish(b, 0, p));
}

/** A pcap file, link type 187 (Bluetooth HCI H4), each C-frame in one ACL packet on handle 0x0001. */
function pcap(frames: Uint8Array[]): Uint8Array {
  const out: number[] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 187, 0, 0, 0];
  frames.forEach((f, i) => {
    // H4 type 02, handle 0x0001 with PB flag 10 (first automatically flushable) -> 01 20, data length
    const pkt = [0x02, 0x01, 0x20, f.length & 0xff, f.length >> 8, ...f];
    const n = pkt.length;
    out.push(i + 1, 0, 0, 0, 0, 0, 0, 0, n & 0xff, n >> 8, 0, 0, n & 0xff, n >> 8, 0, 0, ...pkt);
  });
  return Uint8Array.from(out);
}

const FIELDS = [
  '_ws.malformed',
  'btl2cap.cmd_code',
  'btl2cap.cmd_ident',
  'btl2cap.psm',
  'btl2cap.scid',
  'btl2cap.dcid',
  'btl2cap.result',
  'btl2cap.status',
  'btl2cap.flags.continuation',
  'btl2cap.conf_result',
  'btl2cap.option_type',
  'btl2cap.option_mtu',
  'btl2cap.option_flushto',
  'btl2cap.retransmissionmode',
  'btl2cap.option_servicetype',
  'btl2cap.option_fcs',
  'btl2cap.option_window',
  'btl2cap.rej_reason',
  'btl2cap.sig_mtu',
  'btl2cap.info_type',
  'btl2cap.info_result',
  'btl2cap.info_mtu',
  'btl2cap.info_enh_retransmission',
  'btl2cap.info_streaming',
  'btl2cap.info_fcs',
  'btl2cap.info_fixedchan',
  'btl2cap.info_fixedchans_signal',
  'btl2cap.info_fixedchans_connless',
  'btl2cap.data',
  'btl2cap.length.bad',
];

/** The answer to a configuration request given as options in hex (via the real decision path). */
function answerTo(optionsHex: string): Writer {
  const req = fromHex(optionsHex);
  const o = new L2capConfigOptions();
  const a = l2cap_config_request_answer(o, l2cap_config_options_parse(req, 0, req.length, o), new L2capConfigAnswer());
  return (b, p) => l2cap_sig_configure_response_answer(b, p, 9, 0x0040, 0, a, req, 0, req.length);
}

const all = new L2capConfigOptions().set_mtu(1691).set_flush_timeout(0xffff).set_rfc(0).set_fcs(1);
all.present |= (1 << 3) | (1 << 7); // QoS (defaults: best effort) and extended window size
all.extended_window_size = 0x3fff;

const CASES: Array<[Writer[], Record<string, string>]> = [
  [
    [(b, p) => l2cap_sig_connection_request(b, p, 1, 0x1001, 0x0040)],
    { 'btl2cap.cmd_code': '0x02', 'btl2cap.cmd_ident': '0x01', 'btl2cap.psm': '0x1001', 'btl2cap.scid': '0x0040' },
  ],
  [
    [(b, p) => l2cap_sig_connection_response(b, p, 1, 0x0041, 0x0040, 1, 2)],
    {
      'btl2cap.cmd_code': '0x03',
      'btl2cap.dcid': '0x0041',
      'btl2cap.scid': '0x0040',
      'btl2cap.result': '0x0001',
      'btl2cap.status': '0x0002',
    },
  ],
  [
    [(b, p) => l2cap_sig_configure_request(b, p, 2, 0x0041, 0, new L2capConfigOptions().set_mtu(672))],
    { 'btl2cap.cmd_code': '0x04', 'btl2cap.dcid': '0x0041', 'btl2cap.option_mtu': '672', 'btl2cap.flags.continuation': '0' },
  ],
  [
    [(b, p) => l2cap_sig_configure_request(b, p, 2, 0x0041, L2CAP_CONFIG_FLAG_CONTINUATION, all)],
    {
      'btl2cap.option_type': '0x01,0x02,0x03,0x04,0x05,0x07',
      'btl2cap.option_mtu': '1691',
      'btl2cap.option_flushto': '65535',
      'btl2cap.option_servicetype': '0x01',
      'btl2cap.retransmissionmode': '0x00',
      'btl2cap.option_fcs': '0x0001',
      'btl2cap.option_window': '16383',
      'btl2cap.flags.continuation': '1',
    },
  ],
  [
    [(b, p) => l2cap_sig_configure_response(b, p, 2, 0x0040, 0, 0, null)],
    { 'btl2cap.cmd_code': '0x05', 'btl2cap.scid': '0x0040', 'btl2cap.conf_result': '0x0000' },
  ],
  // MTU 47 + ERTM -> unacceptable parameters, MTU 48 and Basic mode
  [
    [answerTo('01 02 2f 00 04 09 03 0a 03 d0 07 e0 2e f2 03')],
    { 'btl2cap.conf_result': '0x0001', 'btl2cap.option_mtu': '48', 'btl2cap.retransmissionmode': '0x00' },
  ],
  // unknown option 0x09 and a hint 0x89 -> unknown options, 0x09 echoed as an option
  [[answerTo('09 02 12 34 89 01 00 01 02 a0 02')], { 'btl2cap.conf_result': '0x0003', 'btl2cap.option_type': '0x09' }],
  [[answerTo('01 05 a0 02')], { 'btl2cap.conf_result': '0x0002', 'btl2cap.option_type': '' }],
  [
    [(b, p) => l2cap_sig_disconnection_request(b, p, 5, 0x0041, 0x0040)],
    { 'btl2cap.cmd_code': '0x06', 'btl2cap.dcid': '0x0041', 'btl2cap.scid': '0x0040' },
  ],
  [
    [(b, p) => l2cap_sig_disconnection_response(b, p, 5, 0x0041, 0x0040)],
    { 'btl2cap.cmd_code': '0x07', 'btl2cap.dcid': '0x0041', 'btl2cap.scid': '0x0040' },
  ],
  [
    [(b, p) => l2cap_sig_echo_request(b, p, 7, new Uint8Array([0x68, 0x69]))],
    { 'btl2cap.cmd_code': '0x08', 'btl2cap.data': '6869' },
  ],
  // (an Echo with no data is valid, but tshark 4.0 marks it malformed: its dissector adds a data item of length -1
  // at the end of the buffer; so these cases carry data)
  [
    [(b, p) => l2cap_sig_echo_response(b, p, 7, new Uint8Array([0x00]))],
    { 'btl2cap.cmd_code': '0x09', 'btl2cap.cmd_ident': '0x07', 'btl2cap.data': '00' },
  ],
  [
    [(b, p) => l2cap_sig_information_request(b, p, 1, 2), (b, p) => l2cap_sig_information_request(b, p, 2, 3)],
    { 'btl2cap.cmd_code': '0x0a,0x0a', 'btl2cap.info_type': '0x0002,0x0003' },
  ],
  [
    [(b, p) => l2cap_sig_information_response_extended_features(b, p, 3, 0xb8)],
    {
      'btl2cap.info_type': '0x0002',
      'btl2cap.info_result': '0x0000',
      'btl2cap.info_enh_retransmission': '1',
      'btl2cap.info_streaming': '1',
      'btl2cap.info_fcs': '1',
      'btl2cap.info_fixedchan': '1',
    },
  ],
  [
    [(b, p) => l2cap_sig_information_response_fixed_channels(b, p, 4, 0x06)],
    { 'btl2cap.info_type': '0x0003', 'btl2cap.info_fixedchans_signal': '1', 'btl2cap.info_fixedchans_connless': '1' },
  ],
  [
    [(b, p) => l2cap_sig_information_response_connectionless_mtu(b, p, 5, 672)],
    { 'btl2cap.info_type': '0x0001', 'btl2cap.info_mtu': '672' },
  ],
  [
    [(b, p) => l2cap_sig_information_response_not_supported(b, p, 6, 4)],
    { 'btl2cap.info_type': '0x0004', 'btl2cap.info_result': '0x0001' },
  ],
  [[(b, p) => l2cap_sig_command_reject_not_understood(b, p, 9)], { 'btl2cap.cmd_code': '0x01', 'btl2cap.rej_reason': '0x0000' }],
  [[(b, p) => l2cap_sig_command_reject_mtu_exceeded(b, p, 9, 48)], { 'btl2cap.rej_reason': '0x0001', 'btl2cap.sig_mtu': '48' }],
  [
    [(b, p) => l2cap_sig_command_reject_invalid_cid(b, p, 9, 0x0040, 0x0041)],
    { 'btl2cap.rej_reason': '0x0002', 'btl2cap.scid': '0x0040', 'btl2cap.dcid': '0x0041' },
  ],
];

test('tshark decodes every encoded command with the values we put in, and nothing is malformed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-l2cap-'));
  const file = path.join(dir, 'signaling.pcap');
  try {
    fs.writeFileSync(file, pcap(CASES.map(([w]) => frame(...w))));
    const args = ['-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-E', 'separator=/t'];
    for (const f of FIELDS) args.push('-e', f);
    const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.error, undefined, 'tshark runs');
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.length > 0);
    assert.is(lines.length, CASES.length, 'one decoded frame per case');
    lines.forEach((line, i) => {
      const cols = line.split('\t');
      const got = Object.fromEntries(FIELDS.map((f, j) => [f, cols[j] ?? '']));
      assert.is(got['_ws.malformed'], '', `frame ${i + 1} malformed`);
      assert.is(got['btl2cap.length.bad'], '', `frame ${i + 1} bad length`);
      for (const [k, v] of Object.entries(CASES[i]![1])) assert.is(got[k], v, `frame ${i + 1} ${k}`);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
