/**
 * How the virtual controller's components reach each other (docs/ARCHITECTURE.md, the layer
 * pattern, as hci-wiring.ts for HCI): one object per VirtualController whose prototype methods
 * forward to the component that does the work. Each component gets it typed as the narrow
 * interface it declares (ControllerOps, ClassicPeers, BasebandPeers, FaultsPeers, and `reply` for
 * the others); the facade creates the components, then sets the fields. No closure per peer and
 * per controller. HCI Reset and power off live here: they touch several components.
 */
import type { LinkEnd } from './air.js';
import type { ControllerAcl } from './controller-acl.js';
import type { BasebandPeers } from './controller-baseband.js';
import { ControllerBcm } from './controller-bcm.js';
import type { ClassicPeers, ControllerClassic } from './controller-classic.js';
import type { CommandReply } from './controller-commands.js';
import type { ControllerLe } from './controller-le.js';
import type { ControllerLeConn } from './controller-le-conn.js';
import type { ControllerOps, ControllerState, Page } from './controller-state.js';
import type { FaultsPeers } from './faults.js';

export class ControllerWiring implements ControllerOps, ClassicPeers, BasebandPeers, FaultsPeers {
  s!: ControllerState;
  reply!: CommandReply;
  acl!: ControllerAcl;
  classic!: ControllerClassic;
  le!: ControllerLe;
  leConn!: ControllerLeConn;

  // ---- ControllerOps (the state record's calls from peers on the radio)
  page_arrived(from: ControllerState, page: Page): void {
    this.classic.page_arrived(from, page);
  }
  page_withdrawn(from: ControllerState, status: number): void {
    this.classic.page_withdrawn(from, status);
  }
  page_failed(page: Page, status: number): void {
    this.classic.page_failed(page, status);
  }
  try_connect(): void {
    this.leConn.try_connect();
  }
  stop_advertising(): void {
    this.le.stop_advertising();
  }

  /** Power off (removed from the link): the host hears nothing more; peers lose their links. */
  power_off(): void {
    const s = this.s;
    if (s.powered_off) return;
    this.reset();
    ControllerBcm.power_on(s);
    s.powered_off = true;
    s.out.sink = null;
    s.out.clear();
  }

  // ---- ClassicPeers
  connection_closed(end: LinkEnd, reason: number): void {
    this.acl.connection_closed(end, reason);
  }

  // ---- BasebandPeers
  /** Everything HCI Reset puts back: links are lost for the peers, state to defaults. */
  reset(): void {
    const s = this.s;
    s.generation++;
    s.cancel_all();
    for (const end of [...s.connections.values()]) {
      end.present = false;
      end.completed = 0;
      end.air.lose();
    }
    s.connections.clear();
    this.acl.reset();
    this.classic.reset();
    s.set_defaults();
  }

  // ---- FaultsPeers
  schedule_completed_packets(): void {
    this.acl.schedule_completed_packets();
  }
  /** Everything HCI Reset does (the controller restarted). */
  restart(): void {
    this.reset();
  }
}
