/**
 * A bthost Stack whose controller-to-host bytes can be fed as a raw H4 stream, for the parser
 * benchmark: the stack boots against an in-process virtual controller (the real init sequence),
 * and `feed(chunk)` then pushes UART-style chunks through our H4Deframer into the same packet
 * handler HCI registered with its transport, exactly as the serialport transport does.
 */
import { VirtualRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/link.js';
import { H4Deframer } from '../../src/hci/h4.js';
import type { HciTransport, TransportEventHandler, TransportPacketHandler } from '../../src/hci/transport.js';
import type { RunLoop } from '../../src/core/run-loop.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { Stack } from '../../src/stack.js';

const HCI_STATE_WORKING = 2;

/** The virtual transport for boot and commands, plus a byte-stream entrance for incoming data. */
class FeedTransport implements HciTransport {
  readonly name = 'bench-feed';
  private handler: TransportPacketHandler | null = null;
  readonly deframer: H4Deframer;
  framing_errors = 0;

  constructor(private readonly inner: VirtualTransport) {
    this.deframer = new H4Deframer({
      accept: [2, 3, 4, 5],
      on_packet: (type, packet, size) => this.handler?.(type, packet, size),
      on_error: () => {
        this.framing_errors++;
      },
    });
  }
  init(run_loop: RunLoop): void {
    this.inner.init(run_loop);
  }
  register_packet_handler(handler: TransportPacketHandler): void {
    this.handler = handler;
    this.inner.register_packet_handler(handler);
  }
  register_event_handler(handler: TransportEventHandler): void {
    this.inner.register_event_handler(handler);
  }
  open(): void {
    this.inner.open();
  }
  close(): void {
    this.inner.close();
  }
  can_send_packet_now(packet_type: number): boolean {
    return this.inner.can_send_packet_now(packet_type);
  }
  send_packet(packet_type: number, packet: Uint8Array, size: number): number {
    return this.inner.send_packet(packet_type, packet, size);
  }
}

export interface FeedHost {
  stack: Stack;
  run_loop: VirtualRunLoop;
  /** Feed one chunk of H4 bytes, as a UART read would deliver it. */
  feed(chunk: Uint8Array): void;
  /** Run whatever the stack queued on the run loop (commands answered, events). */
  settle(): void;
  framing_errors(): number;
}

/** Boot a Stack to HCI_STATE_WORKING on a virtual controller; throws when it does not get there. */
export function createFeedHost(): FeedHost {
  const run_loop = new VirtualRunLoop();
  const link = new RadioLink(run_loop);
  const controller = link.create_controller();
  const transport = new FeedTransport(new VirtualTransport(controller));
  const stack = new Stack({ transport, run_loop });
  stack.hci.hci_power_control(1);
  run_loop.run_until(() => stack.hci.hci_get_state() === HCI_STATE_WORKING, 10_000);
  if (stack.hci.hci_get_state() !== HCI_STATE_WORKING) throw new Error('feed host: the stack did not reach HCI_STATE_WORKING');
  const deframer = transport.deframer;
  return {
    stack,
    run_loop,
    feed: (chunk) => deframer.feed(chunk),
    settle: () => run_loop.run(0),
    framing_errors: () => transport.framing_errors,
  };
}
