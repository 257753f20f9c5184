/**
 * Controller-to-host flow control (Stack option host_flow_control, BTstack's
 * ENABLE_HCI_CONTROLLER_TO_HOST_FLOW_CONTROL). Command bytes worked out from the Core spec,
 * Vol 4 Part E: 7.3.39 Host Buffer Size (OGF 0x03, OCF 0x0033 -> opcode 0x0C33, wire 33 0c;
 * parameters Host_ACL_Data_Packet_Length (2), Host_Synchronous_Data_Packet_Length (1),
 * Host_Total_Num_ACL_Data_Packets (2), Host_Total_Num_Synchronous_Data_Packets (2) = 7 octets);
 * 7.3.38 Set Controller To Host Flow Control (0x0C31, Flow_Control_Enable 0x01 = ACL on,
 * synchronous off); 7.3.40 Host Number Of Completed Packets (0x0C35: Number_Of_Handles (1), then
 * Connection_Handle[i] (2), Host_Num_Of_Completed_Packets[i] (2)), sent without a command credit.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex } from '../../../src/core/bytes.js';
import { Logger } from '../../../src/core/log.js';
import { hci_read_local_name } from '../../../src/hci/commands.js';
import { boot, cc, connect_classic, harness, settle, u16, working } from './hci-script.js';

/** A complete L2CAP PDU (signalling CID 1 would be answered; use CID 0x0040) as one ACL packet, PB 0b10. */
function acl(handle: number, n: number, pb = 0x2): string {
  const d = new Uint8Array(4 + 4 + n);
  d[0] = handle & 0xff;
  d[1] = (handle >> 8) | (pb << 4);
  d[2] = (4 + n) & 0xff;
  d[3] = (4 + n) >> 8;
  d[4] = n & 0xff;
  d[5] = n >> 8;
  d[6] = 0x40;
  return Buffer.from(d).toString('hex');
}

function commandsOf(all: string[], prefix: string): string[] {
  return all.filter((c) => c.startsWith(prefix));
}

test('init: Host Buffer Size (65535 x 16 by default), then Set Controller To Host Flow Control (ACL), before Set Event Mask', () => {
  const h = harness({ host_flow_control: true });
  h.stack.hci.hci_power_control(1);
  const all = boot(h.t, h.rl, h.stack);
  assert.is(h.stack.hci.hci_get_state(), 2);
  const i = all.indexOf('33 0c 07 ff ff 00 10 00 00 00');
  assert.ok(i > 0, `Host Buffer Size: ${all.join(' | ')}`);
  assert.is(all[i + 1], '31 0c 01 01', 'Set Controller To Host Flow Control: ACL only');
  assert.ok(all[i + 2]!.startsWith('01 0c 08'), 'then Set Event Mask');
  assert.ok(all.indexOf('05 10 00') < i, 'after Read Buffer Size');
  assert.ok(h.stack.hci.state.host_flow.active);
});

test('init: HCI_HOST_ACL_PACKET_LEN / _NUM from the config, the length capped by the transport receive path', () => {
  const h = harness({ host_flow_control: true, config: { HCI_HOST_ACL_PACKET_LEN: 1021, HCI_HOST_ACL_PACKET_NUM: 3 } });
  h.stack.hci.hci_power_control(1);
  assert.ok(boot(h.t, h.rl, h.stack).includes('33 0c 07 fd 03 00 03 00 00 00'));
  const h2 = harness({ host_flow_control: true });
  (h2.t as unknown as { max_acl_receive_length(): number }).max_acl_receive_length = () => 4096;
  h2.stack.hci.hci_power_control(1);
  assert.ok(boot(h2.t, h2.rl, h2.stack).includes('33 0c 07 00 10 00 10 00 00 00'), 'min(65535, transport 4096)');
});

test('off by default: neither command is sent, received ACL is not reported', () => {
  const h = harness();
  h.stack.hci.hci_power_control(1);
  const all = boot(h.t, h.rl, h.stack);
  assert.equal(commandsOf(all, '33 0c'), []);
  assert.equal(commandsOf(all, '31 0c'), []);
  settle(h);
  h.t.take_commands();
  connect_classic(h, 0x0042);
  h.t.acl(acl(0x0042, 10));
  h.rl.run(0);
  assert.equal(h.t.take_commands(), []);
});

test('a controller that refuses Host Buffer Size: flow control is not turned on', () => {
  const h = harness({ host_flow_control: true });
  h.stack.hci.hci_power_control(1);
  h.rl.run(0);
  const all: string[] = [];
  for (let guard = 0; guard < 100 && h.stack.hci.hci_get_state() !== 2; guard++) {
    const cmds = h.t.take_commands();
    if (!cmds.length) break;
    for (const c of cmds) {
      all.push(c);
      const op = fromHex(c);
      const opcode = op[0]! | (op[1]! << 8);
      // 0x01 Unknown HCI Command
      if (opcode === 0x0c33) h.t.event(cc(opcode, '01'));
      else
        h.t.event(
          cc(
            opcode,
            opcode === 0x1005
              ? `00 ${u16(310)} 40 ${u16(4)} 08 00`
              : opcode === 0x1003
                ? '00 ff ff 8f fe 58 ff 49 83'
                : opcode === 0x1002
                  ? '00 ' + 'ff'.repeat(64)
                  : opcode === 0x1001
                    ? '00 09 00 00 09 0f 00 00 00' // Read Local Version: full return parameters
                    : opcode === 0x1009
                      ? '00 13 71 da 7d 1a 00' // Read BD_ADDR
                      : opcode === 0x2002
                        ? '00 1b 00 03' // LE Read Buffer Size
                        : '00',
          ),
        );
    }
    h.rl.run(0);
  }
  assert.is(h.stack.hci.hci_get_state(), 2);
  assert.equal(commandsOf(all, '31 0c'), []);
  assert.not.ok(h.stack.hci.state.host_flow.active);
});

test('Host Number Of Completed Packets: one command per run-loop turn for what was consumed, per handle, without a command credit', () => {
  const h = working({ host_flow_control: true });
  connect_classic(h, 0x0042);
  connect_classic(h, 0x0043, '00:1A:7D:DA:71:14');
  h.t.take_commands();
  // use up the command credit: an app command the controller has not answered
  assert.is(h.stack.hci.hci_send_cmd(hci_read_local_name), 0);
  assert.equal(h.t.take_commands(), ['14 0c 00']);
  assert.not.ok(h.stack.hci.hci_can_send_command_packet_now(), 'no command credit');
  h.t.acl(acl(0x0042, 10));
  h.t.acl(acl(0x0042, 20));
  h.t.acl(acl(0x0043, 5));
  // a PDU in two fragments: two packets
  h.t.acl('42 20 08 00 0a 00 40 00 01 02 03 04');
  h.t.acl('42 10 06 00 05 06 07 08 09 0a');
  assert.equal(h.t.take_commands(), [], 'not inside the packet handler');
  assert.is(h.acl.length, 4, 'three PDUs and the reassembled one delivered');
  h.rl.run(0);
  assert.equal(h.t.take_commands(), ['35 0c 09 02 42 00 04 00 43 00 01 00']);
  h.rl.run(0);
  assert.equal(h.t.take_commands(), [], 'nothing owed');
  assert.is(h.stack.hci.state.host_flow.commands_sent, 1);
  // the command credit was not taken: the app command is still the only one outstanding
  assert.equal(h.stack.hci.state.outstanding, [0x0c14]);
});

test('a handle that disconnects before the report is not reported (its packets count as returned)', () => {
  const h = working({ host_flow_control: true });
  connect_classic(h, 0x0042);
  h.t.take_commands();
  h.t.acl(acl(0x0042, 10));
  h.t.event(`05 04 00 ${u16(0x0042)} 13`); // Disconnection Complete
  h.rl.run(0);
  assert.equal(
    h.t.take_commands().filter((c) => c.startsWith('35 0c')),
    [],
  );
});

test('a report waits for the transport, and goes out on can-send-now', () => {
  const h = working({ host_flow_control: true });
  connect_classic(h, 0x0042);
  h.t.take_commands();
  h.t.acl(acl(0x0042, 10));
  h.t.can_send = false;
  h.rl.run(0);
  assert.equal(h.t.take_commands(), []);
  h.t.can_send = true;
  h.t.emit({ type: 'can-send-now' });
  assert.equal(h.t.take_commands(), ['35 0c 05 01 42 00 01 00']);
});

test('an ACL packet above the announced length is logged at error level and still delivered', () => {
  const log = new Logger();
  const lines: string[] = [];
  log.add_sink((_l, m) => lines.push(m));
  const h = working({ host_flow_control: true, log, config: { HCI_HOST_ACL_PACKET_LEN: 27 } });
  connect_classic(h, 0x0042);
  h.t.acl(acl(0x0042, 40));
  assert.is(h.acl.length, 1);
  assert.ok(
    lines.some((l) => l.includes('ACL packet of 44 bytes, above the announced Host_ACL_Data_Packet_Length 27')),
    lines.join('\n'),
  );
});

test('a Command Complete for Host Number Of Completed Packets (a refusal) is logged, the stack goes on', () => {
  const log = new Logger();
  const lines: string[] = [];
  log.add_sink((_l, m) => lines.push(m));
  const h = working({ host_flow_control: true, log });
  h.t.event('0e 04 01 35 0c 12');
  h.rl.run(0);
  assert.ok(lines.some((l) => l.includes('Host Number Of Completed Packets refused with status 0x12')));
  assert.is(h.stack.hci.hci_get_state(), 2);
});

test.run();
