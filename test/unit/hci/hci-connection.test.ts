import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cc, connect_classic, cs, u16, wire_addr, working } from './hci-script.js';
import { hex, sscanf_bd_addr } from '../../../src/core/bytes.js';
import { hci_create_connection } from '../../../src/hci/commands.js';

const PEER = '00:1A:7D:DA:71:13';

test('incoming connection: accepted with the role policy, NR_CONNECTIONS_CHANGED before Connection Complete', () => {
  const h = working();
  h.t.event(`04 0a ${wire_addr(PEER)} 0c 02 7a 01`);
  assert.equal(h.t.take_commands(), [`09 04 07 ${wire_addr(PEER)} 01`], 'Accept Connection Request, remain peripheral');
  h.t.event(cs(0x0409));
  h.clear();
  h.t.event(`03 0b 00 40 00 ${wire_addr(PEER)} 01 00`);
  assert.equal(
    h.events.map((e) => hex(e).slice(0, 8)),
    ['61 01 01', '03 0b 00'],
  );
  assert.equal(h.t.take_commands(), ['1b 04 02 40 00'], 'remote features read');
  const conn = h.stack.hci.hci_connection_for_handle(0x40)!;
  assert.is(conn.role, 1);
  assert.is(h.stack.gap.gap_get_connection_type(0x40), 1);
});

test('role policy master: Accept with role 0x00', () => {
  const h = working();
  h.stack.hci.hci_set_master_slave_policy(0);
  h.t.event(`04 0a ${wire_addr(PEER)} 0c 02 7a 01`);
  assert.equal(h.t.take_commands(), [`09 04 07 ${wire_addr(PEER)} 00`]);
});

test('SCO requests and requests beyond MAX_NR_HCI_CONNECTIONS are rejected (0x0D)', () => {
  const h = working({ config: { MAX_NR_HCI_CONNECTIONS: 1 } });
  h.t.event(`04 0a ${wire_addr(PEER)} 0c 02 7a 00`); // SCO
  assert.equal(h.t.take_commands(), [`0a 04 07 ${wire_addr(PEER)} 0d`]);
  h.t.event(cs(0x040a));
  connect_classic(h, 0x0001, '00:00:00:00:00:01');
  h.t.event(`04 0a ${wire_addr('00:00:00:00:00:02')} 0c 02 7a 01`);
  assert.equal(h.t.take_commands(), [`0a 04 07 ${wire_addr('00:00:00:00:00:02')} 0d`]);
});

test('outgoing via hci_send_cmd(hci_create_connection): record created, Connection Complete opens it', () => {
  const h = working();
  const addr = sscanf_bd_addr(PEER)!;
  assert.is(h.stack.hci.hci_send_cmd(hci_create_connection, addr, 0xcc18, 0x01, 0, 0, 1), 0);
  assert.equal(h.t.take_commands(), [`05 04 0d ${wire_addr(PEER)} 18 cc 01 00 00 00 01`]);
  assert.ok(h.stack.hci.hci_connection_for_bd_addr_and_type(addr, 0xfd), 'record for the page');
  h.t.event(cs(0x0405));
  h.t.event(`03 0b 00 0b 00 ${wire_addr(PEER)} 01 00`);
  assert.is(h.stack.hci.hci_connection_for_handle(0x0b)!.role, 0, 'we paged: central');
});

test('hci_connect_acl (for L2CAP): Create Connection with BTstack parameters; page timeout frees the record', () => {
  const h = working();
  const addr = sscanf_bd_addr(PEER)!;
  assert.is(h.stack.hci.hci_connect_acl(addr), 0);
  assert.equal(h.t.take_commands(), [`05 04 0d ${wire_addr(PEER)} 18 cc 00 00 00 00 01`]);
  h.t.event(cs(0x0405));
  h.clear();
  h.t.event(`03 0b 04 00 00 ${wire_addr(PEER)} 01 00`); // Page Timeout
  assert.equal(
    h.events.map((e) => hex(e).slice(0, 8)),
    ['61 01 00', '03 0b 04'],
  );
  assert.ok(h.stack.pools.all_free());
});

test('Create Connection refused by Command Status: record freed, Connection Complete synthesized', () => {
  const h = working();
  h.stack.hci.hci_connect_acl(sscanf_bd_addr(PEER)!);
  h.t.take_commands();
  h.clear();
  h.t.event(cs(0x0405, 0x0c));
  assert.equal(
    h.events.map((e) => hex(e)),
    ['0f 04 0c 01 05 04', '61 01 00', `03 0b 0c 00 00 ${wire_addr(PEER)} 01 00`],
  );
  assert.ok(h.stack.pools.all_free());
});

test('Connection Complete without a prior request and no free record: the link is disconnected', () => {
  const h = working({ config: { MAX_NR_HCI_CONNECTIONS: 1 } });
  connect_classic(h, 0x0001, '00:00:00:00:00:01');
  h.t.event(`03 0b 00 02 00 ${wire_addr('00:00:00:00:00:02')} 01 00`);
  assert.equal(h.t.take_commands(), ['06 04 03 02 00 14']);
});

test('remote version: hci_read_remote_version and the completion is stored', () => {
  const h = working();
  const a = connect_classic(h, 0x0009);
  assert.is(h.stack.hci.hci_read_remote_version(a), 0);
  assert.equal(h.t.take_commands(), [`1d 04 02 ${u16(a)}`]);
  h.t.event(cs(0x041d));
  h.t.event(`0c 08 00 ${u16(a)} 0a 0f 00 34 12`);
  const c = h.stack.hci.hci_connection_for_handle(a)!;
  assert.equal(
    [c.remote_version, c.remote_manufacturer, c.remote_subversion, c.remote_version_valid],
    [0x0a, 0x000f, 0x1234, true],
  );
  assert.ok(c.remote_features_valid);
});

test('remote extended features page 1 is read when the remote has extended features', () => {
  const h = working();
  h.t.event(`04 0a ${wire_addr(PEER)} 0c 02 7a 01`);
  h.t.take_commands();
  h.t.event(cs(0x0409));
  h.t.event(`03 0b 00 40 00 ${wire_addr(PEER)} 01 00`);
  assert.equal(h.t.take_commands(), ['1b 04 02 40 00']);
  h.t.event(cs(0x041b));
  h.t.event('0b 0b 00 40 00 ff ff 8f fe 58 ff 49 83');
  assert.equal(h.t.take_commands(), ['1c 04 03 40 00 01']);
  h.t.event(cs(0x041c));
  h.t.event('23 0d 00 40 00 01 02 01 00 00 00 00 00 00 00');
  assert.is(h.stack.hci.hci_connection_for_handle(0x40)!.remote_features_page1[0], 1);
});

test('Disconnection Complete with an error status leaves the link open', () => {
  const h = working();
  const a = connect_classic(h, 0x0009);
  h.stack.gap.gap_disconnect(a);
  h.t.take_commands();
  h.t.event(cs(0x0406));
  h.t.event(`05 04 0c ${u16(a)} 00`);
  assert.is(h.stack.gap.gap_get_connection_type(a), 1);
  assert.is(h.stack.gap.gap_disconnect(a), 0);
  assert.equal(h.t.take_commands(), [`06 04 03 ${u16(a)} 13`]);
});

test('LE: gap_connect sends LE Create Connection with BTstack defaults; cancel before and after sending', () => {
  const h = working();
  const addr = sscanf_bd_addr('C0:FF:EE:00:11:22')!;
  assert.is(h.stack.gap.gap_connect(addr, 0), 0);
  assert.equal(h.t.take_commands(), [
    `0d 20 19 60 00 30 00 00 00 ${wire_addr('C0:FF:EE:00:11:22')} 00 08 00 18 00 04 00 48 00 02 00 30 00`,
  ]);
  assert.is(h.stack.gap.gap_connect(sscanf_bd_addr('C0:FF:EE:00:11:23')!, 0), 0x0c, 'one attempt at a time');
  h.t.event(cs(0x200d));
  assert.is(h.stack.gap.gap_connect_cancel(), 0);
  assert.equal(h.t.take_commands(), ['0e 20 00']);
  h.t.event(cc(0x200e));
  h.clear();
  h.t.event(`3e 13 01 02 00 00 00 00 ${wire_addr('C0:FF:EE:00:11:22')} 00 00 00 00 00 00 00`);
  assert.ok(h.stack.pools.all_free());
  assert.equal(
    h.events.map((e) => hex(e).slice(0, 11)),
    ['61 01 00', '3e 13 01 02'],
  );
  // cancel before it was sent: BTstack reports Unknown Connection Identifier itself
  h.t.event('0e 03 00 00 00'); // no credits: the create stays queued
  assert.is(h.stack.gap.gap_connect(addr, 0), 0);
  h.clear();
  assert.is(h.stack.gap.gap_connect_cancel(), 0);
  assert.equal(
    h.events.map((e) => hex(e)),
    [`3e 13 01 02 00 00 00 00 ${wire_addr('C0:FF:EE:00:11:22')} 00 00 00 00 00 00 00`],
  );
  h.t.event('0e 03 01 00 00');
  assert.equal(h.t.take_commands(), []);
  assert.ok(h.stack.pools.all_free());
});

test('LE Connection Complete as central opens the gap_connect record; as peripheral creates one', () => {
  const h = working();
  h.stack.gap.gap_connect(sscanf_bd_addr('C0:FF:EE:00:11:22')!, 1);
  h.t.take_commands();
  h.t.event(cs(0x200d));
  h.t.event(`3e 13 01 00 80 00 00 01 ${wire_addr('C0:FF:EE:00:11:22')} 18 00 00 00 48 00 00`);
  const c = h.stack.hci.hci_connection_for_handle(0x80)!;
  assert.equal([c.role, c.address_type, c.le_conn_interval, c.le_supervision_timeout], [0, 1, 0x18, 0x48]);
  assert.is(h.stack.gap.gap_get_connection_type(0x80), 3);
  h.t.event(`3e 13 01 00 81 00 01 00 ${wire_addr('11:22:33:44:55:01')} 18 00 00 00 48 00 00`);
  assert.is(h.stack.hci.hci_connection_for_handle(0x81)!.role, 1);
  assert.is(h.stack.hci.hci_connection_for_handle(0x81)!.is_le, true);
  h.t.event('3e 0a 03 00 80 00 28 00 01 00 64 00');
  assert.equal([c.le_conn_interval, c.le_conn_latency, c.le_supervision_timeout], [0x28, 1, 0x64]);
});

test('gap_security_level is LEVEL_0 for now; unknown handle type is INVALID', () => {
  const h = working();
  const a = connect_classic(h, 0x0021);
  assert.is(h.stack.gap.gap_security_level(a), 0);
  assert.is(h.stack.gap.gap_get_connection_type(0x0999), 0);
});

test.run();
