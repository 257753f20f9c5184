/**
 * The signalling channel against a scripted fake HCI: configuration requests (continuation,
 * unknown options, unacceptable parameters, lying lengths), command reject both ways, echo and
 * information both ways, connectionless data, CAN_SEND_NOW fairness. Answers checked byte for
 * byte against vectors derived by hand from Core v5.4 Vol 3 Part A, 4 and 5.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HANDLE, fromHex, hex, linkUp, makeHarness, openOutgoing, type Harness } from './l2cap-harness.js';

const PSM = 0x1001;

/** An incoming channel 0x0040 <-> remote 0x0050, accepted, in CONFIG with our request (id 1) sent. */
function configuring(profile: 'v1.4' | 'v1.8' = 'v1.4'): Harness {
  const h = makeHarness(profile);
  h.l2cap.l2cap_register_service(h.handler, PSM, 1000, 0);
  linkUp(h);
  h.hci.sig(HANDLE, '02 01 0400 0110 5000');
  h.loop.run(0);
  h.l2cap.l2cap_accept_connection(0x40);
  h.loop.run(0);
  assert.equal(h.hci.take().length, 2);
  return h;
}

test('config request with continuation: each fragment answered, the C flag echoed, options merged', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '04 02 0800 4000 0100 0102 0002');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 02 06 00 50 00 01 00 00 00']);
  h.hci.sig(HANDLE, '04 03 0800 4000 0000 0202 6400');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 03 06 00 50 00 00 00 00 00']);
  h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  h.loop.run(0);
  const ch = h.l2cap.l2cap_get_channels()[0]!;
  assert.is(ch.state, 'OPEN');
  assert.is(ch.remote_mtu, 512, 'MTU from the first fragment');
  assert.is(ch.flush_timeout, 100, 'flush timeout from the second');
  assert.is(h.ofCode(0x70)[0]!.bytes, '70 18 00 66 55 44 33 22 11 40 00 01 10 40 00 50 00 e8 03 00 02 64 00 01 00 00');
});

test('CHANNEL_OPENED flush_timeout: 0 when the remote sent no Flush Timeout option (as BTstack), else its value', () => {
  // no option at all: BTstack's zeroed channel reports 0 (not the spec's default 0xFFFF)
  const h = configuring();
  h.hci.sig(HANDLE, '04 02 0400 4000 0000');
  h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  h.loop.run(0);
  assert.is(h.ofCode(0x70)[0]!.bytes, '70 18 00 66 55 44 33 22 11 40 00 01 10 40 00 50 00 e8 03 a0 02 00 00 01 00 00');
  assert.is(h.l2cap.l2cap_get_channels()[0]!.flush_timeout, 0);
  // an explicit 0xFFFF (infinite) is reported as sent
  const g = configuring();
  g.hci.sig(HANDLE, '04 02 0800 4000 0000 0202 ffff');
  g.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  g.loop.run(0);
  assert.is(g.ofCode(0x70)[0]!.bytes, '70 18 00 66 55 44 33 22 11 40 00 01 10 40 00 50 00 e8 03 a0 02 ff ff 01 00 00');
  // an outgoing channel whose remote sends only an MTU: 0 as well
  const o = makeHarness('v1.8');
  linkUp(o);
  openOutgoing(o, PSM, 0x0070);
  assert.is(o.ofCode(o.l2cap.state.codes.L2CAP_EVENT_CHANNEL_OPENED).at(-1)!.bytes.split(' ').slice(21, 23).join(' '), '00 00');
});

test('config request with an unknown non-hint option: result 3 listing it (hints skipped)', () => {
  const h = configuring();
  // option 0x7e (len 1, 0x55) is unknown and not a hint; 0xfe (hint) is skipped silently
  h.hci.sig(HANDLE, '04 02 0a00 4000 0000 7e0155 fe0100');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0d 00 01 00 05 02 09 00 50 00 00 00 03 00 7e 01 55']);
  assert.is(h.l2cap.l2cap_get_channels()[0]!.state, 'CONFIG');
  // the remote tries again without it
  h.hci.sig(HANDLE, '04 03 0400 4000 0000');
  h.hci.sig(HANDLE, '05 01 0600 4000 0000 0000');
  h.loop.run(0);
  assert.is(h.l2cap.l2cap_get_channels()[0]!.state, 'OPEN');
});

test('config request with MTU below 48: unacceptable parameters proposing 48', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '04 02 0800 4000 0000 0102 2f00');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0e 00 01 00 05 02 0a 00 50 00 00 00 01 00 01 02 30 00']);
});

test('config request asking for ERTM: unacceptable parameters proposing Basic mode', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '04 02 0f00 4000 0000 0409 030a03d007e02e0002');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['15 00 01 00 05 02 11 00 50 00 00 00 01 00 04 09 00 00 00 00 00 00 00 00 00']);
});

test('config request with an option whose length lies: result 2 rejected', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '04 02 0700 4000 0000 0105 00'); // MTU option claims 5 data octets, 1 present
  h.hci.sig(HANDLE, '04 03 0700 4000 0000 0101 00'); // MTU option with length 1 (must be 2)
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 02 06 00 50 00 00 00 02 00', '0a 00 01 00 05 03 06 00 50 00 00 00 02 00']);
  // while the controller has no buffer, each request still gets its own answer, in order (Vol 3 Part A, 4)
  h.hci.credits = 0;
  h.hci.sig(HANDLE, '04 04 0700 4000 0000 0105 00');
  h.hci.sig(HANDLE, '04 05 0600 4000 0000 0102');
  h.hci.complete(HANDLE, 5);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 04 06 00 50 00 00 00 02 00', '0a 00 01 00 05 05 06 00 50 00 00 00 02 00']);
});

test('config request QoS and flush timeout options are accepted as sent', () => {
  const h = configuring();
  // QoS: flags 0, best effort, token rate etc.; flush timeout 0xffff
  h.hci.sig(HANDLE, '04 02 2000 4000 0000 0316 0001 00000000 00000000 00000000 ffffffff ffffffff 0202 ffff');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 05 02 06 00 50 00 00 00 00 00']);
});

test('config request for a CID we do not have / in a wrong state: Command Reject invalid CID', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '04 05 0400 4100 0000');
  h.loop.run(0);
  // reason 2, local (our) CID 0x0041 as named, remote 0
  assert.equal(h.hci.take(), ['0a 00 01 00 01 05 06 00 02 00 41 00 00 00']);
  h.hci.sig(HANDLE, '02 06 0400 0110 6000'); // a second incoming channel 0x41, not accepted yet
  h.hci.sig(HANDLE, '04 07 0400 4100 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 01 07 06 00 02 00 41 00 60 00']);
});

test('disconnection request naming a wrong CID pair: Command Reject invalid CID', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '06 05 0400 4000 5100'); // our cid right, remote cid wrong
  h.loop.run(0);
  assert.equal(h.hci.take(), ['0a 00 01 00 01 05 06 00 02 00 40 00 51 00']);
  assert.is(h.l2cap.l2cap_get_channels().length, 1);
});

test('command reject: unknown code, too-short request, LE-only code; identifier 0 and short responses dropped', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '20 05 0000');
  h.hci.sig(HANDLE, '02 06 0200 0110');
  h.hci.sig(HANDLE, '12 07 0800 0600 0c00 0000 4800'); // LE connection parameter update on ACL-U
  h.hci.sig(HANDLE, '08 00 0000'); // echo request with identifier 0
  h.hci.sig(HANDLE, '03 08 0200 0000'); // short connection response
  h.loop.run(0);
  assert.equal(h.hci.take(), ['06 00 01 00 01 05 02 00 00 00', '06 00 01 00 01 06 02 00 00 00', '06 00 01 00 01 07 02 00 00 00']);
});

test('a C-frame larger than our signalling MTU: one Command Reject "signalling MTU exceeded" (672)', () => {
  const h = configuring();
  const data = 'aa'.repeat(700);
  h.hci.sig(HANDLE, `08 0c ${hex(new Uint8Array([700 & 0xff, 700 >> 8])).replace(' ', '')} ${data}`);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['08 00 01 00 01 0c 04 00 01 00 a0 02']);
});

test('several commands in one C-frame are all handled, in order', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '08 0a 0100 61  0a 0b 0200 0100  20 0c 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), [
    '05 00 01 00 09 0a 01 00 61',
    '0a 00 01 00 0b 0b 06 00 01 00 00 00 a0 02',
    '06 00 01 00 01 0c 02 00 00 00',
  ]);
});

test('echo request from the remote: response with the same identifier and data; a queued duplicate is answered too', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '08 09 0300 616263');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['07 00 01 00 09 09 03 00 61 62 63']);
  // a retransmitted request gets a duplicate response (Vol 3 Part A, 4)
  h.hci.sig(HANDLE, '08 09 0300 616263');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['07 00 01 00 09 09 03 00 61 62 63']);
  // while the answer is still waiting for a buffer, the same request again gets its own
  // (duplicate) response too
  h.hci.credits = 0;
  h.hci.sig(HANDLE, '08 0b 0100 64');
  h.hci.sig(HANDLE, '08 0b 0100 64');
  h.hci.sig(HANDLE, '08 0a 0000');
  h.hci.complete(HANDLE, 5);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['05 00 01 00 09 0b 01 00 64', '05 00 01 00 09 0b 01 00 64', '04 00 01 00 09 0a 00 00']);
});

test('echo request with more than 16 data bytes: all of them echoed; a second one while the first waits gets its first 16', () => {
  const h = configuring();
  const data = '000102030405060708090a0b0c0d0e0f1011121314';
  const rsp = (id: string, d: string): string => {
    const n = d.length / 2;
    return hex(fromHex(`${(4 + n).toString(16).padStart(2, '0')} 00 01 00 09 ${id} ${n.toString(16).padStart(2, '0')} 00 ${d}`));
  };
  h.hci.sig(HANDLE, `08 21 1500 ${data}`);
  h.loop.run(0);
  assert.equal(h.hci.take(), [rsp('21', data)]);
  // the link's one echo buffer is taken while the first answer waits: the second gets 16 bytes
  // (Vol 3 Part A, 4.9: the response "may contain ... different data"), from its own request
  h.hci.credits = 0;
  h.hci.sig(HANDLE, `08 22 1500 ${data}`);
  h.hci.sig(HANDLE, `08 23 1500 ${'ff'.repeat(21)}`);
  h.hci.complete(HANDLE, 5);
  h.loop.run(0);
  assert.equal(h.hci.take(), [rsp('22', data), rsp('23', 'ff'.repeat(16))]);
});

test('echo request to the remote: request bytes, response data to the callback; RTX -> 0x69; busy', () => {
  const h = configuring();
  const got: Array<[number, string]> = [];
  const cb = (status: number, data: Uint8Array, size: number) => got.push([status, hex(data.subarray(0, size))]);
  assert.is(h.l2cap.l2cap_send_echo_request(HANDLE, fromHex('616263'), 3, cb), 0);
  assert.is(h.l2cap.l2cap_send_echo_request(HANDLE, null, 0, cb), 0x0c, 'one at a time');
  assert.is(h.l2cap.l2cap_send_echo_request(0x0999, null, 0, cb), 0x02, 'unknown handle');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['07 00 01 00 08 02 03 00 61 62 63']);
  h.hci.sig(HANDLE, '09 07 0200 7879'); // wrong identifier: ignored
  h.hci.sig(HANDLE, '09 02 0200 7879');
  h.loop.run(0);
  assert.equal(got, [[0, '78 79']]);
  assert.is(h.l2cap.l2cap_send_echo_request(HANDLE, null, 0, cb), 0);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['04 00 01 00 08 03 00 00']);
  h.loop.run(10_000);
  assert.equal(got[1], [0x69, '']);
});

test('information request from the remote: connectionless MTU, extended features, fixed channels, unknown type', () => {
  const h = configuring();
  h.hci.sig(HANDLE, '0a 11 0200 0100');
  h.hci.sig(HANDLE, '0a 12 0200 0200');
  h.hci.sig(HANDLE, '0a 13 0200 0300');
  h.loop.run(0);
  h.hci.sig(HANDLE, '0a 14 0200 0400');
  h.loop.run(0);
  assert.equal(h.hci.take(), [
    '0a 00 01 00 0b 11 06 00 01 00 00 00 a0 02',
    // features (Vol 3 Part A, 4.12 table 4.13): ERTM (bit 3), streaming (bit 4), FCS option (bit 5),
    // fixed channels (bit 7), unicast connectionless data reception (bit 9) = 0x02B8
    '0c 00 01 00 0b 12 08 00 02 00 00 00 b8 02 00 00',
    // fixed channels: signalling (bit 1) + connectionless (bit 2)
    '10 00 01 00 0b 13 0c 00 03 00 00 00 06 00 00 00 00 00 00 00',
    '08 00 01 00 0b 14 04 00 04 00 01 00',
  ]);
});

test('l2cap_send_information_request: exchange on an idle link, result in the connection list, v1.8 event', () => {
  const h = makeHarness('v1.8');
  const ev: string[] = [];
  h.l2cap.l2cap_add_event_handler({ callback: (_t, _c, p, n) => ev.push(hex(p.subarray(0, n))) });
  linkUp(h);
  assert.is(h.l2cap.l2cap_send_information_request(HANDLE), 0);
  assert.is(h.l2cap.l2cap_send_information_request(HANDLE), 0x0c);
  assert.is(h.l2cap.l2cap_send_information_request(0x0777), 0x02);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['06 00 01 00 0a 01 02 00 02 00']);
  h.hci.sig(HANDLE, '0b 01 0800 0200 0000 b8020000'); // ERTM, streaming, FCS, fixed channels, UCD
  h.loop.run(0);
  assert.equal(h.hci.take(), ['06 00 01 00 0a 02 02 00 03 00']);
  h.hci.sig(HANDLE, '0b 02 0c00 0300 0000 8600000000000000'); // signalling, connectionless, BR/EDR SM
  h.loop.run(0);
  assert.equal(ev, ['78 06 40 00 b8 02 86 00']);
  assert.equal(
    h.l2cap.l2cap_get_connections().map((c) => [c.extended_features, c.fixed_channels]),
    [[0x2b8, 0x86]],
  );
});

test('l2cap_register_packet_handler (v1.4) is one handler: a second call replaces the first', () => {
  const h = makeHarness('v1.8');
  const first: string[] = [];
  const second: string[] = [];
  h.l2cap.l2cap_register_packet_handler((_t, _c, p, n) => first.push(hex(p.subarray(0, n))));
  h.l2cap.l2cap_register_packet_handler((_t, _c, p, n) => second.push(hex(p.subarray(0, n))));
  linkUp(h);
  h.l2cap.l2cap_send_information_request(HANDLE);
  h.loop.run(0);
  h.hci.sig(HANDLE, '0b 01 0800 0200 0000 00000000');
  h.loop.run(0);
  assert.equal(first, []);
  assert.equal(second, ['78 06 40 00 00 00 00 00']);
});

test('information request not answered: the exchange ends after RTX and the channel goes on', () => {
  const h = makeHarness();
  h.l2cap.l2cap_create_channel(h.handler, fromHex('112233445566'), PSM, 1000);
  h.hci.connectionComplete(fromHex('112233445566'), HANDLE);
  h.loop.run(0);
  assert.equal(h.hci.take(), ['06 00 01 00 0a 01 02 00 02 00']);
  h.loop.run(10_000);
  assert.equal(h.hci.take(), ['08 00 01 00 02 02 04 00 01 10 40 00']);
  assert.equal(
    h.l2cap.l2cap_get_connections().map((c) => c.extended_features),
    [0],
  );
});

test('command reject answering our information request ends the exchange', () => {
  const h = makeHarness();
  h.l2cap.l2cap_create_channel(h.handler, fromHex('112233445566'), PSM, 1000);
  h.hci.connectionComplete(fromHex('112233445566'), HANDLE);
  h.loop.run(0);
  h.hci.take();
  h.hci.sig(HANDLE, '01 01 0200 0000');
  h.loop.run(0);
  assert.equal(h.hci.take(), ['08 00 01 00 02 02 04 00 01 10 40 00']);
});

test('connectionless: G-frame to an enabled PSM delivered as UCD_DATA_PACKET; disabled or unknown PSM dropped; sending', () => {
  const h = makeHarness();
  h.l2cap.l2cap_register_service(h.handler, PSM, 1000, 0);
  linkUp(h);
  h.hci.acl(HANDLE, fromHex('0500 0200 0110 616263'));
  assert.is(h.events.length, 0, 'off by default');
  assert.is(h.l2cap.l2cap_connectionless_enable(PSM, true), 0);
  assert.is(h.l2cap.l2cap_connectionless_enable(0x1003, true), 0x6d);
  h.hci.acl(HANDLE, fromHex('0500 0200 0110 616263'));
  h.hci.acl(HANDLE, fromHex('0500 0200 0310 616263')); // other PSM
  h.hci.acl(HANDLE, fromHex('0100 0200 01')); // PSM cut short
  assert.equal(
    h.events.map((e) => [e.type, e.channel, e.bytes]),
    [[0x0c, HANDLE, '61 62 63']],
  );
  h.l2cap.l2cap_connectionless_enable(PSM, false);
  h.hci.acl(HANDLE, fromHex('0500 0200 0110 616263'));
  assert.is(h.events.length, 1);
  assert.is(h.l2cap.l2cap_send_connectionless_psm(HANDLE, 0x1003, fromHex('7879')), 0);
  assert.equal(h.hci.take(), ['04 00 02 00 03 10 78 79']);
  assert.is(h.l2cap.l2cap_send_connectionless_psm(HANDLE, 0x1003, new Uint8Array(673)), 0x6c);
  assert.is(h.l2cap.l2cap_send_connectionless_psm(0x0999, 0x1003, new Uint8Array(3)), 0x02);
});

test('CAN_SEND_NOW: event bytes per profile, never inside the request call, unknown cid', () => {
  for (const [profile, code] of [
    ['v1.4', '78'],
    ['v1.8', '79'],
  ] as const) {
    const h = makeHarness(profile);
    const cid = openOutgoing(h, PSM, 0x50);
    assert.is(h.l2cap.l2cap_request_can_send_now_event(cid), 0);
    assert.is(h.events.filter((e) => e.bytes.startsWith(code + ' 02')).length, 0);
    h.loop.run(0);
    assert.equal(
      h.events.filter((e) => e.bytes.startsWith(code + ' 02')).map((e) => e.bytes),
      [`${code} 02 40 00`],
      profile,
    );
    assert.is(h.l2cap.l2cap_request_can_send_now(0x99), 0x6e);
  }
});

test('CAN_SEND_NOW fairness: three channels sending flat out share the controller buffers in turn', () => {
  const order: number[] = [];
  const h = makeHarness('v1.4', {}, (e, hh) => {
    if (e.type === 4 && e.code === 0x78) {
      order.push(e.channel);
      assert.is(hh.l2cap.l2cap_send(e.channel, new Uint8Array(20)), 0);
      hh.l2cap.l2cap_request_can_send_now_event(e.channel);
    }
  });
  const cids = [openOutgoing(h, PSM, 0x50), openOutgoing(h, 0x1003, 0x51), openOutgoing(h, 0x1005, 0x52)];
  h.hci.credits = 1;
  for (const c of cids) h.l2cap.l2cap_request_can_send_now_event(c);
  h.loop.run(0);
  for (let i = 0; i < 29; i++) {
    h.hci.complete(HANDLE, 1);
    h.loop.run(0);
  }
  assert.is(order.length, 30);
  const counts = cids.map((c) => order.filter((x) => x === c).length);
  assert.equal(counts, [10, 10, 10]);
  for (let i = 3; i < order.length; i++) assert.is(order[i], order[i - 3], 'strict rotation');
  // with several buffers free at once, every waiting channel gets a turn before any gets a second
  order.length = 0;
  h.hci.complete(HANDLE, 6);
  h.loop.run(0);
  assert.is(order.length, 6);
  assert.equal([...new Set(order.slice(0, 3))].length, 3);
});

test('data on a channel that is not open (CONFIG) is dropped', () => {
  const h = configuring();
  h.hci.acl(HANDLE, fromHex('0300 4000 616263'));
  assert.is(h.events.filter((e) => e.type === 6).length, 0);
});

test.run();
