/**
 * Regression (issue 11 item 1): an ACL packet above 4096 data bytes arriving over H4 used to be
 * an H4 framing error (DEFAULT_H4_LIMITS.max_acl 4096): the stack restarted (HALTING -> OFF ->
 * INITIALIZING), every link vanished and the data was lost, without a word to the application.
 * Every ACL length H4 can express (up to 65535 data bytes) must reach L2CAP intact, the stack
 * staying WORKING. Fails on 182843b.
 *
 * Stack "b" sits behind real H4 framing (H4PipeTransport: the deframer with its default limits,
 * reads of 4096 bytes, as ports/serialport); "a" on a plain virtual transport opens an L2CAP
 * channel (MTU 65535) to b. The large packets are written by hand from the Core spec (Vol 4
 * Part E 5.4.2: handle + PB 0b10, data length; Vol 3 Part A 3.1: L2CAP length, CID) onto b's
 * stream, as a controller that hands each L2CAP PDU up unfragmented would send them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { RadioLink } from '../../../src/controller/link.js';
import { VirtualTransport } from '../../../ports/virtual/transport.js';
import { Stack } from '../../../src/stack.js';
import { little_endian_read_16, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { H4PipeTransport } from './h4-pipe.js';

const ADDR_A = sscanf_bd_addr('AA:00:00:00:00:01')!;
const ADDR_B = sscanf_bd_addr('BB:00:00:00:00:02')!;
const PSM = 0x1001;

function setup() {
  const rl = new VirtualRunLoop();
  rl.onError = (err) => {
    throw err;
  };
  const link = new RadioLink(rl, { seed: 'h4-large-acl' });
  const ca = link.create_controller({ bd_addr: ADDR_A, name: 'a' });
  const cb = link.create_controller({ bd_addr: ADDR_B, name: 'b' });
  const a = new Stack({ transport: new VirtualTransport(ca), run_loop: rl });
  const pipe = new H4PipeTransport(cb, 4096);
  const b = new Stack({ transport: pipe, run_loop: rl });
  const states: number[] = [];
  let handle = -1;
  b.hci.hci_add_event_handler({
    callback: (_t, _c, p) => {
      if (p[0] === 0x60) states.push(p[2]!); // BTSTACK_EVENT_STATE
      if (p[0] === 0x03 && p[2] === 0) handle = little_endian_read_16(p, 3); // Connection Complete
    },
  });
  a.hci.hci_power_control(1);
  b.hci.hci_power_control(1);
  assert.ok(
    rl.run_until(() => a.hci.hci_get_state() === 2 && b.hci.hci_get_state() === 2, 5000),
    'both working',
  );
  a.l2cap.l2cap_init();
  b.l2cap.l2cap_init();
  b.gap.gap_connectable_control(1);
  const sdus: Uint8Array[] = [];
  let b_cid = -1;
  b.l2cap.l2cap_register_service(
    (type, channel, packet, size) => {
      if (type === 0x04 && packet[0] === 0x72) b.l2cap.l2cap_accept_connection(little_endian_read_16(packet, 12)); // INCOMING_CONNECTION: local cid
      if (type === 0x04 && packet[0] === 0x70 && packet[2] === 0) b_cid = little_endian_read_16(packet, 13); // CHANNEL_OPENED: local cid
      if (type === 0x06) sdus.push(packet.slice(0, size));
      void channel;
    },
    PSM,
    0xffff,
  );
  let a_open = false;
  const r = a.l2cap.l2cap_create_channel(
    (type, _c, packet) => {
      if (type === 0x04 && packet[0] === 0x70 && packet[2] === 0) a_open = true;
    },
    ADDR_B,
    PSM,
    0xffff,
  );
  assert.is(r.status, 0);
  assert.ok(
    rl.run_until(() => a_open && b_cid > 0, 20_000),
    'channel open',
  );
  rl.run(100);
  states.length = 0;
  return { rl, a, b, pipe, sdus, states, b_cid: () => b_cid, handle: () => handle };
}

/** An ACL packet (H4 type 2) for `handle` with one whole L2CAP PDU of `data_len` ACL data bytes to `cid`. */
function bigAcl(handle: number, cid: number, data_len: number, seed: number): { h4: Uint8Array; sdu: Uint8Array } {
  const sdu_len = data_len - 4;
  const h4 = new Uint8Array(1 + 4 + data_len);
  h4[0] = 0x02;
  h4[1] = handle & 0xff;
  h4[2] = ((handle >> 8) & 0x0f) | 0x20; // PB 0b10: first automatically flushable
  h4[3] = data_len & 0xff;
  h4[4] = data_len >> 8;
  h4[5] = sdu_len & 0xff;
  h4[6] = sdu_len >> 8;
  h4[7] = cid & 0xff;
  h4[8] = cid >> 8;
  for (let i = 0; i < sdu_len; i++) h4[9 + i] = (i * 7 + seed) & 0xff;
  return { h4, sdu: h4.slice(9) };
}

for (const data_len of [10000, 65535]) {
  test(`an ACL packet of ${data_len} data bytes over H4 reaches L2CAP intact; no framing error, no restart`, () => {
    const s = setup();
    const handle = s.handle();
    assert.ok(handle >= 0, 'b knows its ACL handle');
    const { h4, sdu } = bigAcl(handle, s.b_cid(), data_len, data_len & 0xff);
    s.pipe.inject(h4);
    s.rl.run(100);
    assert.equal(s.pipe.framing_errors, [], 'no framing error');
    assert.equal(s.states, [], 'no state change (no HALTING/OFF/INITIALIZING)');
    assert.is(s.b.hci.hci_get_state(), 2, 'b still WORKING');
    assert.is(s.sdus.length, 1, 'one SDU delivered');
    assert.is(s.sdus[0]!.length, data_len - 4);
    assert.ok(Buffer.from(s.sdus[0]!).equals(Buffer.from(sdu)), 'SDU bytes intact');
    // the link is still there: a later packet arrives too
    const next = bigAcl(handle, s.b_cid(), 4100, 3);
    s.pipe.inject(next.h4);
    s.rl.run(100);
    assert.is(s.sdus.length, 2);
    assert.ok(Buffer.from(s.sdus[1]!).equals(Buffer.from(next.sdu)));
    assert.is(s.b.l2cap.l2cap_get_channels().length, 1, 'the channel is still open');
  });
}

test.run();
