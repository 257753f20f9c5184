import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  EVENT_BUFFER_SIZE,
  EventOut,
  RegistrationList,
  type EventPacketLog,
  type EventRegistration,
} from '../../../src/core/event-out.js';
import { hex } from '../../../src/core/bytes.js';

class FakeLog implements EventPacketLog {
  readonly records: Array<[number, number, string]> = [];
  log_packet(packet_type: number, incoming: number, packet: Uint8Array, len: number): void {
    this.records.push([packet_type, incoming, hex(packet.subarray(0, len))]);
  }
}

function put(buf: Uint8Array, ...bytes: number[]): number {
  buf.set(bytes, 0);
  return bytes.length;
}

test('to_handler: HCI_EVENT_PACKET with the channel, logged first as a received event', () => {
  const log = new FakeLog();
  const out = new EventOut(log);
  const seen: string[] = [];
  const b = out.buffer();
  assert.is(b.length, EVENT_BUFFER_SIZE);
  const n = put(b, 0x78, 0x02, 0x41, 0x00);
  out.to_handler(
    (type, channel, packet, size) => {
      assert.is(log.records.length, 1, 'logged before the handler runs');
      seen.push(`${type} ${channel} ${hex(packet.subarray(0, size))}`);
    },
    0x41,
    b,
    n,
  );
  assert.equal(seen, ['4 65 78 02 41 00']);
  assert.equal(log.records, [[4, 1, '78 02 41 00']]);

  out.to_handler(() => seen.push('unlogged'), 0, b, n, false);
  assert.is(log.records.length, 1, 'log = false: not logged');
  assert.is(seen.length, 2);
});

test('nothing for size <= 0 (a builder error); a missing handler still logs; no packet log is fine', () => {
  const log = new FakeLog();
  const out = new EventOut(log);
  let calls = 0;
  out.to_handler(() => calls++, 0, out.buffer(), 0);
  out.to_handler(() => calls++, 0, out.buffer(), -1);
  const list = new RegistrationList();
  list.add({ callback: () => calls++ });
  out.to_list(list, 0, out.buffer(), -3);
  assert.is(calls, 0);
  assert.is(log.records.length, 0);
  out.to_handler(null, 0, out.buffer(), put(out.buffer(), 0x71, 0x02, 0x40, 0x00));
  assert.equal(log.records, [[4, 1, '71 02 40 00']]);
  const quiet = new EventOut();
  quiet.to_handler(() => calls++, 0, quiet.buffer(), put(quiet.buffer(), 0x91, 0x01, 0x00));
  assert.is(calls, 1);
});

test('nesting: an event emitted from a handler gets its own buffer; the outer packet stays intact', () => {
  const out = new EventOut();
  const order: string[] = [];
  const outer = out.buffer();
  const n = put(outer, 0x70, 0x01, 0xaa);
  out.to_handler(
    (_t, _c, packet, size) => {
      assert.is(out.depth, 1);
      const inner = out.buffer();
      assert.is.not(inner, outer, 'depth 1 has its own buffer');
      const m = put(inner, 0x78, 0x02, 0x40, 0x00);
      out.to_handler(
        (_t2, _c2, p2, s2) => {
          assert.is(out.depth, 2);
          const innermost = out.buffer();
          assert.ok(innermost !== inner && innermost !== outer);
          put(innermost, 0x71, 0x02, 0x40, 0x00);
          out.to_handler(() => order.push('depth 3'), 0, innermost, 4);
          order.push(`inner ${hex(p2.subarray(0, s2))}`);
        },
        0x40,
        inner,
        m,
      );
      order.push(`outer ${hex(packet.subarray(0, size))}`);
    },
    0,
    outer,
    n,
  );
  assert.equal(order, ['depth 3', 'inner 78 02 40 00', 'outer 70 01 aa']);
  assert.is(out.depth, 0);
  assert.is(out.buffer(), outer, 'back at depth 0: the first buffer again');
  assert.is(out.buffers_allocated, 3);
});

test('a handler that throws leaves the depth where it was', () => {
  const out = new EventOut();
  const b = out.buffer();
  const n = put(b, 0x70, 0x00);
  assert.throws(
    () =>
      out.to_handler(
        () => {
          throw new Error('app bug');
        },
        0,
        b,
        n,
      ),
    /app bug/,
  );
  assert.is(out.depth, 0);
  const list = new RegistrationList();
  list.add({
    callback: () => {
      throw new Error('list bug');
    },
  });
  assert.throws(() => out.to_list(list, 0, b, n), /list bug/);
  assert.is(out.depth, 0);
  assert.is(out.buffer(), b);
});

test('to_list: every registration in order, channel as given, logged once', () => {
  const log = new FakeLog();
  const out = new EventOut(log);
  const list = new RegistrationList();
  const seen: string[] = [];
  const reg = (name: string): EventRegistration => ({ callback: (t, c) => seen.push(`${name}:${t}:${c}`) });
  const r1 = reg('a');
  assert.ok(list.add(r1));
  assert.not.ok(list.add(r1), 'adding twice does nothing');
  list.add(reg('b'));
  out.to_list(list, 0, out.buffer(), put(out.buffer(), 0x61, 0x01, 0x01));
  assert.equal(seen, ['a:4:0', 'b:4:0']);
  assert.equal(log.records, [[4, 1, '61 01 01']]);
  assert.ok(list.remove(r1));
  assert.not.ok(list.remove(r1));
  assert.is(list.size, 1);
  list.clear();
  assert.is(list.size, 0);
});

test('removal during dispatch: a removed registration is not called; self-removal keeps the others going', () => {
  const out = new EventOut();
  const list = new RegistrationList();
  const calls: string[] = [];
  const c: EventRegistration = { callback: () => calls.push('c') };
  const d: EventRegistration = { callback: () => calls.push('d') };
  const a: EventRegistration = {
    callback: () => {
      calls.push('a');
      list.remove(a); // itself
    },
  };
  const b: EventRegistration = {
    callback: () => {
      calls.push('b');
      list.remove(c); // one not yet called
    },
  };
  for (const r of [a, b, c, d]) list.add(r);
  const buf = out.buffer();
  const n = put(buf, 0x60, 0x01, 0x02);
  out.to_list(list, 0, buf, n);
  assert.equal(calls, ['a', 'b', 'd']);
  calls.length = 0;
  out.to_list(list, 0, buf, n);
  assert.equal(calls, ['b', 'd']);
});

test('added during dispatch: called from the next event on; removing all during dispatch stops the walk', () => {
  const out = new EventOut();
  const list = new RegistrationList();
  const calls: string[] = [];
  const late: EventRegistration = { callback: () => calls.push('late') };
  const adder: EventRegistration = {
    callback: () => {
      calls.push('adder');
      list.add(late);
    },
  };
  const other: EventRegistration = { callback: () => calls.push('other') };
  list.add(adder);
  list.add(other);
  const buf = out.buffer();
  const n = put(buf, 0x60, 0x01, 0x02);
  out.to_list(list, 0, buf, n);
  assert.equal(calls, ['adder', 'other']);
  calls.length = 0;
  out.to_list(list, 0, buf, n);
  assert.equal(calls, ['adder', 'other', 'late']);

  const killer = new RegistrationList();
  const got: string[] = [];
  killer.add({
    callback: () => {
      got.push('first');
      killer.clear();
    },
  });
  killer.add({ callback: () => got.push('second') });
  out.to_list(killer, 0, buf, n);
  assert.equal(got, ['first']);
});

test('no allocation per event: buffers and the registration array are reused', () => {
  const out = new EventOut(null);
  const list = new RegistrationList();
  let total = 0;
  list.add({
    callback: (_t, _c, p, s) => {
      total += s;
      if (p[0] === 0x70) out.to_handler(() => total++, 0, out.buffer(), put(out.buffer(), 0x78, 0x02, 0x40, 0x00));
    },
  });
  list.add({ callback: () => total++ });
  const b0 = out.buffer();
  const items = list.items;
  for (let i = 0; i < 10_000; i++) {
    const b = out.buffer();
    assert.is(b, b0);
    out.to_list(list, 0, b, put(b, i & 1 ? 0x70 : 0x71, 0x01, i & 0xff));
  }
  assert.is(out.buffers_allocated, 2, 'one buffer per depth reached, made once');
  assert.is(list.items, items, 'dispatch does not copy the registration array');
  assert.is(total, 5_000 * (3 + 1) + 5_000 * (3 + 1 + 1), 'every handler ran every time');
});

test('two EventOuts (two stacks) share nothing', () => {
  const x = new EventOut();
  const y = new EventOut();
  assert.is.not(x.buffer(), y.buffer());
  const b = x.buffer();
  x.to_handler(
    () => {
      assert.is(x.depth, 1);
      assert.is(y.depth, 0);
      assert.is(y.buffer(), y.buffer());
    },
    0,
    b,
    put(b, 0x60, 0x00),
  );
});

test.run();
