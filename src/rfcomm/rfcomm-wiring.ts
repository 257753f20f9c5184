/**
 * How RFCOMM's components reach each other (docs/ARCHITECTURE.md, the layer pattern): one object
 * per Rfcomm whose prototype methods forward to the sibling that does the work. Each component
 * gets it typed as the narrow interface it declares (RfcommLifecyclePeers, RfcommMuxInputPeers,
 * RfcommInputPeers), so it sees only what it asked for; the facade creates the components, then
 * sets the fields. No closure per peer and per Stack.
 */
import type { BdAddr } from '../core/bytes.js';
import type { L2capServicePacketHandler } from '../l2cap/l2cap-service.js';
import type { RfcommInput, RfcommInputPeers } from './rfcomm-input.js';
import type { ChannelInfo, RfcommLifecycle, RfcommLifecyclePeers } from './rfcomm-lifecycle.js';
import type { RfcommMuxInput, RfcommMuxInputPeers } from './rfcomm-mux-input.js';
import type { RfcommChannel, RfcommMultiplexer } from './rfcomm-objects.js';
import type { RfcommOutput } from './rfcomm-output.js';

export class RfcommWiring implements RfcommLifecyclePeers, RfcommMuxInputPeers, RfcommInputPeers {
  life!: RfcommLifecycle;
  out!: RfcommOutput;
  muxIn!: RfcommMuxInput;
  input!: RfcommInput;

  // send side (rfcomm-output.ts)
  requestSend(mux: RfcommMultiplexer): void {
    this.out.requestSend(mux);
  }
  canSend(ch: RfcommChannel): boolean {
    return this.out.canSend(ch);
  }
  onCanSendNow(mux: RfcommMultiplexer): void {
    this.out.onCanSendNow(mux);
  }
  // receive side (rfcomm-input.ts, rfcomm-mux-input.ts)
  l2capHandler(): L2capServicePacketHandler {
    return this.input.l2capHandler;
  }
  onMuxCommands(mux: RfcommMultiplexer, buf: Uint8Array, pos: number, len: number): void {
    this.muxIn.onMuxCommands(mux, buf, pos, len);
  }
  // life cycle (rfcomm-lifecycle.ts)
  newMux(addr: BdAddr, initiator: boolean): RfcommMultiplexer | null {
    return this.life.newMux(addr, initiator);
  }
  createIncoming(mux: RfcommMultiplexer, dlci: number, why: string): RfcommChannel | null {
    return this.life.createIncoming(mux, dlci, why);
  }
  muxOpened(mux: RfcommMultiplexer, why: string): void {
    this.life.muxOpened(mux, why);
  }
  shutdown(mux: RfcommMultiplexer, status: number, why: string): void {
    this.life.shutdown(mux, status, why);
  }
  finalizeChannels(mux: RfcommMultiplexer, status: number, why: string): void {
    this.life.finalizeChannels(mux, status, why);
  }
  freeMux(mux: RfcommMultiplexer, why: string): void {
    this.life.freeMux(mux, why);
  }
  startMuxTimer(mux: RfcommMultiplexer, ms: number): void {
    this.life.startMuxTimer(mux, ms);
  }
  stopMuxTimer(mux: RfcommMultiplexer): void {
    this.life.stopMuxTimer(mux);
  }
  stopChannelTimer(ch: RfcommChannel): void {
    this.life.stopChannelTimer(ch);
  }
  takeChannel(ch: RfcommChannel, why: string): ChannelInfo {
    return this.life.takeChannel(ch, why);
  }
  emitFinal(info: ChannelInfo, status: number): void {
    this.life.emitFinal(info, status);
  }
  emitFinalFor(ch: RfcommChannel, state: number, accepted: boolean, status: number): void {
    this.life.emitFinalFor(ch, state, accepted, status);
  }
  refillCredits(ch: RfcommChannel): void {
    this.life.refillCredits(ch);
  }
  checkOpen(ch: RfcommChannel): void {
    this.life.checkOpen(ch);
  }
}
