/**
 * RadioLink: the simulated radio shared by N virtual controllers, on one run loop. It hands out
 * controllers with deterministic BD_ADDRs (derived from the link seed), finds peers for paging,
 * inquiry, advertising and connecting, and holds the air timing defaults (latency, bandwidth).
 */
import { createHash } from 'node:crypto';
import { bd_addr_cmp, sscanf_bd_addr, type BdAddr } from '../core/bytes.js';
import { Logger } from '../core/log.js';
import type { RunLoop } from '../core/run-loop.js';
import { VirtualController } from './controller.js';
import type { ControllerOptions } from './controller-state.js';

export interface RadioLinkOptions {
  /** Seed for the controllers' BD_ADDRs (default 0). */
  seed?: number | string;
  /** One-way air latency of a new connection, ms (default 1). */
  latency_ms?: number;
  /** Air bandwidth of a new connection in bits/s; 0 = unlimited (default 0). */
  bandwidth_bps?: number;
  /** Time for a page to reach a scanning device, ms (default 10). */
  page_ms?: number;
  /** Time between two inquiry responses, ms (default 40). */
  inquiry_response_ms?: number;
  /** Delay before a scanner hears advertisers already on air after it starts scanning, ms (default 5). */
  scan_report_ms?: number;
  /** RSSI reported for every pair of devices, dBm (default: derived per pair, -40 .. -79). */
  rssi?: number;
  /** Log sink for diagnostics (dropped packets, framing errors). */
  logger?: Logger;
  /**
   * Share of ACL data packets (L2CAP PDUs to dynamic CIDs, with their continuation fragments) every
   * controller's host sends that the air loses (`drop`) or delivers with a flipped byte (`corrupt`),
   * 0..1, deterministic by `seed` (controller n uses seed + n); signalling and fixed channels pass.
   */
  acl_loss?: { drop?: number; corrupt?: number; seed?: number };
}

export class RadioLink {
  readonly run_loop: RunLoop;
  readonly latency_ms: number;
  readonly bandwidth_bps: number;
  readonly page_ms: number;
  readonly inquiry_response_ms: number;
  readonly scan_report_ms: number;
  readonly logger: Logger;
  private readonly seed: string;
  private readonly fixed_rssi: number | undefined;
  private readonly acl_loss: RadioLinkOptions['acl_loss'];
  private next_index = 0;
  /** Controllers on the air, in creation order. */
  readonly controllers: VirtualController[] = [];

  constructor(run_loop: RunLoop, options: RadioLinkOptions = {}) {
    this.run_loop = run_loop;
    this.seed = String(options.seed ?? 0);
    this.latency_ms = options.latency_ms ?? 1;
    this.bandwidth_bps = options.bandwidth_bps ?? 0;
    this.page_ms = options.page_ms ?? 10;
    this.inquiry_response_ms = options.inquiry_response_ms ?? 40;
    this.scan_report_ms = options.scan_report_ms ?? 5;
    this.fixed_rssi = options.rssi;
    this.acl_loss = options.acl_loss;
    this.logger = options.logger ?? new Logger();
  }

  /** Add a controller to the air. Its BD_ADDR is `options.bd_addr` or derived from the seed. */
  create_controller(options: ControllerOptions = {}): VirtualController {
    const index = this.next_index++;
    let addr: BdAddr;
    if (options.bd_addr === undefined) addr = this.derive_bd_addr(index);
    else if (typeof options.bd_addr === 'string') {
      const a = sscanf_bd_addr(options.bd_addr);
      if (!a) throw new TypeError(`bad bd_addr '${options.bd_addr}'`);
      addr = a;
    } else {
      if (options.bd_addr.length !== 6) throw new TypeError('bd_addr must be 6 bytes');
      addr = Uint8Array.from(options.bd_addr);
    }
    if (this.controllers.some((c) => bd_addr_cmp(c.bd_addr, addr) === 0)) {
      throw new Error(`a controller with this bd_addr is already on the link`);
    }
    const c = new VirtualController(this, index, addr, options);
    const loss = this.acl_loss;
    if (loss && (loss.drop || loss.corrupt)) c.faults.acl_loss(loss.drop ?? 0, loss.corrupt ?? 0, (loss.seed ?? 1) + index);
    this.controllers.push(c);
    return c;
  }

  /** Take a controller off the air (power off / unplugged): its links are lost for the peers. */
  remove_controller(c: VirtualController): void {
    const i = this.controllers.indexOf(c);
    if (i < 0) return;
    c.state.ops.power_off();
    this.controllers.splice(i, 1);
  }

  /**
   * Deterministic public address for the n-th controller of this link: 6 bytes of
   * SHA-256(seed, n), with the first byte's multicast/local bits cleared and the LAP kept out of
   * the inquiry access code range.
   */
  derive_bd_addr(index: number): BdAddr {
    for (let salt = 0; ; salt++) {
      const h = createHash('sha256').update(`bthost-virtual-controller:${this.seed}:${index}:${salt}`).digest();
      const a = Uint8Array.from(h.subarray(0, 6));
      a[0] = a[0]! & 0xfc;
      const lap = (a[3]! << 16) | (a[4]! << 8) | a[5]!;
      if (lap >= 0x9e8b00 && lap <= 0x9e8b3f) continue;
      if (this.controllers.some((c) => bd_addr_cmp(c.bd_addr, a) === 0)) continue;
      return a;
    }
  }

  /** A controller on the air by public address. */
  find(addr: BdAddr): VirtualController | undefined {
    return this.controllers.find((c) => !c.powered_off && bd_addr_cmp(c.bd_addr, addr) === 0);
  }

  /** RSSI (dBm, signed) between two controllers. */
  rssi(a: { readonly bd_addr: BdAddr }, b: { readonly bd_addr: BdAddr }): number {
    if (this.fixed_rssi !== undefined) return this.fixed_rssi;
    const x = (a.bd_addr[5]! ^ b.bd_addr[5]! ^ a.bd_addr[4]! ^ b.bd_addr[4]!) % 40;
    return -40 - x;
  }

  /** Clock offset (bits 16-2 of CLKslave - CLKmaster) a device reports for a peer; deterministic. */
  clock_offset(of: { readonly bd_addr: BdAddr }): number {
    return ((of.bd_addr[4]! << 8) | of.bd_addr[5]!) & 0x7fff;
  }
}
