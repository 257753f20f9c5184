/**
 * VirtualTransport: an HciTransport wired to a VirtualController on the same run loop.
 * Packets from the host go to the controller at once (it copies what it keeps); packets for the
 * host are delivered from the run loop, never inside send_packet.
 */
import type { RunLoop } from '../../src/core/run-loop.js';
import type { VirtualController } from '../../src/controller/controller.js';
import type { HciTransport, TransportEventHandler, TransportPacketHandler } from '../../src/hci/transport.js';

export class VirtualTransport implements HciTransport {
  readonly name = 'virtual';
  private run_loop: RunLoop | null = null;
  private packet_handler: TransportPacketHandler | null = null;
  private event_handler: TransportEventHandler | null = null;
  private opened = false;

  constructor(readonly controller: VirtualController) {}

  init(run_loop: RunLoop): void {
    if (run_loop !== this.controller.run_loop) {
      throw new Error('VirtualTransport: the stack and the virtual controller must share one run loop');
    }
    this.run_loop = run_loop;
  }

  register_packet_handler(handler: TransportPacketHandler): void {
    this.packet_handler = handler;
  }

  register_event_handler(handler: TransportEventHandler): void {
    this.event_handler = handler;
  }

  open(): void {
    const rl = this.run_loop ?? this.controller.run_loop;
    this.run_loop = rl;
    rl.execute_on_main_thread(() => {
      if (this.controller.powered_off) {
        this.event_handler?.({ type: 'open-failed', error: 'virtual controller is powered off' });
        return;
      }
      this.opened = true;
      this.controller.attach_host((type, packet, size) => this.packet_handler?.(type, packet, size));
      this.event_handler?.({ type: 'opened' });
    });
  }

  close(): void {
    const rl = this.run_loop ?? this.controller.run_loop;
    this.opened = false;
    this.controller.detach_host();
    rl.execute_on_main_thread(() => this.event_handler?.({ type: 'closed' }));
  }

  can_send_packet_now(_packet_type: number): boolean {
    return this.opened && !this.controller.powered_off;
  }

  send_packet(packet_type: number, packet: Uint8Array, size: number): number {
    if (!this.opened) return 0x0c; // ERROR_CODE_COMMAND_DISALLOWED
    this.controller.host_send(packet_type, packet, size);
    return 0;
  }
}
