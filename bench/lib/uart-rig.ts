/**
 * The orchestrator side shared by the UART benchmarks (bench/uart.ts, bench/uart-soak.ts): the
 * virtual controller served on a Unix socket with its H4 stream paced like a UART at `baud`, a
 * peer Stack on another controller of the same radio in this process with an L2CAP service
 * (accepts, then streams what `stream` gives while `stream.sending`), and a socat pty joined to the
 * socket for the measured host process (bench/lib/uart-host.ts, bench/lib/uart-soak-host.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bd_addr_to_str } from '../../src/core/bytes.js';
import { NodeRunLoop } from '../../src/core/run-loop.js';
import { RadioLink } from '../../src/controller/link.js';
import { VirtualTransport } from '../../ports/virtual/transport.js';
import { serve_controllers } from '../../ports/virtual/server.js';
import { Stack } from '../../src/stack.js';
import {
  HCI_EVENT_PACKET,
  HCI_POWER_ON,
  HCI_STATE_WORKING,
  L2CAP_DATA_PACKET,
  L2CAP_EVENT_CAN_SEND_NOW,
  L2CAP_EVENT_CHANNEL_OPENED,
  L2CAP_EVENT_INCOMING_CONNECTION,
  l2cap_event_channel_opened_get_local_cid,
  l2cap_event_channel_opened_get_status,
  l2cap_event_incoming_connection_get_local_cid,
} from '../../src/codes/v1.4.js';

/** Poll `pred` every `poll_ms`; throws `<tag>: timed out waiting for <what>` after `ms`. */
export async function until(pred: () => boolean, ms: number, what: string, tag: string, poll_ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${tag}: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, poll_ms));
  }
}

/** What the peer does with its channel to the host. */
export interface PeerStream {
  /** Data from the host. */
  received(packet: Uint8Array, size: number): void;
  /** The peer sends while this holds (read when the channel opens and on each CAN_SEND_NOW). */
  sending: boolean;
  /** The next SDU, at most `mtu` octets (the host's MTU). */
  next(mtu: number): Uint8Array;
  /** l2cap_send took `sdu`. */
  sent(sdu: Uint8Array): void;
}

export interface UartRig {
  /** The pty the host process opens. */
  tty: string;
  peer: Stack;
  peer_addr: string;
  /** socat ended, the server closed, the peer closed, the run loop ended, the directory removed. */
  close(): Promise<void>;
}

export interface UartRigOptions {
  baud: number;
  /** The radio's seed and the temporary directory's prefix. */
  seed: string;
  prefix: string;
  psm: number;
  mtu: number;
  /** Messages start with it. */
  tag: string;
  poll_ms: number;
  /** The served controller's ACL buffers (default: the virtual controller's 8 x 1021). */
  acl_buffers?: number;
  acl_size?: number;
}

/** The controller on a socket paced at `baud`, the peer WORKING with its service, the pty up. */
export async function uart_rig(o: UartRigOptions, stream: PeerStream): Promise<UartRig> {
  const dir = mkdtempSync(join(tmpdir(), o.prefix));
  const sock = join(dir, 'ctrl.sock');
  const tty = join(dir, 'tty');
  const loop = new NodeRunLoop();
  loop.keepAlive = false;
  const link = new RadioLink(loop, { seed: o.seed });
  const server = await serve_controllers(link, `unix:${sock}`, {
    baud: o.baud,
    controller: {
      ...(o.acl_buffers !== undefined ? { acl_buffers: o.acl_buffers } : {}),
      ...(o.acl_size !== undefined ? { acl_size: o.acl_size } : {}),
    },
  });
  const peer = new Stack({ transport: new VirtualTransport(link.create_controller()), run_loop: loop });
  let socat: ChildProcess | null = null;
  const close = async (): Promise<void> => {
    stream.sending = false;
    if (socat && socat.exitCode === null) {
      const s = socat;
      s.kill('SIGTERM');
      await new Promise((r) => s.once('exit', r));
    }
    await server.close();
    peer.hci.hci_close();
    loop.trigger_exit();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const l2 = peer.l2cap;
    let cid = 0;
    let mtu = 0;
    const st = l2.l2cap_register_service(
      (type, _ch, packet, size) => {
        if (type === L2CAP_DATA_PACKET) {
          stream.received(packet, size);
          return;
        }
        if (type !== HCI_EVENT_PACKET) return;
        if (packet[0] === L2CAP_EVENT_INCOMING_CONNECTION)
          l2.l2cap_accept_connection(l2cap_event_incoming_connection_get_local_cid(packet));
        else if (packet[0] === L2CAP_EVENT_CHANNEL_OPENED && l2cap_event_channel_opened_get_status(packet) === 0) {
          cid = l2cap_event_channel_opened_get_local_cid(packet);
          mtu = l2.l2cap_get_remote_mtu_for_local_cid(cid);
          if (stream.sending) l2.l2cap_request_can_send_now_event(cid);
        } else if (packet[0] === L2CAP_EVENT_CAN_SEND_NOW && stream.sending) {
          const sdu = stream.next(mtu);
          if (l2.l2cap_send(cid, sdu, sdu.length) === 0) stream.sent(sdu);
          l2.l2cap_request_can_send_now_event(cid);
        }
      },
      o.psm,
      o.mtu,
    );
    if (st !== 0) throw new Error(`${o.tag}: l2cap_register_service status ${st}`);
    peer.hci.hci_power_control(HCI_POWER_ON);
    await until(() => peer.hci.hci_get_state() === HCI_STATE_WORKING, 5000, 'peer WORKING', o.tag, o.poll_ms);
    const s = spawn('socat', [`pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${sock}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    socat = s;
    let socatErr = '';
    s.stderr!.on('data', (d) => (socatErr += d));
    await until(() => existsSync(tty) || s.exitCode !== null, 3000, 'socat pty', o.tag, o.poll_ms);
    if (s.exitCode !== null) throw new Error(`${o.tag}: socat exited: ${socatErr}`);
    return { tty, peer, peer_addr: bd_addr_to_str(peer.gap.gap_local_bd_addr()), close };
  } catch (e) {
    await close();
    throw e;
  }
}
