/**
 * Fuzz: random and corrupted commands, ACL packets and packet types into connected controllers
 * (seeded, bounded). Nothing throws, every command with a header gets exactly one Command
 * Complete or Command Status, and the controllers keep working afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HCI_COMMANDS, hci_format_size } from '../../../src/hci/commands.js';
import { bench, unmask, wire, type Host } from './bench.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const opcodes = [...HCI_COMMANDS.values()];
/** Host Number Of Completed Packets is answered only when its parameters are wrong. */
const HOST_NOCP = 0x0c35;

for (const seed of [1, 2, 3, 4, 5]) {
  test(`random commands and ACL never throw; one answer per command (seed ${seed})`, () => {
    const rnd = prng(seed);
    const int = (n: number): number => Math.floor(rnd() * n);
    const { loop, hosts } = bench(3, { seed });
    const errors: unknown[] = [];
    loop.onError = (e) => errors.push(e);
    for (const h of hosts) {
      unmask(h);
      h.cmd('1a 0c 01 03');
      h.cmd('56 0c 01 01');
    }
    // connect 0 -> 1 so that handles exist
    const [a, b] = hosts as [Host, Host];
    a.cmd(`05 04 0d ${wire(b.c.bd_addr)} 18 cc 01 00 00 00 01`);
    loop.run_until(() => !!b.find(0x04));
    b.cmd(`09 04 07 ${wire(a.c.bd_addr)} 01`);
    loop.run_until(() => !!a.find(0x03));
    loop.advance(100);
    for (const h of hosts) h.clear();
    const sent = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const hi = int(3);
      const h = hosts[hi]!;
      const kind = rnd();
      if (kind < 0.7) {
        // a known command with (mostly) the right length, random parameters
        const cmd = opcodes[int(opcodes.length)]!;
        const fixed = hci_format_size(cmd.format.replace('V', ''));
        let len = rnd() < 0.8 ? fixed : int(40);
        if (cmd.format.endsWith('V') && rnd() < 0.5) len = fixed + int(10);
        len = Math.min(len, 255);
        const p = new Uint8Array(3 + len);
        p[0] = cmd.opcode & 0xff;
        p[1] = cmd.opcode >> 8;
        p[2] = len;
        for (let k = 3; k < p.length; k++) p[k] = rnd() < 0.3 ? 0 : int(256);
        // sometimes lie about the length byte
        if (rnd() < 0.05) p[2] = int(256);
        h.c.host_send(0x01, p, p.length);
        if (cmd.opcode !== HOST_NOCP) sent[hi]!++;
      } else if (kind < 0.8) {
        const len = 3 + int(20);
        const p = Uint8Array.from({ length: len }, () => int(256));
        h.c.host_send(0x01, p, p.length);
        if ((p[0]! | (p[1]! << 8)) !== HOST_NOCP) sent[hi]!++;
      } else if (kind < 0.95) {
        const len = int(60);
        const p = Uint8Array.from({ length: len }, () => int(256));
        if (len >= 4 && rnd() < 0.5) {
          // a plausible header for a real handle
          const handle = [...h.c.state.connections.keys()][0] ?? int(0x0eff);
          p[0] = handle & 0xff;
          p[1] = (handle >> 8) | (int(4) << 4);
          p[2] = (len - 4) & 0xff;
          p[3] = 0;
        }
        h.c.host_send(0x02, p, p.length);
      } else {
        const p = Uint8Array.from({ length: int(10) }, () => int(256));
        const type = int(256);
        h.c.host_send(type, p, p.length);
        if (type === 0x01 && p.length >= 3 && (p[0]! | (p[1]! << 8)) !== HOST_NOCP) sent[hi]!++;
      }
      if (rnd() < 0.1) loop.advance(int(50));
    }
    loop.advance(120_000);
    assert.equal(errors, []);
    for (let i = 0; i < 3; i++) {
      const answers = hosts[i]!.rx.filter(
        (r) =>
          r.type === 4 &&
          ((r.bytes[0] === 0x0e && (r.bytes[3]! | (r.bytes[4]! << 8)) !== HOST_NOCP) ||
            (r.bytes[0] === 0x0f && (r.bytes[4]! | (r.bytes[5]! << 8)) !== HOST_NOCP)),
      ).length;
      assert.is(answers, sent[i], `controller ${i}: one Command Complete/Status per command`);
    }
    // still alive: Reset answers
    for (const h of hosts) {
      h.clear();
      h.cmd('03 0c 00');
    }
    loop.advance(10);
    for (const h of hosts) assert.ok(h.events().includes('0e 04 01 03 0c 00'));
  });
}

test('truncated packets (shorter than the header, size beyond the array) are dropped quietly', () => {
  const { loop, hosts } = bench(1);
  const h = hosts[0]!;
  h.c.host_send(0x01, Uint8Array.of(0x03), 1);
  h.c.host_send(0x01, Uint8Array.of(0x03, 0x0c), 50);
  h.c.host_send(0x02, Uint8Array.of(1, 2, 3), 3);
  h.c.host_send(0x03, Uint8Array.of(1, 2, 3), 3);
  h.c.host_send(0x01, Uint8Array.of(0x03, 0x0c, 0x00), 99);
  loop.run();
  assert.equal(h.take(), ['0e 04 01 03 0c 00']);
});

test.run();
