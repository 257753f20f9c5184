/**
 * One Security Manager on the shared fake of L2CAP's fixed channels (test/helpers/fake-l2cap-fixed.ts)
 * with a scripted remote: the test injects SMP PDUs and HCI events (LTK Request, Encryption
 * Change) and reads what the SM sent (PDUs, HCI commands) and reported (SM events as hex).
 * Random octets are deterministic (a counter), so every PDU can be worked out in the test with
 * the toolbox (crypto.ts, itself checked against the Core spec's sample data).
 */
import { fromHex, hex, sscanf_bd_addr, type BdAddr } from '../../../src/core/bytes.js';
import { VirtualRunLoop } from '../../../src/core/run-loop.js';
import { Logger } from '../../../src/core/log.js';
import { Pools, resolveConfig } from '../../../src/core/config.js';
import { codes_for, type CodeProfile } from '../../../src/codes/index.js';
import { HciLeSecurity, gap_security_level_for_le_link } from '../../../src/hci/hci-le-security.js';
import type { HciArg } from '../../../src/hci/commands.js';
import { Sm, type SmHci } from '../../../src/sm/sm.js';
import { FakeL2capFixed, FakeLeAir } from '../../helpers/fake-l2cap-fixed.js';

export const ADDR_US = sscanf_bd_addr('C0:00:00:00:00:01')!;
export const ADDR_PEER = sscanf_bd_addr('56:00:00:00:00:02')!;

/** Hex without spaces. */
export const h = (s: string): string => s.replace(/\s+/g, '').toLowerCase();
export const x = (b: Uint8Array): string => hex(b).replace(/ /g, '');

export class SmHarness {
  readonly rl = new VirtualRunLoop();
  readonly air = new FakeLeAir(this.rl);
  readonly l2: FakeL2capFixed;
  readonly pools: Pools;
  readonly sm: Sm;
  readonly events: string[] = [];
  /** SM_EVENT_IDENTITY_RESOLVING_* events, as hex. */
  readonly resolving: string[] = [];
  readonly cmds: { name: string; args: HciArg[] }[] = [];
  readonly le_sec = new Map<number, HciLeSecurity>();
  encryption_enabled = 0;
  con = -1;
  private seq = 0;
  private sentSeen = 0;

  constructor(readonly profile: CodeProfile = 'v1.4') {
    this.l2 = new FakeL2capFixed(this.air, ADDR_US, profile);
    const config = resolveConfig();
    this.pools = new Pools(config);
    const hci: SmHci = {
      hci_add_event_handler: (r) => this.l2.hci.hci_add_event_handler(r),
      hci_remove_event_handler: (r) => this.l2.hci.hci_remove_event_handler(r),
      hci_send_cmd: (cmd, ...args) => {
        this.cmds.push({ name: cmd.name, args });
        return 0;
      },
      hci_connection_for_handle: (handle) => {
        if (!this.l2.connections.has(handle)) return null;
        let s = this.le_sec.get(handle);
        if (!s) this.le_sec.set(handle, (s = new HciLeSecurity()));
        return { le_sec: s };
      },
      gap: { gap_le_get_own_address: () => ({ addr_type: 0, addr: ADDR_US }) },
    };
    this.sm = new Sm(
      { run_loop: this.rl, config, pools: this.pools, log: new Logger(), codes: codes_for(profile) },
      this.l2,
      hci,
    );
    // deterministic randoms: 00 01 02 ... (then counting on)
    this.sm.state.random = (n) => Uint8Array.from({ length: n }, () => this.seq++ & 0xff);
    this.sm.state.irk = fromHex('11111111111111111111111111111111');
    this.sm.state.csrk = fromHex('22222222222222222222222222222222');
    this.sm.sm_init();
    // SM_EVENT_IDENTITY_RESOLVING_* (0xCD-0xCF) come with every connection; sm-privacy.test.ts checks them
    this.sm.sm_add_event_handler({
      callback: (_t, _c, p, n) => {
        if (p[0]! >= 0xcd && p[0]! <= 0xcf) this.resolving.push(x(p.subarray(0, n)));
        else this.events.push(x(p.subarray(0, n)));
      },
    });
  }

  /** Next `n` deterministic random octets the SM will draw (does not draw them). */
  peek_random(n: number, skip = 0): Uint8Array {
    return Uint8Array.from({ length: n }, (_, i) => (this.seq + skip + i) & 0xff);
  }

  /** A link with the scripted remote; role: OUR role (1 peripheral: the remote is the central). */
  connect(role = 1, peer: BdAddr = ADDR_PEER, peer_type = 0): number {
    this.con = this.l2.connect_remote(peer, peer_type, role);
    this.rl.run(0);
    return this.con;
  }

  /** Inject one SMP PDU from the remote (hex); run; the PDUs we sent in answer (hex each). */
  pdu(hexstr: string): string[] {
    this.l2.inject(this.con, 0x0006, fromHex(h(hexstr)));
    return this.flush();
  }

  /** PDUs sent since the last call. */
  flush(): string[] {
    this.rl.run(0);
    const out = this.l2.sent.slice(this.sentSeen).map((s) => x(s.bytes));
    this.sentSeen = this.l2.sent.length;
    return out;
  }

  /** Post LE Long Term Key Request (rand as on the wire). */
  ltk_request(rand_wire = new Uint8Array(8), ediv = 0): void {
    const ev = Uint8Array.of(0x3e, 13, 0x05, this.con & 0xff, this.con >> 8, ...rand_wire, ediv & 0xff, ediv >> 8);
    this.l2.post_event(ev);
    this.rl.run(0);
  }

  encryption_change(status = 0, enabled = 1): void {
    if (status === 0) this.encryption_enabled = enabled;
    this.l2.post_event(Uint8Array.of(0x08, 4, status, this.con & 0xff, this.con >> 8, enabled));
    this.rl.run(0);
  }

  /** gap_security_level as HCI would report it for our link. */
  level(): number {
    return gap_security_level_for_le_link(this.encryption_enabled, this.le_sec.get(this.con) ?? new HciLeSecurity(), 7);
  }

  /** Our event head: code, length, handle, peer addr type, peer address (for vectors). */
  ev(code: number, len: number, tail = ''): string {
    const a = x(Uint8Array.from(ADDR_PEER).reverse());
    return h(
      `${code.toString(16).padStart(2, '0')} ${len.toString(16).padStart(2, '0')} ${x(Uint8Array.of(this.con & 0xff, this.con >> 8))} 00 ${a} ${tail}`,
    );
  }
}
