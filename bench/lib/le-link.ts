/**
 * An LE connection between two stacks of a bench World (bench/lib/pair.ts): `peripheral`
 * advertises (connectable undirected), `central` connects with gap_connect; runs the loop until
 * both have their LE Connection Complete. The virtual controllers' LE buffers are their defaults
 * (8 x 251 octets). The air carries LE data in PDUs of the link's data length: 27 octets until a
 * side asks for more, so a 251-octet ACL packet crosses as ten pieces and reaches the other host
 * as ten ACL packets, as on a controller without Data Length Extension. With `data_length`, both
 * sides send LE Set Data Length (gap_le_set_data_length, tx_time 2120 us), as BTstack's le_streamer
 * does, and the loop runs until both hosts got an LE Data Length Change with that length both ways.
 */
import {
  HCI_EVENT_LE_META,
  HCI_SUBEVENT_LE_CONNECTION_COMPLETE,
  HCI_SUBEVENT_LE_DATA_LENGTH_CHANGE,
} from '../../src/codes/v1.4.js';
import type { Node, World } from './pair.js';

export interface LeLink {
  /** Connection handle on the central / on the peripheral. */
  handle_central: number;
  handle_peripheral: number;
}

export function connectLe(w: World, central: Node, peripheral: Node, options: { data_length?: number } = {}): LeLink {
  const link: LeLink = { handle_central: -1, handle_peripheral: -1 };
  let changes = 0;
  const watch = (n: Node, key: keyof LeLink) =>
    n.stack.hci.hci_add_event_handler({
      callback: (_t, _c, p) => {
        if (p[0] !== HCI_EVENT_LE_META) return;
        if (p[2] === HCI_SUBEVENT_LE_CONNECTION_COMPLETE && p[3] === 0 && link[key] < 0) link[key] = p[4]! | (p[5]! << 8);
        // both directions at the asked length: MaxTxOctets (p[5..6]) and MaxRxOctets (p[9..10])
        const want = options.data_length;
        if (p[2] === HCI_SUBEVENT_LE_DATA_LENGTH_CHANGE && (p[5]! | (p[6]! << 8)) === want && (p[9]! | (p[10]! << 8)) === want)
          changes++;
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
  if (options.data_length) {
    for (const [n, h] of [
      [central, link.handle_central],
      [peripheral, link.handle_peripheral],
    ] as const) {
      const st = n.stack.gap.gap_le_set_data_length(h, options.data_length, 2120);
      if (st !== 0) throw new Error(`bench: gap_le_set_data_length status ${st}`);
    }
    w.rl.run_until(() => changes >= 2, 60_000);
    if (changes < 2) throw new Error('bench: no LE Data Length Change');
  }
  return link;
}
