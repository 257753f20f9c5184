/**
 * How L2CAP's components reach each other (docs/ARCHITECTURE.md, the layer pattern): one object per
 * side whose prototype methods forward to the sibling that does the work (or to several). Each
 * component gets it typed as the narrow interface it declares (L2capChannelsPeers, L2capCbmPeers,
 * ...), so it sees only what it asked for; the facade creates the components, then sets the
 * fields. No closure per peer and per Stack.
 *
 * Two objects because the LE side and the BR/EDR side use the same names for different siblings
 * (`scheduleRun` and `sendPrepared` are the LE fixed channels' on the LE side, the classic send
 * side's on the other).
 */
import type { BdAddr } from '../core/bytes.js';
import type { L2capCbm, L2capCbmEnhanced, L2capCbmPeers } from './l2cap-cbm.js';
import type { L2capCbmIn } from './l2cap-cbm-in.js';
import type { L2capChannels, L2capChannelsPeers } from './l2cap-channels.js';
import type { L2capClassicFixed, L2capClassicFixedPeers } from './l2cap-classic-fixed.js';
import type { L2capEcbm } from './l2cap-ecbm.js';
import type { L2capEchoInfo, L2capEchoInfoPeers } from './l2cap-echo-info.js';
import type { L2capErtmChannelPeers, L2capErtmChannels } from './l2cap-ertm-channel.js';
import type { L2capInputPeers } from './l2cap-input.js';
import type { L2capLeFixed, L2capLeFixedPeers } from './l2cap-le-fixed.js';
import type { L2capCbmChannel, L2capLeLink } from './l2cap-le-objects.js';
import type { L2capLeSignaling, L2capLeSignalingPeers } from './l2cap-le-signaling.js';
import type { L2capLinks, L2capLinksPeers } from './l2cap-links.js';
import type { L2capChannel, L2capLink } from './l2cap-objects.js';
import type { L2capSender, L2capSenderPeers } from './l2cap-run.js';
import type { L2capSecurity, L2capSecurityPeers } from './l2cap-security.js';
import type { L2capServices, L2capServicesPeers } from './l2cap-services.js';
import type { L2capSignalingIn, L2capSignalingInPeers } from './l2cap-signaling-in.js';
import type { L2capState } from './l2cap-state.js';
import type { L2capInformationResponse } from './signaling-decode.js';

/** LE: fixed channels and their send side, LE signalling, credit-based channels (CBM and ECBM). */
export class L2capLeWiring implements L2capLeFixedPeers, L2capLeSignalingPeers, L2capCbmPeers, L2capCbmEnhanced {
  fixed!: L2capLeFixed;
  sig!: L2capLeSignaling;
  cbmChannels!: L2capCbm;
  cbmIn!: L2capCbmIn;
  ecbm!: L2capEcbm;

  // LE fixed channels (l2cap-le-fixed.ts)
  scheduleRun(): void {
    this.fixed.scheduleRun();
  }
  sendPrepared(con_handle: number, cid: number, len: number): number {
    return this.fixed.sendPrepared(con_handle, cid, len);
  }
  linkFor(handle: number): L2capLeLink | null {
    return this.fixed.linkFor(handle);
  }
  cpuAnswered(link: L2capLeLink, identifier: number, result: number): boolean {
    return this.fixed.cpuAnswered(link, identifier, result);
  }
  // LE signalling (l2cap-le-signaling.ts)
  signaling(link: L2capLeLink, packet: Uint8Array, off: number, len: number): void {
    this.sig.handle(link, packet, off, len);
  }
  respond(link: L2capLeLink, code: number, identifier: number, values: ArrayLike<number>, extra?: ArrayLike<number>): void {
    this.sig.respond(link, code, identifier, values, extra);
  }
  reject(link: L2capLeLink, identifier: number, reason?: number, d1?: number, d2?: number): void {
    this.sig.reject(link, identifier, reason, d1, d2);
  }
  // credit-based channels (l2cap-cbm.ts, l2cap-cbm-in.ts, l2cap-ecbm.ts)
  kframe(link: L2capLeLink, cid: number, packet: Uint8Array, off: number, len: number): void {
    this.cbmIn.kframe(link, cid, packet, off, len);
  }
  channelStep(link: L2capLeLink): boolean {
    return this.cbmChannels.step(link, (ch) => this.ecbm.step(link, ch));
  }
  channelEvents(): void {
    this.cbmChannels.events();
  }
  linkDown(link: L2capLeLink): void {
    this.cbmChannels.linkDown(link);
  }
  cbm(link: L2capLeLink, code: number, identifier: number, packet: Uint8Array, off: number, len: number): boolean {
    return this.ecbm.command(link, code, identifier, packet, off, len) || this.cbmIn.command(link, code, identifier, packet, off);
  }
  cbmRejected(link: L2capLeLink, identifier: number): void {
    this.cbmIn.rejected(link, identifier);
    this.ecbm.rejected(link, identifier);
  }
  decline(local_cid: number, result: number): number {
    return this.ecbm.decline(local_cid, result);
  }
  reconfigureTimeout(ch: L2capCbmChannel): void {
    this.ecbm.reconfigureTimeout(ch);
  }
}

/** BR/EDR: channels, links, the send side, signalling in, security, echo/info, services, ERTM, input. */
export class L2capWiring
  implements
    L2capErtmChannelPeers,
    L2capChannelsPeers,
    L2capSecurityPeers,
    L2capEchoInfoPeers,
    L2capLinksPeers,
    L2capSenderPeers,
    L2capServicesPeers,
    L2capSignalingInPeers,
    L2capInputPeers,
    L2capClassicFixedPeers
{
  ertm!: L2capErtmChannels;
  channels!: L2capChannels;
  security!: L2capSecurity;
  echoInfo!: L2capEchoInfo;
  links!: L2capLinks;
  sender!: L2capSender;
  services!: L2capServices;
  signaling!: L2capSignalingIn;
  classicFixed!: L2capClassicFixed;
  /** The LE fixed channels (HCI events and LE ACL go there too). */
  le!: L2capLeFixed;

  constructor(private readonly s: L2capState) {}

  // send side (l2cap-run.ts)
  run(): void {
    this.sender.run();
  }
  scheduleRun(): void {
    this.sender.scheduleRun();
  }
  sendPrepared(con_handle: number, cid: number, len: number): number {
    return this.sender.sendPrepared(con_handle, cid, len);
  }
  // channels (l2cap-channels.ts)
  setState(ch: L2capChannel, to: number, why: string): void {
    this.channels.setState(ch, to, why);
  }
  finalize(ch: L2capChannel, status: number, why: string): void {
    this.channels.finalize(ch, status, why);
  }
  enterConfig(ch: L2capChannel, why: string): void {
    this.channels.enterConfig(ch, why);
  }
  failConfig(ch: L2capChannel, why: string): void {
    this.channels.failConfig(ch, why);
  }
  open(ch: L2capChannel): void {
    this.channels.open(ch);
  }
  add(ch: L2capChannel): void {
    this.channels.add(ch);
  }
  startRtx(ch: L2capChannel, ertx?: boolean): void {
    this.channels.startRtx(ch, ertx);
  }
  stopTimer(ch: L2capChannel): void {
    this.channels.stopTimer(ch);
  }
  offerIncoming(ch: L2capChannel): void {
    this.channels.offerIncoming(ch);
  }
  outgoingReadyState(link: L2capLink): number {
    return this.channels.outgoingStartState(link);
  }
  linkReady(link: L2capLink, addr: BdAddr): void {
    this.channels.linkReady(link, addr);
  }
  linkFailed(addr: BdAddr, status: number): void {
    this.channels.linkFailed(addr, status);
  }
  infoReady(link: L2capLink): void {
    this.channels.infoReady(link);
    this.classicFixed.scheduleRun();
  }
  disconnect(ch: L2capChannel, why: string): void {
    this.s.log.info(() => `l2cap cid 0x${ch.local_cid.toString(16)}: ${why}, disconnecting`);
    this.channels.disconnect(ch.local_cid);
  }
  // links (l2cap-links.ts)
  linkUp(handle: number, addr: BdAddr): L2capLink | null {
    return this.links.linkUp(handle, addr);
  }
  linkIdle(link: L2capLink): void {
    this.links.startIdleTimer(link);
  }
  noteActivity(link: L2capLink): void {
    this.links.noteActivity(link);
  }
  connectionComplete(status: number, handle: number, addr: BdAddr): void {
    this.links.connectionComplete(status, handle, addr);
  }
  linkDown(handle: number): void {
    this.links.linkDown(handle);
  }
  stackOff(): void {
    this.links.stackOff();
  }
  // security (l2cap-security.ts)
  requiredLevel(psm: number, service_level: number): number {
    return this.security.requiredLevel(psm, service_level);
  }
  outgoingState(ch: L2capChannel, link: L2capLink): number {
    return this.security.outgoingState(ch, link);
  }
  requestSecurity(ch: L2capChannel): void {
    this.security.request(ch);
  }
  incoming(ch: L2capChannel): void {
    this.security.incoming(ch);
  }
  securityLevel(handle: number, level: number): void {
    this.security.onSecurityLevel(handle, level);
  }
  // echo and information (l2cap-echo-info.ts)
  linkGone(link: L2capLink): void {
    this.echoInfo.linkGone(link);
  }
  echoResponse(link: L2capLink, id: number, buf: Uint8Array, off: number, len: number): void {
    this.echoInfo.echoResponse(link, id, buf, off, len);
  }
  informationResponse(link: L2capLink, id: number, r: L2capInformationResponse): void {
    this.echoInfo.informationResponse(link, id, r);
  }
  commandReject(link: L2capLink, id: number, reason: number): boolean {
    return this.echoInfo.commandReject(link, id, reason);
  }
  // fixed channels and services (l2cap-classic-fixed.ts, l2cap-services.ts)
  fixedChannels(): number {
    return this.classicFixed.localMask();
  }
  connectionless(link: L2capLink, packet: Uint8Array, len: number): void {
    this.services.receiveConnectionless(link, packet, len);
  }
}
