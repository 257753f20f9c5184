/**
 * H4PipeTransport: an HciTransport that puts a VirtualController behind real H4 framing, as a
 * serial port does. Every packet the controller sends to its host is H4-encoded into a byte
 * stream, which reaches the stack through an H4Deframer (host side, its default limits unless
 * given) in reads of `chunk` bytes; deframer errors become 'framing-error' events, exactly as in
 * ports/serialport. `inject(bytes)` puts raw bytes into the stream (a controller that sends them).
 */
import type { RunLoop } from '../../../src/core/run-loop.js';
import type { VirtualController } from '../../../src/controller/controller.js';
import { H4Deframer, h4_encode, type H4Limits } from '../../../src/hci/h4.js';
import type { HciTransport, TransportEventHandler, TransportPacketHandler } from '../../../src/hci/transport.js';

export class H4PipeTransport implements HciTransport {
  readonly name = 'h4 pipe';
  private run_loop!: RunLoop;
  private onPacket: TransportPacketHandler = () => {};
  private onEvent: TransportEventHandler = () => {};
  private opened = false;
  readonly deframer: H4Deframer;
  readonly framing_errors: string[] = [];
  private readonly stream: Uint8Array[] = [];
  private posted = false;
  private readonly enc = new Uint8Array(1 + 4 + 0xffff);

  constructor(
    readonly controller: VirtualController,
    readonly chunk = 4096,
    limits?: Partial<H4Limits>,
  ) {
    this.deframer = new H4Deframer({
      accept: [2, 3, 4, 5],
      ...(limits ? { limits } : {}),
      on_packet: (type, packet, size) => this.onPacket(type, packet, size),
      on_error: (message) => {
        this.framing_errors.push(message);
        this.onEvent({ type: 'framing-error', error: message });
      },
    });
  }

  init(run_loop: RunLoop): void {
    this.run_loop = run_loop;
  }
  register_packet_handler(h: TransportPacketHandler): void {
    this.onPacket = h;
  }
  register_event_handler(h: TransportEventHandler): void {
    this.onEvent = h;
  }
  open(): void {
    this.run_loop.execute_on_main_thread(() => {
      this.opened = true;
      this.deframer.reset();
      this.controller.attach_host((type, packet, size) => {
        const n = h4_encode(type, packet, size, this.enc);
        this.inject(this.enc.slice(0, n));
      });
      this.onEvent({ type: 'opened' });
    });
  }
  close(): void {
    this.opened = false;
    this.controller.detach_host();
    this.stream.length = 0;
    this.run_loop.execute_on_main_thread(() => this.onEvent({ type: 'closed' }));
  }
  can_send_packet_now(): boolean {
    return this.opened;
  }
  send_packet(type: number, packet: Uint8Array, size: number): number {
    if (!this.opened) return 0x0c;
    this.controller.host_send(type, packet, size);
    return 0;
  }

  /** Raw bytes from "the controller", read by the host in `chunk`-byte pieces on the run loop. */
  inject(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i += this.chunk)
      this.stream.push(bytes.subarray(i, Math.min(bytes.length, i + this.chunk)));
    if (this.posted) return;
    this.posted = true;
    this.run_loop.execute_on_main_thread(() => this.drain());
  }

  private drain(): void {
    this.posted = false;
    while (this.stream.length && this.opened) this.deframer.feed(this.stream.shift()!);
  }
}
