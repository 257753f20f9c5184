/**
 * An LE bond with an outside implementation survives a restart of both hosts (issue 15's done-when
 * line): bthost and ble-host (pinned in test/third-party) pair with LE Secure Connections Just
 * Works and bond; then both are stopped (ble-host's process exits, bthost's Stack is powered off and
 * closed, the radio and the wiretap go away) and started again: a new radio with the same seed
 * gives both controllers the addresses they had, as hardware keeps its public address; bthost
 * reopens its key file (ports/posix/tlv-file.ts holding the LeDeviceDbTlv), ble-host reopens its
 * own storage (./NodeBleLib-storage-dir in its working directory, per own address). On the new
 * link the central encrypts with the stored key and nothing pairs:
 *   - bthost central, ble-host peripheral: bthost's sm_request_pairing re-encrypts
 *     (REENCRYPTION_STARTED / _COMPLETE 0), its capture holds LE Start Encryption with EDIV 0,
 *     Rand 0 and the LTK read back from the reopened file; ble-host answers the LTK Request from
 *     its storage (LTK Request Reply with the same key in its capture, 'encrypt' 0).
 *   - ble-host central, bthost peripheral: ble-host's smp.startEncryption (it has an LTK for
 *     bthost after its restart); bthost answers the LTK Request from the reopened file (LTK Request
 *     Reply with the stored key, REENCRYPTION_COMPLETE 0).
 * Neither capture of the second session holds an SMP Pairing Request; both decode cleanly
 * (tshark, btmon: assertCleanCapture).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bd_addr_to_str, hex, little_endian_read_16 } from '../../src/core/bytes.js';
import * as C from '../../src/codes/v1.4.js';
import type { Stack } from '../../src/stack.js';
import { le_device_db_tlv_get_instance, type LeDeviceDbTlv } from '../../src/sm/le-device-db-tlv.js';
import { btstack_tlv_posix_deinit, btstack_tlv_posix_init_instance, type BtstackTlvFile } from '../../ports/posix/tlv-file.js';
import { assertCleanCapture, readCapture, type CaptureRecord } from '../helpers/capture.js';
import { BLE_HOST_RUNNER, ensure_third_party } from '../third-party/install.js';
import { haveSocat, JsonChild, open_rig, remove_rig, type Rig } from './third-party-helpers.js';

/** One seed for both sessions: the same controller addresses after the restart. */
const SEED = 'bthost-3p-blehost-bond-';

interface Session {
  r: Rig;
  bt: Stack;
  b: JsonChild;
  tlv: BtstackTlvFile;
  db: LeDeviceDbTlv;
  sm_events: Uint8Array[];
  con: () => number;
  ours: string;
}

/** bthost on a new radio with its key file and SM (SC + bonding, Just Works confirmed), then ble-host in `ble_dir`. */
async function start(keys: string, ble_dir: string): Promise<Session> {
  const r = await open_rig(SEED);
  const bt = await r.stack();
  const tlv = btstack_tlv_posix_init_instance(keys);
  const db = le_device_db_tlv_get_instance(tlv);
  const sm = bt.sm;
  sm.sm_set_le_device_db(db);
  sm.sm_init();
  sm.sm_set_io_capabilities(C.IO_CAPABILITY_NO_INPUT_NO_OUTPUT);
  sm.sm_set_authentication_requirements(C.SM_AUTHREQ_SECURE_CONNECTION | C.SM_AUTHREQ_BONDING);
  const sm_events: Uint8Array[] = [];
  sm.sm_add_event_handler({
    callback: (_t, _c, p, n) => {
      const e = p.slice(0, n);
      sm_events.push(e);
      if (e[0] === C.SM_EVENT_JUST_WORKS_REQUEST) sm.sm_just_works_confirm(little_endian_read_16(e, 2));
    },
  });
  let con = -1;
  bt.hci.hci_add_event_handler({
    callback: (_t, _c, p) => {
      if (p[0] === 0x3e && p[2] === 0x01 && p[3] === 0) con = little_endian_read_16(p, 4);
      if (p[0] === C.HCI_EVENT_DISCONNECTION_COMPLETE) con = -1;
    },
  });
  const b = new JsonChild(BLE_HOST_RUNNER, [r.tapSock], ble_dir);
  await r.wait(() => !!b.find((e) => e.ev === 'ready'), 8000, 'ble-host ready', b);
  return { r, bt, b, tlv, db, sm_events, con: () => con, ours: bd_addr_to_str(bt.gap.gap_local_bd_addr()) };
}

/** Both hosts stop: the link goes down, ble-host exits, bthost powers off, the rig closes. */
async function stop(s: Session): Promise<void> {
  if (s.con() >= 0) s.bt.gap.gap_disconnect(s.con());
  await s.r.wait(() => s.con() < 0 && s.bt.sm.state.connections.length === 0, 5000, 'link down', s.b);
  assert.equal(s.bt.pools.busy(), [], 'bthost pools back to full');
  await s.b.stop();
  await s.r.close();
  btstack_tlv_posix_deinit(s.tlv);
}

function peer_addr(s: Session): Uint8Array {
  return s.r.server.controllers.find((c) => bd_addr_to_str(c.bd_addr) !== s.ours)!.bd_addr;
}

/** Identity resolving on a new link (BTstack: against the bonds' IRKs) is not pairing. */
const RESOLVING: number[] = [
  C.SM_EVENT_IDENTITY_RESOLVING_STARTED,
  C.SM_EVENT_IDENTITY_RESOLVING_SUCCEEDED,
  C.SM_EVENT_IDENTITY_RESOLVING_FAILED,
];
/** The SM events other than identity resolving, by code. */
const names = (s: Session): number[] => s.sm_events.map((e) => e[0]!).filter((c) => !RESOLVING.includes(c));

/** HCI commands with this opcode in a capture (sent by its host). */
function commands(records: CaptureRecord[], opcode: number): Uint8Array[] {
  return records.filter((r) => r.packet_type === 1 && little_endian_read_16(r.data, 0) === opcode).map((r) => r.data);
}

/** SMP Pairing Requests (code 0x01 on CID 0x0006) in a capture, either direction. */
function pairing_requests(records: CaptureRecord[]): number {
  return records.filter(
    (r) => r.packet_type === 2 && r.data.length >= 9 && little_endian_read_16(r.data, 6) === 0x0006 && r.data[8] === 0x01,
  ).length;
}

const rev = (v: Uint8Array): string => hex(Uint8Array.from(v).reverse());

async function with_dirs(body: (keys: string, ble_dir: string) => Promise<void>): Promise<void> {
  assert.ok(haveSocat, 'socat is installed');
  const tp = ensure_third_party();
  assert.ok(!('unavailable' in tp), 'unavailable' in tp ? tp.unavailable : '');
  const base = mkdtempSync(join(tmpdir(), 'bthost-bond-restart-'));
  try {
    const ble_dir = join(base, 'ble-host');
    mkdirSync(ble_dir);
    mkdirSync(join(base, 'keys'));
    await body(join(base, 'keys', 'bthost.tlv'), ble_dir);
  } finally {
    if (process.env.BTHOST_3P_KEEP) console.log(`kept ${base}`);
    else rmSync(base, { recursive: true, force: true });
  }
}

/** Both sides report SC pairing complete; bthost's PAIRING_COMPLETE status 0. */
async function paired(s: Session): Promise<void> {
  await s.r.wait(
    () => names(s).includes(C.SM_EVENT_PAIRING_COMPLETE) && !!s.b.find((e) => e.ev === 'pairingComplete'),
    8000,
    'paired',
    s.b,
  );
  assert.is(s.sm_events.find((e) => e[0] === C.SM_EVENT_PAIRING_COMPLETE)![11], 0);
}

/** Both sides re-encrypted with the stored key and nothing paired; security level 2. */
async function reencrypted(s: Session): Promise<void> {
  await s.r.wait(
    () => names(s).includes(C.SM_EVENT_REENCRYPTION_COMPLETE) && !!s.b.find((e) => e.ev === 'encrypt'),
    8000,
    're-encrypted',
    s.b,
  );
  assert.equal(names(s), [C.SM_EVENT_REENCRYPTION_STARTED, C.SM_EVENT_REENCRYPTION_COMPLETE], 'no pairing');
  const done = s.sm_events.find((e) => e[0] === C.SM_EVENT_REENCRYPTION_COMPLETE)!;
  assert.is(done[done.length - 1], 0, 'REENCRYPTION_COMPLETE status 0');
  assert.is(s.b.find((e) => e.ev === 'encrypt')!.status, 0, "ble-host's encrypt event: success");
  assert.not.ok(
    s.b.find((e) => e.ev === 'pairingComplete'),
    'ble-host did not pair',
  );
  assert.is(s.bt.gap.gap_security_level(s.con()), 2);
}

/**
 * The captures of session 2: the central's LE Start Encryption (SC: Rand 0, EDIV 0, the stored
 * LTK), the peripheral's LTK Request Reply with the same key, no SMP Pairing Request, both clean.
 */
function check_reencryption_captures(r2: Rig, ltk: string, central: 'bthost' | 'ble-host'): void {
  const ours = readCapture(readFileSync(r2.stackLog)).records;
  const theirs = readCapture(readFileSync(r2.tapLog)).records;
  const [c, p] = central === 'bthost' ? [ours, theirs] : [theirs, ours];
  const start_enc = commands(c, 0x2019);
  assert.is(start_enc.length, 1, `${central}'s LE Start Encryption`);
  const e = start_enc[0]!;
  assert.is(hex(e.subarray(5, 13)), hex(new Uint8Array(8)), 'Rand 0 (SC)');
  assert.is(little_endian_read_16(e, 13), 0, 'EDIV 0');
  assert.is(rev(e.subarray(15, 31)), ltk, "the central's stored LTK is the one the peripheral keeps");
  const reply = commands(p, 0x201a);
  assert.is(reply.length, 1, "the peripheral's LTK Request Reply");
  assert.is(rev(reply[0]!.subarray(5, 21)), ltk, 'the peripheral answered with the same key from its storage');
  assert.is(pairing_requests(ours) + pairing_requests(theirs), 0, 'no SMP Pairing Request');
  assertCleanCapture(r2.stackLog);
  assertCleanCapture(r2.tapLog);
}

/**
 * Session 1 (`first`: pair and bond, its result kept), both hosts stopped, session 2 (`second`:
 * re-encrypt) on restarted hosts, then session 2's captures checked; rigs cleaned up on failure.
 */
function two_sessions<T extends { ltk: string }>(
  central: 'bthost' | 'ble-host',
  first: (s: Session) => Promise<T>,
  second: (s: Session, got: T) => Promise<void>,
): Promise<void> {
  return with_dirs(async (keys, ble_dir) => {
    let s: Session | null = await start(keys, ble_dir);
    try {
      const got = await first(s);
      await stop(s);
      remove_rig(s.r);
      s = null;
      s = await start(keys, ble_dir);
      const r2 = s.r;
      await second(s, got);
      await stop(s);
      s = null;
      check_reencryption_captures(r2, got.ltk, central);
      remove_rig(r2);
    } finally {
      if (s) {
        await s.b.stop();
        await s.r.close();
        remove_rig(s.r);
      }
    }
  });
}

/** The LTK of bthost's bond with the peer (asserted stored). */
function bond_ltk(s: Session, peer: Uint8Array, what: string): string {
  const i = s.db.le_device_db_lookup(0, peer);
  assert.ok(i >= 0, what);
  return hex(s.db.le_device_db_encryption_get(i)!.ltk);
}

test('bthost (central) and ble-host (peripheral): the SC bond survives a restart of both; re-encryption, no pairing', () =>
  two_sessions(
    'bthost',
    async (s1) => {
      // ---- session 1: pair and bond
      s1.b.send({ cmd: 'serve', name: 'ble-host-bond' });
      await s1.r.wait(() => !!s1.b.find((e) => e.ev === 'advertising'), 8000, 'ble-host advertising', s1.b);
      const peer = peer_addr(s1);
      assert.is(s1.bt.gap.gap_connect(peer, 0), 0);
      await s1.r.wait(() => s1.con() >= 0 && !!s1.b.find((e) => e.ev === 'connect'), 8000, 'LE link up', s1.b);
      s1.bt.sm.sm_request_pairing(s1.con());
      await paired(s1);
      return { ltk: bond_ltk(s1, peer, 'bond stored'), addrs: [s1.ours, bd_addr_to_str(peer)] };
    },
    async (s2, { ltk, addrs }) => {
      // ---- session 2: both restarted with their stores
      assert.equal([s2.ours, bd_addr_to_str(peer_addr(s2))], addrs, 'the controllers have the addresses they had');
      const i2 = s2.db.le_device_db_lookup(0, peer_addr(s2));
      assert.ok(i2 >= 0, 'the bond read back from the key file');
      const enc = s2.db.le_device_db_encryption_get(i2)!;
      assert.is(hex(enc.ltk), ltk, 'same LTK after the restart');
      assert.equal([enc.secure_connection, enc.key_size], [true, 16]);
      s2.b.send({ cmd: 'serve', name: 'ble-host-bond' });
      await s2.r.wait(() => !!s2.b.find((e) => e.ev === 'advertising'), 8000, 'ble-host advertising', s2.b);
      assert.is(s2.bt.gap.gap_connect(peer_addr(s2), 0), 0);
      await s2.r.wait(() => s2.con() >= 0 && !!s2.b.find((e) => e.ev === 'connect'), 8000, 'LE link up', s2.b);
      s2.bt.sm.sm_request_pairing(s2.con());
      await reencrypted(s2);
    },
  ));

test('ble-host (central) and bthost (peripheral): the SC bond survives a restart of both; ble-host re-encrypts, no pairing', () => {
  const advertise = (s: Session): void => {
    const bt = s.bt;
    const name = 'bthost-bond';
    const ad = Uint8Array.from([0x02, 0x01, 0x06, 1 + name.length, 0x09, ...new TextEncoder().encode(name)]);
    bt.gap.gap_advertisements_set_params(0x0030, 0x0030, 0x00, 0, new Uint8Array(6), 0x07, 0);
    bt.gap.gap_advertisements_set_data(ad.length, ad);
    bt.gap.gap_advertisements_enable(1);
  };
  /** bthost advertises, ble-host connects; `bonded`: whether ble-host says it holds an LTK for bthost. */
  const connect = async (s: Session, bonded: boolean, what: string): Promise<void> => {
    advertise(s);
    s.b.send({ cmd: 'connect', address: s.ours, addressType: 'public' });
    await s.r.wait(() => !!s.b.find((e) => e.ev === 'connect') && s.con() >= 0, 8000, 'ble-host connected', s.b);
    assert.is(s.b.find((e) => e.ev === 'connect')!.hasLtk, bonded, what);
  };
  return two_sessions(
    'ble-host',
    async (s1) => {
      // ---- session 1: ble-host connects and pairs
      await connect(s1, false, 'no bond yet');
      s1.b.send({ cmd: 'pair' });
      await paired(s1);
      const ltk = bond_ltk(s1, peer_addr(s1), "a bond for ble-host's address");
      s1.b.send({ cmd: 'disconnect' });
      return { ltk };
    },
    async (s2) => {
      // ---- session 2: both restarted; ble-host has an LTK for bthost and encrypts with it
      assert.ok(s2.db.le_device_db_lookup(0, peer_addr(s2)) >= 0, 'the bond read back from the key file');
      await connect(s2, true, 'ble-host kept its bond across the restart');
      s2.b.send({ cmd: 'startEncryption' });
      await reencrypted(s2);
      s2.b.send({ cmd: 'disconnect' });
    },
  );
});

test.run();
