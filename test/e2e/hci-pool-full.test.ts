/**
 * Issue 18 item 6: with every hci_connections record in use, each further incoming Connection
 * Request is refused at once with Reject Connection Request 0x0D (Limited Resources), never left
 * to the controller's accept timeout (0x10). 16 raw clients (virtual controllers driven by HCI
 * bytes) page one stack with MAX_NR_HCI_CONNECTIONS 8, in virtual time.
 *
 * The stack's controller reaches it through a UART-like line (`ChunkedLine`): what the controller
 * sends within 2 ms arrives in one read, as from a serial port, so the Connection Requests of a
 * burst of pages reach the host together, before the Command Status of its first Reject; this is
 * how the issue met it over ptys ("5 per cycle refused at once and 3 waited out the 5 s accept
 * timeout"). Through a line that hands over one event per turn the host answers each request
 * before the next arrives and the burst never forms.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hex } from '../../src/core/bytes.js';
import { Timer, VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/index.js';
import type { VirtualController } from '../../src/controller/controller.js';
import type { HciTransport, TransportEventHandler, TransportPacketHandler } from '../../src/hci/transport.js';
import { Stack } from '../../src/stack.js';
import {
  ERROR_CODE_CONNECTION_ACCEPT_TIMEOUT_EXCEEDED,
  ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES,
  ERROR_CODE_SUCCESS,
  HCI_EVENT_CONNECTION_COMPLETE,
  HCI_EVENT_CONNECTION_REQUEST,
  HCI_EVENT_DISCONNECTION_COMPLETE,
} from '../../src/codes/v1.4.js';

/** What the controller sends within this many ms reaches the host in one read. */
const CHUNK_MS = 2;

/** A line to a virtual controller that delivers the controller's packets in chunks, as a UART read does. */
class ChunkedLine implements HciTransport {
  readonly name = 'chunked-line';
  private ph: TransportPacketHandler | null = null;
  private eh: TransportEventHandler | null = null;
  private opened = false;
  private readonly queue: Array<[number, Uint8Array]> = [];
  private readonly flush = new Timer(() => {
    const read = this.queue.splice(0);
    if (read.filter(([t, p]) => t === 4 && p[0] === HCI_EVENT_CONNECTION_REQUEST).length > 1) this.burst_reads++;
    for (const [type, p] of read) this.ph?.(type, p, p.length);
  });
  /** Reads that carried more than one Connection Request. */
  burst_reads = 0;

  constructor(
    private readonly c: VirtualController,
    private readonly rl: VirtualRunLoop,
  ) {}
  init(): void {}
  register_packet_handler(h: TransportPacketHandler): void {
    this.ph = h;
  }
  register_event_handler(h: TransportEventHandler): void {
    this.eh = h;
  }
  open(): void {
    this.rl.execute_on_main_thread(() => {
      this.opened = true;
      this.c.attach_host((type, p, n) => {
        this.queue.push([type, p.slice(0, n)]);
        if (this.queue.length > 1) return;
        this.rl.set_timer(this.flush, CHUNK_MS);
        this.rl.add_timer(this.flush);
      });
      this.eh?.({ type: 'opened' });
    });
  }
  close(): void {
    this.opened = false;
    this.c.detach_host();
    this.rl.remove_timer(this.flush);
    this.queue.length = 0;
    this.rl.execute_on_main_thread(() => this.eh?.({ type: 'closed' }));
  }
  can_send_packet_now(): boolean {
    return this.opened;
  }
  send_packet(type: number, packet: Uint8Array, size: number): number {
    this.c.host_send(type, packet, size);
    return 0;
  }
}

function setup() {
  const rl = new VirtualRunLoop();
  const link = new RadioLink(rl, { seed: 'pool-full' });
  const server = link.create_controller({});
  const line = new ChunkedLine(server, rl);
  const stack = new Stack({ transport: line, run_loop: rl, config: { MAX_NR_HCI_CONNECTIONS: 8 } });
  stack.hci.hci_power_control(1);
  assert.ok(
    rl.run_until(() => stack.hci.hci_get_state() === 2, 5000),
    'working',
  );
  stack.gap.gap_connectable_control(1);
  rl.run(100);
  const serverAddr = Uint8Array.from(server.bd_addr).reverse(); // wire order
  /** Per client: its Connection Complete this cycle (time, status, handle), and whether its link is gone. */
  const complete: Array<{ at: number; status: number; handle: number } | undefined> = [];
  const gone: boolean[] = [];
  const clients = Array.from({ length: 16 }, (_, i) => {
    const c = link.create_controller({});
    c.attach_host((type, p, n) => {
      if (type !== 4) return;
      if (p[0] === HCI_EVENT_CONNECTION_COMPLETE && n >= 5)
        complete[i] = { at: rl.get_time_ms(), status: p[2]!, handle: p[3]! | (p[4]! << 8) };
      if (p[0] === HCI_EVENT_DISCONNECTION_COMPLETE) gone[i] = true;
    });
    return c;
  });
  // HCI_Create_Connection (0x0405): BD_ADDR, packet type 0xcc18, R1, reserved, clock offset 0, role switch allowed
  const page = (i: number) => {
    const cmd = Uint8Array.from([0x05, 0x04, 13, ...serverAddr, 0x18, 0xcc, 0x01, 0x00, 0x00, 0x00, 0x01]);
    clients[i]!.host_send(0x01, cmd, cmd.length);
  };
  // HCI_Disconnect (0x0406): handle, reason 0x13 (remote user terminated)
  const hang_up = (i: number) => {
    const h = complete[i]!.handle;
    const cmd = Uint8Array.from([0x06, 0x04, 3, h & 0xff, h >> 8, 0x13]);
    clients[i]!.host_send(0x01, cmd, cmd.length);
  };
  const logs: string[] = [];
  stack.log.add_sink((_l, m) => logs.push(m));
  const conns = () => stack.pools.stats().find((p) => p.name === 'hci_connections')!.in_use;
  return { rl, line, stack, complete, gone, page, hang_up, logs, conns };
}

type Node = ReturnType<typeof setup>;

/** The clients `idx` page in one burst; every one gets Connection Complete. Their statuses and delays. */
function burst(n: Node, idx: number[]): Array<{ status: number; after: number }> {
  const t0 = n.rl.get_time_ms();
  for (const i of idx) n.page(i);
  assert.ok(
    n.rl.run_until(() => idx.every((i) => n.complete[i]), 30_000),
    'every client of the burst gets Connection Complete',
  );
  return idx.map((i) => ({ status: n.complete[i]!.status, after: n.complete[i]!.at - t0 }));
}

function assertRefusedAtOnce(res: Array<{ status: number; after: number }>, what: string): void {
  const statuses = hex(Uint8Array.from(res.map((r) => r.status)));
  const timedOut = res.filter((r) => r.status === ERROR_CODE_CONNECTION_ACCEPT_TIMEOUT_EXCEEDED).length;
  assert.is(timedOut, 0, `${what}: ${timedOut} waited out the accept timeout (0x10) (statuses ${statuses})`);
  for (const r of res) {
    assert.is(r.status, ERROR_CODE_CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES, `${what}: refused with 0x0D (${statuses})`);
    assert.ok(r.after < 1000, `${what}: refused at once (after ${r.after} ms; the accept timeout is 5 s)`);
  }
}

test('3 cycles: 8 clients fill the pool, the other 8 page in one burst: all 8 refused with 0x0D at once, then all hang up', () => {
  const n = setup();
  for (let cycle = 1; cycle <= 3; cycle++) {
    n.complete.length = 0;
    n.gone.length = 0;
    const first = [0, 1, 2, 3, 4, 5, 6, 7];
    const rest = [8, 9, 10, 11, 12, 13, 14, 15];
    const ok = burst(n, first);
    assert.ok(
      ok.every((r) => r.status === ERROR_CODE_SUCCESS),
      `cycle ${cycle}: the first 8 connect`,
    );
    assert.is(n.conns(), 8, `cycle ${cycle}: pool full`);
    const bursts = n.line.burst_reads;
    assertRefusedAtOnce(burst(n, rest), `cycle ${cycle}`);
    assert.ok(n.line.burst_reads > bursts, `cycle ${cycle}: the requests reached the host in one read`);
    assert.is(n.conns(), 8, `cycle ${cycle}: still 8 connections`);
    for (const i of first) n.hang_up(i);
    assert.ok(
      n.rl.run_until(() => first.every((i) => n.gone[i]) && n.conns() === 0, 10_000),
      `cycle ${cycle}: every link gone, pool empty`,
    );
    n.rl.run(100);
  }
  assert.not.ok(
    n.logs.some((l) => /reject.*dropped/.test(l)),
    n.logs.filter((l) => /reject/.test(l)).join('; '),
  );
  n.stack.hci.hci_power_control(0);
  assert.ok(
    n.rl.run_until(() => n.stack.hci.hci_get_state() === 0, 10_000),
    'off',
  );
  n.rl.run(1000);
  assert.ok(n.stack.pools.all_free(), JSON.stringify(n.stack.pools.busy()));
});

test('16 clients page an empty stack in one burst: 8 connect, the 8 beyond the pool are refused with 0x0D at once', () => {
  const n = setup();
  const res = burst(
    n,
    Array.from({ length: 16 }, (_, i) => i),
  );
  const ok = res.filter((r) => r.status === ERROR_CODE_SUCCESS);
  assert.is(ok.length, 8, `8 connected (${hex(Uint8Array.from(res.map((r) => r.status)))})`);
  assertRefusedAtOnce(
    res.filter((r) => r.status !== ERROR_CODE_SUCCESS),
    'one burst of 16',
  );
  assert.ok(n.line.burst_reads > 0, 'the requests reached the host in one read');
  assert.is(n.conns(), 8);
});

test.run();
