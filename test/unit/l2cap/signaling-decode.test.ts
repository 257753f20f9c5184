/**
 * C-frame reader, classification and typed views on byte vectors written by hand from the Core
 * spec v5.4, Vol 3, Part A, 4 (command = code, identifier, length of data, data; little endian).
 * Buffers are exact-size, so any read past the end would show up as wrong values.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, hex } from './helpers.js';
import {
  L2capSignalingReader,
  L2capSignalingCommand,
  L2capSigReadStatus,
  L2capCommandReject,
  L2capConnectionRequest,
  L2capConnectionResponse,
  L2capConfigureRequest,
  L2capConfigureResponse,
  L2capDisconnection,
  L2capInformationRequest,
  L2capInformationResponse,
  l2cap_sig_classify,
  l2cap_sig_classify_frame,
  l2cap_sig_classify_read_status,
  l2cap_sig_first_request_identifier,
  l2cap_sig_psm_length,
  l2cap_sig_parse_command_reject,
  l2cap_sig_parse_connection_request,
  l2cap_sig_parse_connection_response,
  l2cap_sig_parse_configure_request,
  l2cap_sig_parse_configure_response,
  l2cap_sig_parse_disconnection,
  l2cap_sig_parse_information_request,
  l2cap_sig_parse_information_response,
  l2cap_sig_command_reject_not_understood,
  l2cap_sig_command_reject_mtu_exceeded,
  L2CAP_REJ_CMD_UNKNOWN,
  L2CAP_REJ_MTU_EXCEEDED,
  L2CAP_REJ_INVALID_CID,
} from '../../../src/l2cap/signaling.js';

/** Walk a C-frame payload given in hex; returns [status, code, id, data-hex] per step until the end. */
function walk(payloadHex: string): Array<[L2capSigReadStatus, number, number, string]> {
  const buf = fromHex(payloadHex);
  const r = new L2capSignalingReader().reset(buf, 0, buf.length);
  const cmd = new L2capSignalingCommand();
  const out: Array<[L2capSigReadStatus, number, number, string]> = [];
  for (;;) {
    const st = r.next(cmd);
    if (st === 'end') break;
    out.push([st, cmd.code, cmd.identifier, hex(cmd.data)]);
    if (st !== 'command') {
      assert.is(r.next(cmd), 'end', 'the walk ends after an error');
      break;
    }
  }
  return out;
}

/** The single command of a payload. */
function one(payloadHex: string): L2capSignalingCommand {
  const buf = fromHex(payloadHex);
  const cmd = new L2capSignalingCommand();
  assert.is(new L2capSignalingReader().reset(buf, 0, buf.length).next(cmd), 'command');
  return cmd;
}

test('reader yields every command of a multi-command C-frame', () => {
  // Info Request id 1 type 2, Echo Request id 2 data "hi", Disconnection Request id 3 DCID 0x41 SCID 0x40
  assert.equal(walk('0a 01 02 00 02 00  08 02 02 00 68 69  06 03 04 00 41 00 40 00'), [
    ['command', 0x0a, 1, '02 00'],
    ['command', 0x08, 2, '68 69'],
    ['command', 0x06, 3, '41 00 40 00'],
  ]);
  // empty payload: nothing
  assert.equal(walk(''), []);
});

test('reader: stray octets after the last command, and a length field running past the frame', () => {
  // one good command, then 2 octets that cannot be a header
  assert.equal(walk('0a 01 02 00 02 00  0a 01'), [
    ['command', 0x0a, 1, '02 00'],
    ['truncated-header', 0x0a, 1, ''],
  ]);
  // a single stray octet
  assert.equal(walk('0a'), [['truncated-header', 0x0a, 0, '']]);
  // length says 5, only 2 data octets present: header is reported, data is what is there
  assert.equal(walk('0a 07 05 00 02 00'), [['length-exceeds-frame', 0x0a, 7, '02 00']]);
  // the good command before a lying one still comes out
  assert.equal(walk('08 01 00 00  08 02 ff ff 00'), [
    ['command', 0x08, 1, ''],
    ['length-exceeds-frame', 0x08, 2, '00'],
  ]);
  assert.is(l2cap_sig_classify_read_status('truncated-header').action, 'drop');
  assert.is(l2cap_sig_classify_read_status('length-exceeds-frame').problem, 'length-exceeds-frame');
});

test('reader honours the range it is given and never goes past it', () => {
  // payload = bytes [4, 10) of a larger buffer: a complete Info Request followed by garbage outside the range
  const buf = fromHex('08 00 01 00  0a 01 02 00 02 00  0a 09 02 00 03 00');
  const r = new L2capSignalingReader().reset(buf, 4, 6);
  const cmd = new L2capSignalingCommand();
  assert.is(r.next(cmd), 'command');
  assert.is(cmd.data_offset, 8);
  assert.is(r.next(cmd), 'end');
  // a range longer than the buffer is clamped
  r.reset(buf, 10, 100);
  assert.is(r.next(cmd), 'command');
  assert.is(cmd.identifier, 9);
  assert.is(r.next(cmd), 'end');
});

test('unknown and unsupported codes get Command Reject "not understood" with their identifier', () => {
  // 0x00 reserved, 0x0C AMP Create Channel Request, 0x12 LE Connection Parameter Update Request (LE-U only),
  // 0x14 LE Credit Based Connection Request, 0x20 reserved
  for (const code of [0x00, 0x0c, 0x0e, 0x12, 0x14, 0x16, 0x17, 0x20, 0xff]) {
    const cmd = one(`${code.toString(16).padStart(2, '0')} 05 02 00 aa bb`);
    const v = l2cap_sig_classify(cmd);
    assert.is(v.action, 'reject', `code ${code}`);
    assert.is(v.reason, L2CAP_REJ_CMD_UNKNOWN);
    assert.is(v.problem, 'unknown-code');
    // the reply the layer sends: code 01, id 05 (the rejected command's), length 2, reason 0000
    const out = new Uint8Array(6);
    l2cap_sig_command_reject_not_understood(out, 0, cmd.identifier);
    assert.is(hex(out), '01 05 02 00 00 00');
  }
});

test('identifier 0 is illegal: the command is dropped, whatever its code', () => {
  assert.is(l2cap_sig_classify(one('02 00 04 00 01 10 40 00')).problem, 'invalid-identifier');
  assert.is(l2cap_sig_classify(one('20 00 00 00')).action, 'drop');
});

test('well-formed commands of every BR/EDR code are processed', () => {
  const ok = [
    '01 01 02 00 00 00', // Command Reject, not understood
    '01 01 04 00 01 00 30 00', // Command Reject, MTU exceeded, 48
    '01 01 06 00 02 00 40 00 41 00', // Command Reject, invalid CID
    '01 01 02 00 07 00', // Command Reject with an unknown reason: still a reject
    '02 01 04 00 01 10 40 00', // Connection Request
    '03 01 08 00 41 00 40 00 00 00 00 00', // Connection Response
    '04 01 04 00 41 00 00 00', // Configuration Request without options
    '05 01 06 00 40 00 00 00 00 00', // Configuration Response
    '06 01 04 00 41 00 40 00', // Disconnection Request
    '07 01 04 00 41 00 40 00', // Disconnection Response
    '08 01 00 00', // Echo Request, no data
    '09 01 03 00 01 02 03', // Echo Response with data
    '0a 01 02 00 02 00', // Information Request
    '0a 01 02 00 09 00', // Information Request, unknown type (answered "not supported" by the layer)
    '0b 01 04 00 02 00 01 00', // Information Response, not supported
    '0b 01 08 00 02 00 00 00 80 00 00 00', // Information Response, features
    '0b 01 06 00 01 00 00 00 a0 02', // Information Response, CL MTU
    '0b 01 0c 00 03 00 00 00 06 00 00 00 00 00 00 00', // Information Response, fixed channels
    '0b 01 04 00 07 00 00 00', // Information Response, unknown type with success and no data
  ];
  for (const h of ok) assert.is(l2cap_sig_classify(one(h)), l2cap_sig_classify(one('08 01 00 00')), h);
  for (const h of ok) assert.is(l2cap_sig_classify(one(h)).action, 'process', h);
});

test('short requests are rejected "not understood"; short responses and rejects are dropped', () => {
  const rejected = [
    '02 01 03 00 01 10 40', // Connection Request: 3 < PSM 2 + SCID 2
    '02 01 00 00', // Connection Request without data
    '04 01 03 00 41 00 00', // Configuration Request: 3 < DCID + flags
    '06 01 02 00 41 00', // Disconnection Request: 2 < 4
    '0a 01 01 00 02', // Information Request: 1 < 2
  ];
  for (const h of rejected) {
    const v = l2cap_sig_classify(one(h));
    assert.is(v.action, 'reject', h);
    assert.is(v.reason, L2CAP_REJ_CMD_UNKNOWN, h);
    assert.is(v.problem, 'request-too-short', h);
  }
  const dropped = [
    '01 01 01 00 00', // Command Reject without a full reason
    '01 01 02 00 01 00', // reason MTU exceeded but no MTU
    '01 01 04 00 02 00 40 00', // reason invalid CID with only one CID
    '03 01 06 00 41 00 40 00 00 00', // Connection Response: 6 < 8
    '05 01 05 00 40 00 00 00 00', // Configuration Response: 5 < 6
    '07 01 03 00 41 00 40', // Disconnection Response: 3 < 4
    '0b 01 02 00 02 00', // Information Response without result
    '0b 01 06 00 02 00 00 00 80 00', // success + extended features with 2 of 4 mask octets
    '0b 01 04 00 01 00 00 00', // success + CL MTU without the MTU
    '0b 01 08 00 03 00 00 00 06 00 00 00', // success + fixed channels with 4 of 8 octets
  ];
  for (const h of dropped) {
    const v = l2cap_sig_classify(one(h));
    assert.is(v.action, 'drop', h);
    assert.is(v.problem, 'response-too-short', h);
  }
});

test('extra octets after the defined fields are ignored', () => {
  const cmd = one('06 04 06 00 41 00 40 00 de ad');
  assert.is(l2cap_sig_classify(cmd).action, 'process');
  const d = new L2capDisconnection();
  assert.ok(l2cap_sig_parse_disconnection(cmd, d));
  assert.equal({ ...d }, { dcid: 0x41, scid: 0x40 });
  const i = new L2capInformationRequest();
  assert.ok(l2cap_sig_parse_information_request(one('0a 01 03 00 03 00 ff'), i));
  assert.is(i.info_type, 3);
});

test('Connection Request: 2-octet PSM, extended PSM, invalid PSM, PSM running past the data', () => {
  const req = new L2capConnectionRequest();
  // PSM 0x1001 (octet 0 = 0x01 odd, octet 1 = 0x10 even -> 2 octets, valid), SCID 0x0040
  let cmd = one('02 01 04 00 01 10 40 00');
  assert.ok(l2cap_sig_parse_connection_request(cmd, req));
  assert.equal({ ...req }, { psm: 0x1001, psm_length: 2, psm_valid: true, scid: 0x0040 });
  // extended PSM: 01 (odd) 11 (odd: extends) 00 (even: last) -> 3 octets, then SCID 0x0040
  cmd = one('02 01 05 00 01 11 00 40 00');
  assert.is(l2cap_sig_classify(cmd).action, 'process');
  assert.ok(l2cap_sig_parse_connection_request(cmd, req));
  assert.equal({ ...req }, { psm: -1, psm_length: 3, psm_valid: true, scid: 0x0040 });
  // PSM 0x1000: octet 0 even -> invalid PSM (the layer refuses with "PSM not supported"), still parseable
  cmd = one('02 01 04 00 00 10 41 00');
  assert.is(l2cap_sig_classify(cmd).action, 'process');
  assert.ok(l2cap_sig_parse_connection_request(cmd, req));
  assert.equal({ ...req }, { psm: 0x1000, psm_length: 2, psm_valid: false, scid: 0x0041 });
  // 4 octets 01 11 40 00: as a PSM grammar 01 11 would extend into 40, leaving 1 octet for the SCID; the
  // request is still understood: PSM read as 2 octets 0x1101 (most significant octet odd: invalid), SCID 0x0040
  cmd = one('02 01 04 00 01 11 40 00');
  assert.is(l2cap_sig_classify(cmd).action, 'process');
  assert.ok(l2cap_sig_parse_connection_request(cmd, req));
  assert.equal({ ...req }, { psm: 0x1101, psm_length: 2, psm_valid: false, scid: 0x0040 });
  // every octet odd: the PSM never ends; same treatment
  cmd = one('02 01 04 00 01 03 05 07');
  assert.is(l2cap_sig_classify(cmd).action, 'process');
  assert.ok(l2cap_sig_parse_connection_request(cmd, req));
  assert.equal({ ...req }, { psm: 0x0301, psm_length: 2, psm_valid: false, scid: 0x0705 });
  // 5 octets whose extension does not fit either: 2-octet PSM, SCID after it, the last octet ignored
  cmd = one('02 01 05 00 01 03 05 07 09');
  assert.ok(l2cap_sig_parse_connection_request(cmd, req));
  assert.equal({ ...req }, { psm: 0x0301, psm_length: 2, psm_valid: false, scid: 0x0705 });
  assert.is(l2cap_sig_psm_length(fromHex('01 03 05 07'), 0, 4), -1);
  assert.is(l2cap_sig_psm_length(fromHex('01'), 0, 1), -1);
  assert.is(l2cap_sig_psm_length(fromHex('03 00'), 0, 2), 2);
});

test('typed views of responses, rejects and information', () => {
  const rej = new L2capCommandReject();
  assert.ok(l2cap_sig_parse_command_reject(one('01 02 04 00 01 00 30 00'), rej));
  assert.equal({ ...rej }, { reason: L2CAP_REJ_MTU_EXCEEDED, mtu: 48, local_cid: 0, remote_cid: 0 });
  assert.ok(l2cap_sig_parse_command_reject(one('01 02 06 00 02 00 40 00 41 00'), rej));
  assert.equal({ ...rej }, { reason: L2CAP_REJ_INVALID_CID, mtu: 0, local_cid: 0x40, remote_cid: 0x41 });

  const rsp = new L2capConnectionResponse();
  assert.ok(l2cap_sig_parse_connection_response(one('03 01 08 00 41 00 40 00 01 00 02 00'), rsp));
  assert.equal({ ...rsp }, { dcid: 0x41, scid: 0x40, result: 1, status: 2 });

  const creq = new L2capConfigureRequest();
  const c = one('04 02 08 00 41 00 01 00 01 02 a0 02');
  assert.ok(l2cap_sig_parse_configure_request(c, creq));
  assert.is(creq.dcid, 0x41);
  assert.ok(creq.continuation);
  assert.is(hex(c.buf.subarray(creq.options_offset, creq.options_offset + creq.options_length)), '01 02 a0 02');

  const crsp = new L2capConfigureResponse();
  const r = one('05 02 0a 00 40 00 00 00 01 00 01 02 30 00');
  assert.ok(l2cap_sig_parse_configure_response(r, crsp));
  assert.equal([crsp.scid, crsp.flags, crsp.result, crsp.continuation], [0x40, 0, 1, false]);
  assert.is(hex(r.buf.subarray(crsp.options_offset, crsp.options_offset + crsp.options_length)), '01 02 30 00');

  const info = new L2capInformationResponse();
  assert.ok(l2cap_sig_parse_information_response(one('0b 01 08 00 02 00 00 00 b8 00 00 80'), info));
  assert.is(info.extended_features, 0x800000b8);
  assert.ok(l2cap_sig_parse_information_response(one('0b 01 0c 00 03 00 00 00 86 00 00 00 01 00 00 00'), info));
  assert.equal([info.fixed_channels_low, info.fixed_channels_high], [0x86, 1]);
  assert.ok(l2cap_sig_parse_information_response(one('0b 01 06 00 01 00 00 00 a0 02'), info));
  assert.is(info.connectionless_mtu, 672);
  assert.ok(l2cap_sig_parse_information_response(one('0b 01 04 00 02 00 01 00'), info));
  assert.equal([info.result, info.extended_features, info.data_length], [1, 0, 0]);

  // a parse function given the wrong command refuses
  assert.not.ok(l2cap_sig_parse_connection_response(one('02 01 04 00 01 10 40 00'), rsp));
});

test('a C-frame over MTUsig: one Command Reject "MTU exceeded" with the first request identifier', () => {
  // Echo Response id 4 (not a request), then Echo Request id 7 with 60 octets of data: payload 4 + 64 = 68 > 48
  const payload = new Uint8Array(68);
  payload.set([0x09, 0x04, 0x00, 0x00, 0x08, 0x07, 60, 0x00]);
  assert.is(l2cap_sig_classify_frame(payload.length, 48), l2cap_sig_classify_frame(100, 99));
  const v = l2cap_sig_classify_frame(payload.length, 48);
  assert.equal([v.action, v.reason, v.problem], ['reject', L2CAP_REJ_MTU_EXCEEDED, 'signaling-mtu-exceeded']);
  const id = l2cap_sig_first_request_identifier(payload, 0, payload.length);
  assert.is(id, 7);
  // reply: code 01, id 07, length 4, reason 0001, MTUsig 48 = 30 00
  const out = new Uint8Array(8);
  l2cap_sig_command_reject_mtu_exceeded(out, 0, id, 48);
  assert.is(hex(out), '01 07 04 00 01 00 30 00');
  // exactly MTUsig: processed
  assert.is(l2cap_sig_classify_frame(48, 48).action, 'process');
  // no request: the first nonzero identifier; nothing at all: 0
  assert.is(l2cap_sig_first_request_identifier(fromHex('09 00 00 00 09 05 00 00'), 0, 8), 5);
  assert.is(l2cap_sig_first_request_identifier(fromHex('09 00 00 00'), 0, 4), 0);
  assert.is(l2cap_sig_first_request_identifier(fromHex('08'), 0, 1), 0);
});

test.run();
