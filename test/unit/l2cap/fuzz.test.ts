/**
 * Fuzz: 100,000+ random and mutated signalling PDUs (seeded, reproducible) through the basic
 * header check, the C-frame reader, classification, every typed view, the option parser and the
 * configuration answer + response encoder.
 *
 * - Nothing throws.
 * - Every outcome is one of the typed ones; 'process' always parses.
 * - Nothing reads past the range it is given: each PDU is decoded twice, once from an exact-size
 *   Uint8Array and once from the same bytes followed by random padding in a larger array (same
 *   range). Any read past the end would see undefined (0) in the first and padding in the second,
 *   so the two summaries would differ.
 * - Our own answers (Configuration Responses) decode as well-formed commands with well-formed options.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, prng } from './helpers.js';
import { l2cap_pdu_check } from '../../../src/l2cap/pdu.js';
import {
  L2capSignalingReader,
  L2capSignalingCommand,
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
  l2cap_sig_parse_command_reject,
  l2cap_sig_parse_connection_request,
  l2cap_sig_parse_connection_response,
  l2cap_sig_parse_configure_request,
  l2cap_sig_parse_configure_response,
  l2cap_sig_parse_disconnection,
  l2cap_sig_parse_information_request,
  l2cap_sig_parse_information_response,
  l2cap_sig_configure_response_answer,
} from '../../../src/l2cap/signaling.js';
import {
  L2capConfigOptions,
  L2capConfigAnswer,
  l2cap_config_options_parse,
  l2cap_config_request_answer,
} from '../../../src/l2cap/config-options.js';

const CORPUS = [
  '08 00 01 00 02 01 04 00 01 10 40 00', // connection request
  '0c 00 01 00 03 01 08 00 41 00 40 00 00 00 00 00', // connection response
  '0c 00 01 00 04 02 08 00 41 00 00 00 01 02 a0 02', // config request MTU
  '2f 00 01 00 04 02 2b 00 41 00 01 00 01 02 a0 02 02 02 ff ff 03 16 00 01 00 00 00 00 00 00 00 00 00 00 00 00 ff ff ff ff ff ff ff ff 04 09 03 0a 03 d0 07 e0 2e f2 03 05 01 00',
  '1c 00 01 00 04 02 18 00 41 00 00 00 06 10 01 01 ff ff ff ff ff ff ff ff ff ff ff ff ff ff 07 02 ff 3f', // EFS + EWS
  '10 00 01 00 04 02 0c 00 41 00 00 00 09 02 12 34 89 02 12 34', // unknown + hint
  '0e 00 01 00 05 02 0a 00 40 00 00 00 01 00 01 02 30 00', // config response
  '08 00 01 00 06 05 04 00 41 00 40 00', // disconnection request
  '08 00 01 00 07 05 04 00 41 00 40 00', // disconnection response
  '06 00 01 00 08 07 02 00 68 69', // echo request
  '06 00 01 00 09 07 02 00 68 69', // echo response
  '0c 00 01 00 0a 01 02 00 02 00 0a 02 02 00 03 00', // two info requests
  '0c 00 01 00 0b 03 08 00 02 00 00 00 b8 00 00 00', // info response features
  '14 00 01 00 0b 05 0c 00 03 00 00 00 06 00 00 00 00 00 00 00 01 09 02 00 00 00', // info rsp fixed + reject
  '0e 00 01 00 01 09 06 00 02 00 40 00 41 00', // reject invalid cid
  '0c 00 01 00 01 09 04 00 01 00 30 00 08 01 00 00', // reject mtu + empty echo
  '09 00 01 00 02 01 05 00 01 11 00 40 00', // extended PSM
].map(fromHex);

const INTERESTING = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x12, 0x7f, 0x80, 0x81, 0x89, 0xfe, 0xff,
];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let a = Array.from(src);
  const k = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < k; i++) {
    const at = Math.floor(rnd() * (a.length + 1));
    switch (Math.floor(rnd() * 7)) {
      case 0:
        if (a.length) a[at % a.length] = Math.floor(rnd() * 256);
        break;
      case 1:
        if (a.length) a[at % a.length] = INTERESTING[Math.floor(rnd() * INTERESTING.length)]!;
        break;
      case 2:
        a.splice(at, 0, Math.floor(rnd() * 256));
        break;
      case 3:
        a.splice(at, 1);
        break;
      case 4:
        a = a.slice(0, at);
        break;
      case 5: {
        const s = Math.floor(rnd() * a.length);
        a.splice(at, 0, ...a.slice(s, s + Math.floor(rnd() * 8)));
        break;
      }
      default:
        if (a.length > 8) {
          a[6] = Math.floor(rnd() * 40);
          a[7] = rnd() < 0.9 ? 0 : Math.floor(rnd() * 256);
        }
        break; // command length
    }
  }
  // keep the basic header honest half of the time, so the walk goes deep
  if (a.length >= 4 && rnd() < 0.5) {
    a[0] = (a.length - 4) & 0xff;
    a[1] = (a.length - 4) >> 8;
    a[2] = 1;
    a[3] = 0;
  }
  return Uint8Array.from(a);
}

function random(rnd: () => number): Uint8Array {
  // random commands with plausible codes and lengths, or pure noise
  if (rnd() < 0.3) {
    const n = Math.floor(rnd() * 64);
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.floor(rnd() * 256);
    return a;
  }
  const body: number[] = [];
  const cmds = 1 + Math.floor(rnd() * 3);
  for (let c = 0; c < cmds; c++) {
    const len = Math.floor(rnd() * 20);
    body.push(Math.floor(rnd() * 0x0e), Math.floor(rnd() * 4), len, 0);
    // option-like data for configure commands: type, length, data
    for (let i = 0; i < len; i++)
      body.push(rnd() < 0.3 ? INTERESTING[Math.floor(rnd() * INTERESTING.length)]! : Math.floor(rnd() * 256));
    if (rnd() < 0.1) body.pop(); // sometimes lie
  }
  return Uint8Array.from([body.length & 0xff, body.length >> 8, 1, 0, ...body]);
}

const PDU_CHECKS = new Set(['ok', 'short-header', 'truncated', 'excess']);
const READ = new Set(['command', 'end', 'truncated-header', 'length-exceeds-frame']);
const OPT = new Set(['ok', 'truncated-option', 'bad-option-length']);

// reusable decoder state, as the layer would hold it
const reader = new L2capSignalingReader();
const cmd = new L2capSignalingCommand();
const rej = new L2capCommandReject();
const creq = new L2capConnectionRequest();
const crsp = new L2capConnectionResponse();
const cfq = new L2capConfigureRequest();
const cfr = new L2capConfigureResponse();
const disc = new L2capDisconnection();
const ireq = new L2capInformationRequest();
const irsp = new L2capInformationResponse();
const opts = new L2capConfigOptions();
const ans = new L2capConfigAnswer();
const out = new Uint8Array(1024);
const echoReader = new L2capSignalingReader();
const echoCmd = new L2capSignalingCommand();
const echoCfr = new L2capConfigureResponse();
const echoOpts = new L2capConfigOptions();

const seen = new Map<string, number>();
const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);

/** Decode the PDU at buf[0, size) and summarise every outcome and value. */
function decode(buf: Uint8Array, size: number, sum: number[]): void {
  const chk = l2cap_pdu_check(buf, 0, size);
  assert.ok(PDU_CHECKS.has(chk));
  count(`pdu:${chk}`);
  sum.push(chk.length);
  const payload = Math.max(0, size - 4);
  const fv = l2cap_sig_classify_frame(payload, 48);
  sum.push(fv.reason, l2cap_sig_first_request_identifier(buf, 4, payload));
  reader.reset(buf, 4, payload);
  for (let guard = 0; guard < 10000; guard++) {
    const st = reader.next(cmd);
    assert.ok(READ.has(st));
    count(`read:${st}`);
    sum.push(st.length, cmd.code, cmd.identifier, cmd.length, cmd.data_offset, cmd.data_length);
    if (st === 'end') return;
    assert.ok(cmd.data_offset + cmd.data_length <= size, 'view inside the PDU');
    if (st !== 'command') {
      const v = l2cap_sig_classify_read_status(st);
      assert.is(v.action, 'drop');
      assert.is(reader.next(cmd), 'end');
      return;
    }
    const v = l2cap_sig_classify(cmd);
    assert.ok(v.action === 'process' || v.action === 'reject' || v.action === 'drop');
    count(`verdict:${v.action}:${v.problem}`);
    sum.push(v.action.length, v.reason, v.problem.length);
    // every parse function on every command: never throws; 'process' implies the right one succeeds
    const r = [
      l2cap_sig_parse_command_reject(cmd, rej),
      l2cap_sig_parse_connection_request(cmd, creq),
      l2cap_sig_parse_connection_response(cmd, crsp),
      l2cap_sig_parse_configure_request(cmd, cfq),
      l2cap_sig_parse_configure_response(cmd, cfr),
      l2cap_sig_parse_disconnection(cmd, disc),
      l2cap_sig_parse_information_request(cmd, ireq),
      l2cap_sig_parse_information_response(cmd, irsp),
    ];
    if (v.action === 'process') {
      const idx = [0, 0, 1, 2, 3, 4, 5, 5, -1, -1, 6, 7][cmd.code]!;
      if (idx >= 0) assert.ok(r[idx], `code ${cmd.code} processed but not parsed`);
    }
    for (const x of r) sum.push(x ? 1 : 0);
    if (r[0]) sum.push(rej.reason, rej.mtu, rej.local_cid, rej.remote_cid);
    if (r[1]) sum.push(creq.psm, creq.psm_length, creq.psm_valid ? 1 : 0, creq.scid);
    if (r[2]) sum.push(crsp.dcid, crsp.scid, crsp.result, crsp.status);
    if (r[5]) sum.push(disc.dcid, disc.scid);
    if (r[6]) sum.push(ireq.info_type);
    if (r[7])
      sum.push(
        irsp.info_type,
        irsp.result,
        irsp.connectionless_mtu,
        irsp.extended_features,
        irsp.fixed_channels_low,
        irsp.fixed_channels_high,
      );
    if (r[3] || r[4]) {
      const off = r[3] ? cfq.options_offset : cfr.options_offset;
      const len = r[3] ? cfq.options_length : cfr.options_length;
      assert.ok(off + len <= size);
      const os = l2cap_config_options_parse(buf, off, len, opts.clear());
      assert.ok(OPT.has(os));
      count(`options:${os}`);
      sum.push(
        os.length,
        opts.present,
        opts.mtu,
        opts.flush_timeout,
        opts.mode,
        opts.mps,
        opts.qos_latency,
        opts.efs_flush_timeout,
        opts.extended_window_size,
        opts.fcs,
        opts.unknown_count,
        opts.hints_skipped,
        opts.first_unknown_type,
      );
      if (r[3]) {
        l2cap_config_request_answer(opts, os, ans);
        count(`answer:${ans.result}`);
        const n = l2cap_sig_configure_response_answer(out, 0, cmd.identifier || 1, cfq.dcid, 0, ans, buf, off, len);
        assert.ok(n >= 10, 'answer fits');
        // our answer is a well-formed command with well-formed options
        echoReader.reset(out, 0, n);
        assert.is(echoReader.next(echoCmd), 'command');
        assert.is(l2cap_sig_classify(echoCmd).action, 'process');
        assert.ok(l2cap_sig_parse_configure_response(echoCmd, echoCfr));
        assert.is(echoCfr.result, ans.result);
        assert.is(l2cap_config_options_parse(out, echoCfr.options_offset, echoCfr.options_length, echoOpts.clear()), 'ok');
        assert.is(echoReader.next(echoCmd), 'end');
        for (let i = 0; i < n; i++) sum.push(out[i]!);
      }
    }
  }
  assert.unreachable('reader did not terminate');
}

test('100,000+ random and mutated signalling PDUs: no throw, typed outcomes, no reads past the end', () => {
  const rnd = prng(0x12cab);
  const N = 100_000;
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < N; i++) {
    const pdu = rnd() < 0.6 ? mutate(CORPUS[Math.floor(rnd() * CORPUS.length)]!, rnd) : random(rnd);
    a.length = 0;
    b.length = 0;
    decode(pdu, pdu.length, a); // exact-size array
    const padded = new Uint8Array(pdu.length + 1 + Math.floor(rnd() * 16));
    padded.set(pdu);
    for (let j = pdu.length; j < padded.length; j++) padded[j] = Math.floor(rnd() * 256);
    decode(padded, pdu.length, b); // same bytes, garbage after them
    if (a.join() !== b.join())
      assert.unreachable(
        `decoding differs with padding (read past the end) for ${Array.from(pdu, (x) => x.toString(16).padStart(2, '0')).join(' ')}`,
      );
  }
  // the fuzz reached every kind of outcome (so it tests something)
  for (const k of [
    'pdu:ok',
    'pdu:short-header',
    'pdu:truncated',
    'pdu:excess',
    'read:command',
    'read:truncated-header',
    'read:length-exceeds-frame',
    'verdict:process:none',
    'verdict:reject:unknown-code',
    'verdict:reject:request-too-short',
    'verdict:drop:invalid-identifier',
    'verdict:drop:response-too-short',
    'options:ok',
    'options:truncated-option',
    'options:bad-option-length',
    'answer:0',
    'answer:1',
    'answer:2',
    'answer:3',
  ])
    assert.ok((seen.get(k) ?? 0) > 0, `fuzz never produced ${k}`);
});

test('random option lists through the option parser: exact-size vs padded agree', () => {
  const rnd = prng(0x0b7);
  const o1 = new L2capConfigOptions();
  const o2 = new L2capConfigOptions();
  for (let i = 0; i < 20_000; i++) {
    const n = Math.floor(rnd() * 40);
    const bytes = new Uint8Array(n);
    for (let j = 0; j < n; j++)
      bytes[j] = rnd() < 0.4 ? Math.floor(rnd() * 10) | (rnd() < 0.2 ? 0x80 : 0) : Math.floor(rnd() * 256);
    const padded = new Uint8Array(n + 8).fill(0xa5);
    padded.set(bytes);
    const s1 = l2cap_config_options_parse(bytes, 0, n, o1.clear());
    const s2 = l2cap_config_options_parse(padded, 0, n, o2.clear());
    assert.ok(OPT.has(s1));
    assert.is(s1, s2);
    assert.equal({ ...o1 }, { ...o2 });
  }
});

test.run();
