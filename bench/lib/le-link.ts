/**
 * An LE connection between two stacks of a bench World (bench/lib/pair.ts): `peripheral`
 * advertises (connectable undirected), `central` connects with gap_connect; runs the loop until
 * both have their LE Connection Complete. The virtual controllers' LE buffers are their defaults
 * (8 x 251 octets, as a controller with Data Length Extension).
 */
import { HCI_EVENT_LE_META, HCI_SUBEVENT_LE_CONNECTION_COMPLETE } from '../../src/codes/v1.4.js';
import type { Node, World } from './pair.js';

export interface LeLink {
  /** Connection handle on the central / on the peripheral. */
  handle_central: number;
  handle_peripheral: number;
}

export function connectLe(w: World, central: Node, peripheral: Node): LeLink {
  const link: LeLink = { handle_central: -1, handle_peripheral: -1 };
  const watch = (n: Node, key: keyof LeLink) =>
    n.stack.hci.hci_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] === HCI_EVENT_LE_META && p[2] === HCI_SUBEVENT_LE_CONNECTION_COMPLETE && p[3] === 0 && link[key] < 0)
          link[key] = p[4]! | (p[5]! << 8);
      },
    });
  watch(central, 'handle_central');
  watch(peripheral, 'handle_peripheral');
  const g = peripheral.stack.gap;
  g.gap_advertisements_set_params(0x20, 0x20, 0, 0, new Uint8Array(6), 7, 0);
  g.gap_advertisements_set_data(3, Uint8Array.of(0x02, 0x01, 0x06));
  g.gap_advertisements_enable(1);
  const st = central.stack.gap.gap_connect(peripheral.addr, 0);
  if (st !== 0) throw new Error(`bench: gap_connect status ${st}`);
  w.rl.run_until(() => link.handle_central >= 0 && link.handle_peripheral >= 0, 60_000);
  if (link.handle_central < 0 || link.handle_peripheral < 0) throw new Error('bench: no LE connection');
  return link;
}
