/**
 * Configuration options (Core spec v5.4, Vol 3, Part A, 5): option = type (bit 7 hint), length of
 * the data, data (little endian). Vectors written by hand; derivations next to them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { enc, fromHex, hex } from './helpers.js';
import {
  L2capConfigOptions,
  L2capConfigAnswer,
  l2cap_config_options_parse,
  l2cap_config_options_write,
  l2cap_config_options_size,
  l2cap_config_options_copy_unknown,
  l2cap_config_unknown_options_size,
  l2cap_config_request_answer,
  l2cap_config_option_write_mtu,
  l2cap_config_option_write_flush_timeout,
  l2cap_config_option_write_qos,
  l2cap_config_option_write_rfc,
  l2cap_config_option_write_fcs,
  l2cap_config_option_write_efs,
  l2cap_config_option_write_extended_window_size,
  l2cap_config_option_length,
  L2CAP_CONFIG_HAS_MTU,
  L2CAP_CONFIG_HAS_FLUSH_TIMEOUT,
  L2CAP_CONFIG_HAS_QOS,
  L2CAP_CONFIG_HAS_RFC,
  L2CAP_CONFIG_HAS_FCS,
  L2CAP_CONFIG_HAS_EFS,
  L2CAP_CONFIG_HAS_EWS,
} from '../../../src/l2cap/config-options.js';
import {
  L2capSignalingReader,
  L2capSignalingCommand,
  L2capConfigureRequest,
  l2cap_sig_parse_configure_request,
  l2cap_sig_configure_response_answer,
} from '../../../src/l2cap/signaling.js';
import {
  L2CAP_CONF_RESULT_SUCCESS,
  L2CAP_CONF_RESULT_UNACCEPTABLE_PARAMETERS,
  L2CAP_CONF_RESULT_REJECT,
  L2CAP_CONF_RESULT_UNKNOWN_OPTIONS,
  L2CAP_CHANNEL_MODE_BASIC,
  L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION,
  L2CAP_CHANNEL_MODE_STREAMING_MODE,
} from '../../../src/codes/v1.4.js';

function parse(h: string, into = new L2capConfigOptions()): [string, L2capConfigOptions] {
  const b = fromHex(h);
  return [l2cap_config_options_parse(b, 0, b.length, into), into];
}

/**
 * Full path for a Configuration Request command (hex of the command, id 2, DCID 0x0041 from the
 * requester's view, requester's CID 0x0040): reader -> view -> options -> answer -> response bytes.
 */
function answer(cmdHex: string): { answer: L2capConfigAnswer; response: string } {
  const buf = fromHex(cmdHex);
  const cmd = new L2capSignalingCommand();
  assert.is(new L2capSignalingReader().reset(buf, 0, buf.length).next(cmd), 'command');
  const req = new L2capConfigureRequest();
  assert.ok(l2cap_sig_parse_configure_request(cmd, req));
  const opts = new L2capConfigOptions();
  const st = l2cap_config_options_parse(buf, req.options_offset, req.options_length, opts);
  const ans = l2cap_config_request_answer(opts, st, new L2capConfigAnswer());
  const out = new Uint8Array(64);
  const n = l2cap_sig_configure_response_answer(
    out,
    0,
    cmd.identifier,
    0x0040,
    0,
    ans,
    buf,
    req.options_offset,
    req.options_length,
  );
  return { answer: ans, response: hex(out.subarray(0, n)) };
}

test('option writers, byte for byte', () => {
  // MTU 672 = 0x02A0: type 01, length 02, a0 02
  assert.is(
    enc(4, 0, (b, p) => l2cap_config_option_write_mtu(b, p, 672)),
    '01 02 a0 02',
  );
  // flush timeout 0xFFFF (infinite): type 02, length 02
  assert.is(
    enc(4, 0, (b, p) => l2cap_config_option_write_flush_timeout(b, p, 0xffff)),
    '02 02 ff ff',
  );
  // QoS: type 03, length 22 = 0x16; flags 00, service type 01 best effort, token rate 0, bucket 0,
  // peak 0, latency 0xFFFFFFFF, delay variation 0xFFFFFFFF (4 octets each)
  assert.is(
    enc(24, 0, (b, p) => l2cap_config_option_write_qos(b, p, 0, 1, 0, 0, 0, 0xffffffff, 0xffffffff)),
    '03 16 00 01 00 00 00 00 00 00 00 00 00 00 00 00 ff ff ff ff ff ff ff ff',
  );
  // RFC: type 04, length 9; mode 03 ERTM, TxWindow 10 = 0a, MaxTransmit 3, retransmission time-out 2000 = d0 07,
  // monitor time-out 12000 = e0 2e, MPS 1010 = f2 03
  assert.is(
    enc(11, 0, (b, p) => l2cap_config_option_write_rfc(b, p, 3, 10, 3, 2000, 12000, 1010)),
    '04 09 03 0a 03 d0 07 e0 2e f2 03',
  );
  // FCS: type 05, length 1, 00 = no FCS
  assert.is(
    enc(3, 0, (b, p) => l2cap_config_option_write_fcs(b, p, 0)),
    '05 01 00',
  );
  // Extended Flow Spec: type 06, length 16 = 0x10; id 01, service type 01, max SDU ffff, 3 x ffffffff
  assert.is(
    enc(18, 0, (b, p) => l2cap_config_option_write_efs(b, p, 1, 1, 0xffff, 0xffffffff, 0xffffffff, 0xffffffff)),
    '06 10 01 01 ff ff ff ff ff ff ff ff ff ff ff ff ff ff',
  );
  // Extended Window Size 0x3FFF: type 07, length 2, ff 3f
  assert.is(
    enc(4, 0, (b, p) => l2cap_config_option_write_extended_window_size(b, p, 0x3fff)),
    '07 02 ff 3f',
  );
  // too small
  assert.is(
    enc(10, 0, (b, p) => l2cap_config_option_write_rfc(b, p, 3, 10, 3, 2000, 12000, 1010)),
    '-1',
  );
  assert.is(
    enc(3, 0, (b, p) => l2cap_config_option_write_mtu(b, p, 672)),
    '-1',
  );
});

test('a set of options is written in type order; sizes agree', () => {
  const o = new L2capConfigOptions().set_rfc(L2CAP_CHANNEL_MODE_BASIC).set_flush_timeout(0xffff).set_mtu(672);
  assert.is(l2cap_config_options_size(o), 4 + 4 + 11);
  // MTU (01 02 a0 02), flush timeout (02 02 ff ff), RFC basic (04 09 + nine zero octets)
  assert.is(
    enc(19, 0, (b, p) => l2cap_config_options_write(b, p, o)),
    '01 02 a0 02 02 02 ff ff 04 09 00 00 00 00 00 00 00 00 00',
  );
  assert.is(
    enc(18, 0, (b, p) => l2cap_config_options_write(b, p, o)),
    '-1',
  );
  assert.is(l2cap_config_options_write(new Uint8Array(0), 0, new L2capConfigOptions()), 0);
});

test('parsing fills every option and its presence bit', () => {
  const [st, o] = parse(
    '01 02 a0 02' + // MTU 672
      '02 02 64 00' + // flush timeout 100
      '03 16 00 02 10 00 00 00 20 00 00 00 30 00 00 00 40 00 00 00 50 00 00 00' + // QoS guaranteed, 0x10 0x20 0x30 0x40 0x50
      '04 09 00 01 02 03 00 04 00 05 00' + // RFC basic, 1, 2, 3, 4, 5
      '05 01 01' + // FCS 16-bit
      '06 10 07 01 08 00 09 00 00 00 0a 00 00 00 0b 00 00 00' + // EFS 7, 1, 8, 9, 10, 11
      '07 02 20 00', // EWS 32
  );
  assert.is(st, 'ok');
  assert.is(
    o.present,
    L2CAP_CONFIG_HAS_MTU |
      L2CAP_CONFIG_HAS_FLUSH_TIMEOUT |
      L2CAP_CONFIG_HAS_QOS |
      L2CAP_CONFIG_HAS_RFC |
      L2CAP_CONFIG_HAS_FCS |
      L2CAP_CONFIG_HAS_EFS |
      L2CAP_CONFIG_HAS_EWS,
  );
  assert.equal([o.mtu, o.flush_timeout], [672, 100]);
  assert.equal(
    [
      o.qos_flags,
      o.qos_service_type,
      o.qos_token_rate,
      o.qos_token_bucket_size,
      o.qos_peak_bandwidth,
      o.qos_latency,
      o.qos_delay_variation,
    ],
    [0, 2, 0x10, 0x20, 0x30, 0x40, 0x50],
  );
  assert.equal(
    [o.mode, o.tx_window_size, o.max_transmit, o.retransmission_timeout, o.monitor_timeout, o.mps],
    [0, 1, 2, 3, 4, 5],
  );
  assert.is(o.fcs, 1);
  assert.equal(
    [
      o.efs_identifier,
      o.efs_service_type,
      o.efs_max_sdu_size,
      o.efs_sdu_inter_arrival_time,
      o.efs_access_latency,
      o.efs_flush_timeout,
    ],
    [7, 1, 8, 9, 10, 11],
  );
  assert.is(o.extended_window_size, 32);
  assert.is(o.unknown_count, 0);
  // a known option sent with the hint bit (0x81 = MTU as a hint) is still understood
  const [st2, o2] = parse('81 02 30 00');
  assert.equal([st2, o2.mtu, o2.has(L2CAP_CONFIG_HAS_MTU), o2.hints_skipped], ['ok', 48, true, 0]);
  // defaults: no MTU option means 672 (Vol 3 Part A, 5.1)
  assert.is(new L2capConfigOptions().effective_mtu, 672);
  assert.is(l2cap_config_option_length(0x84), 9);
  assert.is(l2cap_config_option_length(0x08), 0);
});

test('Configuration Request with MTU 672: success, no options in the response', () => {
  // request: 04 02 08 00 | DCID 41 00 | flags 00 00 | 01 02 a0 02
  const r = answer('04 02 08 00 41 00 00 00 01 02 a0 02');
  assert.is(r.answer.result, L2CAP_CONF_RESULT_SUCCESS);
  // response: code 05, id 02, length 6, SCID 0x0040, flags 0, result 0
  assert.is(r.response, '05 02 06 00 40 00 00 00 00 00');
});

test('MTU below 48: unacceptable parameters, proposing 48', () => {
  // MTU 47 = 2f 00
  const r = answer('04 02 08 00 41 00 00 00 01 02 2f 00');
  assert.is(r.answer.result, L2CAP_CONF_RESULT_UNACCEPTABLE_PARAMETERS);
  assert.is(r.answer.problem, 'mtu-below-minimum');
  // response: length 6 + 4 = 0a; result 01 00; MTU option 01 02 30 00 (48)
  assert.is(r.response, '05 02 0a 00 40 00 00 00 01 00 01 02 30 00');
  // exactly 48 is fine
  assert.is(answer('04 02 08 00 41 00 00 00 01 02 30 00').answer.result, L2CAP_CONF_RESULT_SUCCESS);
  // MTU 0
  assert.is(answer('04 02 08 00 41 00 00 00 01 02 00 00').answer.problem, 'mtu-below-minimum');
});

test('mode negotiation: Basic accepted; ERTM and streaming answered with unacceptable parameters proposing Basic', () => {
  // RFC basic: 04 09 00 + 8 zero octets; request length 4 + 11 = 15 = 0f
  assert.is(answer('04 02 0f 00 41 00 00 00 04 09 00 00 00 00 00 00 00 00 00').answer.result, L2CAP_CONF_RESULT_SUCCESS);
  for (const mode of [L2CAP_CHANNEL_MODE_ENHANCED_RETRANSMISSION, L2CAP_CHANNEL_MODE_STREAMING_MODE, 0x01, 0x02]) {
    const m = mode.toString(16).padStart(2, '0');
    const r = answer(`04 02 0f 00 41 00 00 00 04 09 ${m} 0a 03 d0 07 e0 2e f2 03`);
    assert.is(r.answer.result, L2CAP_CONF_RESULT_UNACCEPTABLE_PARAMETERS);
    assert.is(r.answer.problem, 'unsupported-mode');
    // response length 6 + 11 = 0x11, result 0001, RFC option mode 00 with zero fields
    assert.is(r.response, '05 02 11 00 40 00 00 00 01 00 04 09 00 00 00 00 00 00 00 00 00');
  }
  // both at once: MTU 23 and ERTM -> MTU 48 and basic in one response, length 6 + 4 + 11 = 0x15
  const r = answer('04 02 13 00 41 00 00 00 01 02 17 00 04 09 03 0a 03 d0 07 e0 2e f2 03');
  assert.is(r.answer.problem, 'mtu-below-minimum+unsupported-mode');
  assert.is(r.response, '05 02 15 00 40 00 00 00 01 00 01 02 30 00 04 09 00 00 00 00 00 00 00 00 00');
});

test('unknown option without hint bit: result Unknown Options listing it; with hint bit: skipped', () => {
  // option type 0x09 (not defined), length 2, data 12 34, between two known options
  const r = answer('04 02 10 00 41 00 00 00 01 02 a0 02 09 02 12 34 02 02 ff ff');
  assert.is(r.answer.result, L2CAP_CONF_RESULT_UNKNOWN_OPTIONS);
  // response: length 6 + 4 = 0a, result 03 00, the unknown option as received
  assert.is(r.response, '05 02 0a 00 40 00 00 00 03 00 09 02 12 34');
  // two unknown ones and a hint: both non-hints listed, the hint (0x89) not
  // request length 4 + (2 + 3 + 4) = 0x0d; response length 6 + 2 + 4 = 0x0c
  const r2 = answer('04 02 0d 00 41 00 00 00 7f 00 89 01 aa 0a 02 bb cc');
  assert.is(r2.response, '05 02 0c 00 40 00 00 00 03 00 7f 00 0a 02 bb cc');
  // hint only: success
  const r3 = answer('04 02 0c 00 41 00 00 00 89 02 12 34 01 02 a0 02');
  assert.is(r3.answer.result, L2CAP_CONF_RESULT_SUCCESS);
  const [, o] = parse('89 02 12 34 01 02 a0 02');
  assert.equal([o.hints_skipped, o.unknown_count, o.mtu], [1, 0, 672]);
  const [, o2] = parse('0a 00 0b 00');
  assert.equal([o2.unknown_count, o2.first_unknown_type], [2, 0x0a]);
  // copying into a buffer that is too small fails cleanly
  const src = fromHex('09 02 12 34');
  assert.is(l2cap_config_unknown_options_size(src, 0, 4), 4);
  assert.is(l2cap_config_options_copy_unknown(src, 0, 4, new Uint8Array(3), 0), -1);
});

test('lying option lengths and wrong sizes of known options: rejected', () => {
  // MTU option claiming 5 data octets where 2 remain
  assert.equal(parse('01 05 a0 02')[0], 'truncated-option');
  // a lone type octet at the end
  assert.equal(parse('01 02 a0 02 02')[0], 'truncated-option');
  // an unknown option whose length runs past the end
  assert.equal(parse('09 04 00 00')[0], 'truncated-option');
  // MTU with length 1, RFC with length 8, QoS with length 23
  assert.equal(parse('01 01 30')[0], 'bad-option-length');
  assert.equal(parse('04 08 00 00 00 00 00 00 00 00')[0], 'bad-option-length');
  assert.equal(parse('03 17' + ' 00'.repeat(23))[0], 'bad-option-length');
  // the full path: result 0x0002 Rejected, no options
  const r = answer('04 02 08 00 41 00 00 00 01 05 a0 02');
  assert.is(r.answer.result, L2CAP_CONF_RESULT_REJECT);
  assert.is(r.answer.problem, 'truncated-option');
  assert.is(r.response, '05 02 06 00 40 00 00 00 02 00');
  assert.is(answer('04 02 07 00 41 00 00 00 01 01 30').answer.problem, 'bad-option-length');
  // options parsed before the bad one are kept (for logs)
  const [, o] = parse('01 02 a0 02 02 09 00');
  assert.is(o.mtu, 672);
  // a parse never reads outside the range it is given: the MTU option lies beyond len
  const b = fromHex('01 02 a0 02');
  assert.is(l2cap_config_options_parse(b, 0, 3, new L2capConfigOptions()), 'truncated-option');
});

test('continuation: fragments merge into one set of options', () => {
  const o = new L2capConfigOptions();
  assert.is(parse('01 02 a0 02', o)[0], 'ok');
  assert.is(parse('02 02 10 00', o)[0], 'ok');
  assert.equal([o.mtu, o.flush_timeout, o.present], [672, 16, L2CAP_CONFIG_HAS_MTU | L2CAP_CONFIG_HAS_FLUSH_TIMEOUT]);
  o.clear();
  assert.equal([o.present, o.mtu, o.flush_timeout], [0, 672, 0xffff]);
});

test('a new options object has the spec defaults, the same as clear() restores', () => {
  const fresh = new L2capConfigOptions();
  const used = new L2capConfigOptions().set_mtu(100).set_flush_timeout(5).set_rfc(3, 1, 2, 3, 4, 5).set_fcs(0).clear();
  assert.equal({ ...fresh }, { ...used });
  // spec defaults (Vol 3 Part A, 5): MTU 672, flush timeout 0xFFFF, QoS best effort with latency and delay variation 0xFFFFFFFF, Basic mode, 16-bit FCS
  assert.equal(
    [
      fresh.present,
      fresh.mtu,
      fresh.flush_timeout,
      fresh.qos_service_type,
      fresh.qos_latency,
      fresh.qos_delay_variation,
      fresh.mode,
      fresh.fcs,
    ],
    [0, 672, 0xffff, 1, 0xffffffff, 0xffffffff, 0, 1],
  );
});

test.run();
