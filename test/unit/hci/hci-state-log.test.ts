/**
 * The HCI state machines explain themselves (issue 12 item 5): every change of the power state
 * and of a connection's state is logged at debug level through the stack's Logger, by name, with
 * the reason; nothing is built when no sink listens at debug level. Also: Hci satisfies the
 * HciService contract L2CAP uses.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boot, cc, cs, harness, settle, u16, wire_addr, working, type Harness } from './hci-script.js';
import { hex } from '../../../src/core/bytes.js';
import { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, Logger } from '../../../src/core/log.js';
import type { Hci, HciService } from '../../../src/hci/hci.js';

/** Type-level: the facade is usable wherever L2CAP expects its HCI service. */
const _check: HciService = null as unknown as Hci;
void _check;

const PEER = '00:1A:7D:DA:71:13';

function debugLog(): { log: Logger; lines: string[] } {
  const log = new Logger();
  log.level = LOG_LEVEL_DEBUG;
  const lines: string[] = [];
  log.add_sink((level, message) => {
    if (level === LOG_LEVEL_DEBUG && /^hci( con [^:]+(:[^:]+)*)?: /.test(message) && / -> /.test(message)) lines.push(message);
  });
  return { log, lines };
}

function states(h: Harness): string[] {
  return h.events.filter((e) => e[0] === 0x60).map((e) => hex(e));
}

test('power on, an incoming link, power off: every transition logged by name with its reason', () => {
  const { log, lines } = debugLog();
  const h = harness({ log });
  h.stack.hci.hci_power_control(1);
  boot(h.t, h.rl, h.stack);
  settle(h);
  // an incoming classic link (handle 0x000b)
  h.t.event(`04 0a ${wire_addr(PEER)} 0c 02 7a 01`);
  assert.equal(h.t.take_commands(), [`09 04 07 ${wire_addr(PEER)} 01`], 'Accept Connection Request');
  h.t.event(cs(0x0409));
  h.t.event(`03 0b 00 ${u16(0x000b)} ${wire_addr(PEER)} 01 00`);
  h.rl.run(0);
  assert.equal(h.t.take_commands(), ['1b 04 02 0b 00'], 'Read Remote Supported Features');
  h.t.event(cs(0x041b));
  // power off: the link is disconnected (reason 0x15, Power Off), then OFF
  h.stack.hci.hci_power_control(0);
  assert.equal(h.t.take_commands(), ['06 04 03 0b 00 15']);
  h.t.event(cs(0x0406));
  h.t.event(`05 04 00 ${u16(0x000b)} 16`);
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.equal(states(h), ['60 01 01', '60 01 02', '60 01 03', '60 01 00'], 'INITIALIZING, WORKING, HALTING, OFF reported');
  assert.equal(lines, [
    'hci: OFF -> INITIALIZING (power on)',
    'hci: INITIALIZING -> WORKING (init done)',
    `hci con ${PEER}: NEW -> RECEIVED_CONNECTION_REQUEST (Connection Request)`,
    `hci con ${PEER}: RECEIVED_CONNECTION_REQUEST -> ACCEPTED_CONNECTION_REQUEST (Accept Connection Request sent)`,
    'hci con 0x000b: ACCEPTED_CONNECTION_REQUEST -> OPEN (Connection Complete)',
    'hci: WORKING -> HALTING (power off)',
    'hci con 0x000b: OPEN -> SEND_DISCONNECT (power off)',
    'hci con 0x000b: SEND_DISCONNECT -> SENT_DISCONNECT (Disconnect sent)',
    'hci con 0x000b: SENT_DISCONNECT -> RECEIVED_DISCONNECTION_COMPLETE (Disconnection Complete)',
    'hci: HALTING -> OFF (links closed)',
  ]);
  assert.ok(h.stack.pools.all_free());
});

test('sleep and wake, and a transport that cannot be opened', () => {
  const { log, lines } = debugLog();
  const h = working({ log });
  lines.length = 0;
  h.stack.hci.hci_power_control(2); // SLEEP
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 4);
  h.stack.hci.hci_power_control(1);
  boot(h.t, h.rl, h.stack);
  assert.is(h.stack.hci.hci_get_state(), 2);
  h.stack.hci.hci_power_control(0);
  h.rl.run(0);
  assert.equal(lines, [
    'hci: WORKING -> FALLING_ASLEEP (power sleep)',
    'hci: FALLING_ASLEEP -> SLEEPING (links closed)',
    'hci: SLEEPING -> INITIALIZING (power on from sleep)',
    'hci: INITIALIZING -> WORKING (init done)',
    'hci: WORKING -> HALTING (power off)',
    'hci: HALTING -> OFF (links closed)',
  ]);

  const f = debugLog();
  const g = harness({ log: f.log });
  g.t.fail_open = true;
  g.stack.hci.hci_power_control(1);
  g.rl.run(0);
  assert.equal(states(g), ['60 01 01', '60 01 00']);
  assert.equal(f.lines, ['hci: OFF -> INITIALIZING (power on)', 'hci: INITIALIZING -> OFF (transport failed to open)']);
});

test('an LE connection attempt cancelled: SEND -> SENT -> SEND_CANCEL -> SENT_CANCEL, then freed', () => {
  const { log, lines } = debugLog();
  const h = working({ log });
  lines.length = 0;
  const addr = Uint8Array.of(0xc0, 0xff, 0xee, 0x00, 0x11, 0x22);
  assert.is(h.stack.gap.gap_connect(addr, 0), 0);
  const cmds = h.t.take_commands();
  assert.is(cmds.length, 1);
  assert.ok(cmds[0]!.startsWith('0d 20 19'), 'LE Create Connection');
  h.t.event(cs(0x200d));
  assert.is(h.stack.gap.gap_connect_cancel(), 0);
  assert.equal(h.t.take_commands(), ['0e 20 00'], 'LE Create Connection Cancel');
  h.t.event(cc(0x200e));
  h.t.event(`3e 13 01 02 00 00 00 00 ${wire_addr('C0:FF:EE:00:11:22')} 00 00 00 00 00 00 00`);
  h.rl.run(0);
  assert.equal(lines, [
    'hci con C0:FF:EE:00:11:22: NEW -> SEND_CREATE_CONNECTION (gap_connect)',
    'hci con C0:FF:EE:00:11:22: SEND_CREATE_CONNECTION -> SENT_CREATE_CONNECTION (LE Create Connection sent)',
    'hci con C0:FF:EE:00:11:22: SENT_CREATE_CONNECTION -> SEND_CANCEL_CONNECTION (gap_connect_cancel)',
    'hci con C0:FF:EE:00:11:22: SEND_CANCEL_CONNECTION -> SENT_CANCEL_CONNECTION (LE Create Connection Cancel sent)',
  ]);
  assert.ok(h.stack.pools.all_free());
});

test('no debug sink: no transition line is built', () => {
  const log = new Logger();
  log.level = LOG_LEVEL_INFO;
  const lines: string[] = [];
  log.add_sink((_level, message) => lines.push(message));
  const h = working({ log });
  h.stack.hci.hci_power_control(0);
  h.rl.run(0);
  assert.is(h.stack.hci.hci_get_state(), 0);
  assert.not.ok(
    lines.some((l) => l.includes(' -> ')),
    'no transition at info level',
  );
});

test.run();
