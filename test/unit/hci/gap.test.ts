import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cc, cs, connect_le, u16, wire_addr, working } from './hci-script.js';
import { hex, sscanf_bd_addr } from '../../../src/core/bytes.js';

const A = '00:1B:DC:07:32:EF';
const ascii = (s: string) => hex(new TextEncoder().encode(s));

test('local name, class of device: written at once when WORKING (name also into EIR)', () => {
  const h = working();
  h.stack.gap.gap_set_local_name('Lamp 00:00:00:00:00:00');
  const name = new Uint8Array(248);
  name.set(new TextEncoder().encode('Lamp 11:22:33:44:55:66'));
  assert.equal(h.t.take_commands(), ['13 0c f8 ' + hex(name)]);
  h.t.event(cc(0x0c13));
  const eir = new Uint8Array(240);
  eir.set([23, 0x09, ...new TextEncoder().encode('Lamp 11:22:33:44:55:66')]);
  assert.equal(h.t.take_commands(), ['52 0c f1 01 ' + hex(eir)]);
  h.t.event(cc(0x0c52));
  h.stack.gap.gap_set_class_of_device(0x200404);
  assert.equal(h.t.take_commands(), ['24 0c 03 04 04 20']);
});

test('discoverable / connectable control: Write Scan Enable and BTSTACK_EVENT_DISCOVERABLE_ENABLED', () => {
  const h = working();
  h.stack.gap.gap_discoverable_control(1);
  assert.equal(h.t.take_commands(), ['1a 0c 01 01']);
  h.t.event(cc(0x0c1a));
  assert.equal(
    h.events.filter((e) => e[0] === 0x66).map((e) => hex(e)),
    ['66 01 01'],
  );
  h.stack.gap.gap_connectable_control(1);
  assert.equal(h.t.take_commands(), ['1a 0c 01 03']);
  h.t.event(cc(0x0c1a));
  h.clear();
  h.stack.gap.gap_discoverable_control(1); // same value: no command, event again (BTstack)
  assert.equal(h.t.take_commands(), []);
  assert.equal(
    h.events.map((e) => hex(e)),
    ['66 01 01'],
  );
  h.stack.gap.gap_discoverable_control(0);
  assert.equal(h.t.take_commands(), ['1a 0c 01 02']);
});

test('scan enable set before power on is part of the init sequence', () => {
  const h = working({}, undefined);
  h.stack.hci.hci_power_control(0);
  h.rl.run(0);
  h.stack.gap.gap_connectable_control(1);
  assert.equal(h.t.take_commands(), [], 'OFF: nothing sent');
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  const seen: string[] = [];
  for (let i = 0; i < 40 && h.stack.hci.hci_get_state() !== 2; i++) {
    for (const c of h.t.take_commands()) {
      seen.push(c);
      const op = parseInt(c.slice(3, 5) + c.slice(0, 2), 16);
      const reply =
        op === 0x1003
          ? '00 ff ff 8f fe 58 ff 49 83'
          : op === 0x1005
            ? '00 36 01 40 04 00 08 00'
            : op === 0x2002
              ? '00 1b 00 03'
              : op === 0x1002
                ? '00 ' + 'ff '.repeat(64)
                : op === 0x1001
                  ? '00 09 00 00 09 0f 00 00 00' // Read Local Version: full return parameters
                  : op === 0x1009
                    ? '00 13 71 da 7d 1a 00' // Read BD_ADDR
                    : '00';
      h.t.event(cc(op, reply));
    }
    h.rl.run(0);
  }
  assert.is(seen[seen.length - 1], '1a 0c 01 02', 'page scan on');
});

test('inquiry: command, GAP_EVENT_INQUIRY_RESULT from RSSI and EIR results, GAP_EVENT_INQUIRY_COMPLETE', () => {
  const h = working();
  assert.is(h.stack.gap.gap_inquiry_start(5), 0);
  assert.equal(h.t.take_commands(), ['01 04 05 33 8b 9e 05 00']);
  assert.is(h.stack.gap.gap_inquiry_start(5), 0x0c, 'already running');
  h.t.event(cs(0x0401));
  h.clear();
  // Inquiry Result with RSSI: 1 response, psrm R1, CoD 0x5a020c, clock offset 0x1234, RSSI -60
  h.t.event(`22 0f 01 ${wire_addr(A)} 01 00 0c 02 5a 34 12 c4`);
  assert.is(h.events.length, 2);
  assert.is(hex(h.events[0]!), `db 19 ${wire_addr(A)} 01 0c 02 5a 34 12 01 c4 00 00 00 00 00 00 00 00 00 00 00`);
  assert.is(h.events[1]![0], 0x22, 'the HCI event follows the GAP event');
  h.clear();
  // Extended Inquiry Response with a name and a Device ID record
  const eir = new Uint8Array(240);
  eir.set([0x05, 0x09, ...new TextEncoder().encode('Test'), 0x09, 0x10, 0x01, 0x00, 0x5d, 0x00, 0x34, 0x12, 0x00, 0x01]);
  h.t.event(`2f ff 01 ${wire_addr(A)} 01 00 0c 02 5a 34 12 c4 ${hex(eir)}`);
  assert.is(hex(h.events[0]!), `db 1d ${wire_addr(A)} 01 0c 02 5a 34 12 01 c4 01 01 00 5d 00 34 12 00 01 01 04 ${ascii('Test')}`);
  h.clear();
  // standard Inquiry Result with two responses
  h.t.event(`02 1d 02 ${wire_addr(A)} 01 00 00 0c 02 5a 34 12 ${wire_addr('00:00:00:00:00:02')} 02 00 00 04 04 20 00 00`);
  assert.equal(
    h.events.map((e) => e[0]),
    [0xdb, 0xdb, 0x02],
  );
  assert.is(
    hex(h.events[1]!),
    `db 19 ${wire_addr('00:00:00:00:00:02')} 02 04 04 20 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00`,
  );
  h.clear();
  h.t.event('01 01 00');
  assert.equal(
    h.events.map((e) => hex(e)),
    ['dc 01 00', '01 01 00'],
  );
  assert.is(h.stack.gap.gap_inquiry_start(0x31), 0x12, 'duration above 0x30');
  assert.is(h.stack.gap.gap_inquiry_start(0), 0x12);
});

test('inquiry stop: Inquiry Cancel, then GAP_EVENT_INQUIRY_COMPLETE; stop when idle is disallowed', () => {
  const h = working();
  assert.is(h.stack.gap.gap_inquiry_stop(), 0x0c);
  h.stack.gap.gap_inquiry_start(10);
  h.t.take_commands();
  h.t.event(cs(0x0401));
  assert.is(h.stack.gap.gap_inquiry_stop(), 0);
  assert.equal(h.t.take_commands(), ['02 04 00']);
  h.clear();
  h.t.event(cc(0x0402));
  assert.equal(
    h.events.map((e) => hex(e)),
    ['dc 01 00', '0e 04 01 02 04 00'],
  );
  // Command Status failure of Inquiry ends it with that status
  h.stack.gap.gap_inquiry_start(1);
  h.t.take_commands();
  h.clear();
  h.t.event(cs(0x0401, 0x0c));
  assert.equal(
    h.events.map((e) => hex(e)),
    ['dc 01 0c', '0f 04 0c 01 01 04'],
  );
});

test('v1.8 profile: GAP inquiry events with the current codes (0xDC result, 0xDD complete), byte for byte', () => {
  const h = working({ profile: 'v1.8' });
  h.stack.gap.gap_inquiry_start(5);
  h.t.take_commands();
  h.t.event(cs(0x0401));
  h.clear();
  // Inquiry Result with RSSI: psrm R1, CoD 0x5a020c, clock offset 0x1234, RSSI -60 (0xc4)
  h.t.event(`22 0f 01 ${wire_addr(A)} 01 00 0c 02 5a 34 12 c4`);
  // Extended Inquiry Result: Complete Local Name 'Test', Device ID source 1 (SIG), vendor 0x005d, product 0x1234, version 0x0100
  const eir = new Uint8Array(240);
  eir.set([0x05, 0x09, ...new TextEncoder().encode('Test'), 0x09, 0x10, 0x01, 0x00, 0x5d, 0x00, 0x34, 0x12, 0x00, 0x01]);
  h.t.event(`2f ff 01 ${wire_addr(A)} 01 00 0c 02 5a 34 12 c4 ${hex(eir)}`);
  h.t.event('01 01 00');
  assert.equal(
    h.events.map((e) => hex(e)),
    [
      // code, length 25, bd_addr, psrm, CoD, clock offset, rssi_available 1, rssi, no DID (1 + 8), no name (1 + 1)
      `dc 19 ${wire_addr(A)} 01 0c 02 5a 34 12 01 c4 00 00 00 00 00 00 00 00 00 00 00`,
      `22 0f 01 ${wire_addr(A)} 01 00 0c 02 5a 34 12 c4`,
      // length 29: DID available, source 0x0001, vendor 0x005d, product 0x1234, version 0x0100; name available, 4, 'Test'
      `dc 1d ${wire_addr(A)} 01 0c 02 5a 34 12 01 c4 01 01 00 5d 00 34 12 00 01 01 04 ${ascii('Test')}`,
      `2f ff 01 ${wire_addr(A)} 01 00 0c 02 5a 34 12 c4 ${hex(eir)}`,
      'dd 01 00', // GAP_EVENT_INQUIRY_COMPLETE status 0
      '01 01 00',
    ],
  );
});

test('remote name request: one at a time, sent with the given clock offset', () => {
  const h = working();
  const addr = sscanf_bd_addr(A)!;
  assert.is(h.stack.gap.gap_remote_name_request(addr, 1, 0x9234), 0);
  assert.equal(h.t.take_commands(), [`19 04 0a ${wire_addr(A)} 01 00 34 92`]);
  assert.is(h.stack.gap.gap_remote_name_request(addr, 1, 0), 0x0c);
  h.t.event(cs(0x0419));
  const name = new Uint8Array(248);
  name.set(new TextEncoder().encode('Phone'));
  h.t.event(`07 ff 00 ${wire_addr(A)} ${hex(name)}`);
  assert.is(h.events[h.events.length - 1]![0], 0x07);
  assert.is(h.stack.gap.gap_remote_name_request(addr, 1, 0), 0);
});

test('LE advertising: parameters, data, scan response, enable; re-enabled after a peripheral link closes', () => {
  const h = working();
  const gap = h.stack.gap;
  gap.gap_advertisements_set_params(0x0030, 0x0030, 0, 0, new Uint8Array(6), 0x07, 0);
  assert.equal(h.t.take_commands(), ['06 20 0f 30 00 30 00 00 00 00 00 00 00 00 00 00 07 00']);
  h.t.event(cc(0x2006));
  const ad = Uint8Array.of(0x02, 0x01, 0x06, 0x05, 0x09, 0x4c, 0x61, 0x6d, 0x70);
  gap.gap_advertisements_set_data(ad.length, ad);
  const padded = new Uint8Array(31);
  padded.set(ad);
  assert.equal(h.t.take_commands(), ['08 20 20 09 ' + hex(padded)]);
  h.t.event(cc(0x2008));
  gap.gap_advertisements_enable(1);
  assert.equal(h.t.take_commands(), ['0a 20 01 01']);
  h.t.event(cc(0x200a));
  // a central connects: the controller stops advertising
  connect_le(h, 0x0040, 'C0:FF:EE:00:11:22', 1);
  assert.equal(h.t.take_commands(), [], 'not re-enabled while connected');
  h.t.event(`05 04 00 ${u16(0x40)} 13`);
  assert.equal(h.t.take_commands(), ['0a 20 01 01'], 're-enabled after the disconnection');
  h.t.event(cc(0x200a));
  // changing parameters while advertising: disable, parameters, enable
  gap.gap_advertisements_set_params(0x00a0, 0x00a0, 0, 0, new Uint8Array(6), 0x07, 0);
  assert.equal(h.t.take_commands(), ['0a 20 01 00']);
  h.t.event(cc(0x200a));
  assert.equal(h.t.take_commands(), ['06 20 0f a0 00 a0 00 00 00 00 00 00 00 00 00 00 07 00']);
  h.t.event(cc(0x2006));
  assert.equal(h.t.take_commands(), ['0a 20 01 01']);
  h.t.event(cc(0x200a));
  gap.gap_advertisements_enable(0);
  assert.equal(h.t.take_commands(), ['0a 20 01 00']);
});

test('LE scanning: parameters then enable; GAP_EVENT_ADVERTISING_REPORT per report; stop', () => {
  const h = working();
  const gap = h.stack.gap;
  gap.gap_set_scan_parameters(0, 0x0030, 0x0030);
  assert.equal(h.t.take_commands(), [], 'parameters go out when scanning starts');
  gap.gap_start_scan();
  assert.equal(h.t.take_commands(), ['0b 20 07 00 30 00 30 00 00 00']);
  h.t.event(cc(0x200b));
  assert.equal(h.t.take_commands(), ['0c 20 02 01 00']);
  h.t.event(cc(0x200c));
  h.clear();
  // two reports: ADV_IND public with 3 data bytes rssi -50; SCAN_RSP random with no data rssi -70
  h.t.event(`3e 19 02 02 00 00 ${wire_addr('C0:FF:EE:00:11:22')} 03 02 01 06 ce 04 01 ${wire_addr('D0:00:00:00:00:01')} 00 ba`);
  assert.equal(
    h.events.map((e) => hex(e)),
    [
      `da 0d 00 00 ${wire_addr('C0:FF:EE:00:11:22')} ce 03 02 01 06`,
      `da 0a 04 01 ${wire_addr('D0:00:00:00:00:01')} ba 00`,
      `3e 19 02 02 00 00 ${wire_addr('C0:FF:EE:00:11:22')} 03 02 01 06 ce 04 01 ${wire_addr('D0:00:00:00:00:01')} 00 ba`,
    ],
  );
  gap.gap_stop_scan();
  assert.equal(h.t.take_commands(), ['0c 20 02 00 00']);
  h.t.event(cc(0x200c));
  gap.gap_start_scan();
  assert.equal(h.t.take_commands(), ['0c 20 02 01 00'], 'parameters unchanged: only enable');
});

test('gap calls while OFF are refused or remembered', () => {
  const h = working();
  h.stack.hci.hci_power_control(0);
  h.rl.run(0);
  assert.is(h.stack.gap.gap_inquiry_start(5), 0x0c);
  assert.is(h.stack.gap.gap_connect(sscanf_bd_addr(A)!, 0), 0x0c);
  assert.is(h.stack.gap.gap_remote_name_request(sscanf_bd_addr(A)!, 1, 0), 0x0c);
  assert.throws(() => h.stack.gap.gap_connect(new Uint8Array(5), 0), TypeError);
});

test.run();
