/**
 * Issue 18 item 6: with every hci_connections record in use, every further Connection Request is
 * refused with Reject Connection Request reason 0x0D (Limited Resources), also when more of them
 * arrive at once than can be answered before the next command credit: none is dropped from the
 * queue of rejects (and so left to the controller's accept timeout). Spec bytes in and out.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cs, connect_classic, wire_addr, working } from './hci-script.js';

const addr = (i: number): string => `00:1A:7D:DA:72:${i.toString(16).padStart(2, '0').toUpperCase()}`;

test('pool full: 12 Connection Requests in one burst, each answered by Reject 0x0D, none dropped', () => {
  const h = working({ config: { MAX_NR_HCI_CONNECTIONS: 2 } });
  connect_classic(h, 0x0001, addr(0xa0));
  connect_classic(h, 0x0002, addr(0xa1));
  h.t.take_commands();
  // 12 requests before any answer (one command credit: one reject at a time)
  for (let i = 0; i < 12; i++) h.t.event(`04 0a ${wire_addr(addr(i))} 0c 02 7a 01`);
  h.rl.run(0);
  const rejects: string[] = [];
  for (let guard = 0; guard < 40; guard++) {
    const cmds = h.t.take_commands();
    for (const c of cmds) {
      rejects.push(c);
      h.t.event(cs(0x040a));
    }
    h.rl.run(0);
    if (!cmds.length) break;
  }
  // HCI_Reject_Connection_Request (0x040a), 7 parameter bytes: BD_ADDR, reason (Core Vol 4 Part E 7.1.9)
  assert.equal(
    rejects,
    Array.from({ length: 12 }, (_, i) => `0a 04 07 ${wire_addr(addr(i))} 0d`),
  );
});

test('the same address asking again while its reject waits: refused, one reject per waiting address', () => {
  const h = working({ config: { MAX_NR_HCI_CONNECTIONS: 1 } });
  connect_classic(h, 0x0001, addr(0xa0));
  h.t.take_commands();
  for (let i = 0; i < 3; i++) h.t.event(`04 0a ${wire_addr(addr(5))} 0c 02 7a 01`);
  h.rl.run(0);
  const rejects: string[] = [];
  for (let guard = 0; guard < 10; guard++) {
    const cmds = h.t.take_commands();
    for (const c of cmds) {
      rejects.push(c);
      h.t.event(cs(0x040a));
    }
    h.rl.run(0);
    if (!cmds.length) break;
  }
  assert.ok(rejects.length >= 1 && rejects.every((r) => r === `0a 04 07 ${wire_addr(addr(5))} 0d`), rejects.join(' | '));
});

test.run();
