/**
 * Security as hosts see it (Vol 4 Part E; association models from Vol 3 Part C 5.2.2.6):
 *
 * Classic authentication: Link Key Request to the initiator's host; with a key, the responder's
 * host is asked for its key and the two must match (missing: 0x06 PIN or Key Missing, different:
 * 0x05 Authentication Failure, and the link is detached with that reason). Without a key the controllers pair: Secure Simple Pairing when
 * both hosts enabled it (IO Capability Request/Response both ways, then User Confirmation,
 * Passkey Request/Notification, Simple Pairing Complete and Link Key Notification with a fresh
 * random key on both sides), else legacy PIN pairing. Authentication Complete goes to the host
 * that asked. Set Connection Encryption then gives Encryption Change on both sides.
 *
 * LE: LE Start Encryption on the central gives the peripheral's host an LTK Request; equal keys
 * give Encryption Change (or Encryption Key Refresh Complete) on both, different keys end the
 * link with MIC failure, a negative reply gives the central 0x06 PIN or Key Missing.
 */
import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import type { BdAddr } from '../core/bytes.js';
import type { Timer } from '../core/run-loop.js';
import * as K from '../hci/commands.js';
import type { HciArg, HciCommand } from '../hci/commands.js';
import type { AirLink, LinkEnd } from './air.js';
import * as C from './codes.js';
import type { CommandReply, CommandTable } from './controller-commands.js';
import type { ControllerState } from './controller-state.js';

const OK = C.ERROR_CODE_SUCCESS;
const INVALID = C.ERROR_CODE_INVALID_HCI_COMMAND_PARAMETERS;
const DISALLOWED = C.ERROR_CODE_COMMAND_DISALLOWED;
const UNKNOWN_CONN = C.ERROR_CODE_UNKNOWN_CONNECTION_IDENTIFIER;
/** LMP response timeout: a host that never answers a security request. */
const RESPONSE_TIMEOUT_MS = 30_000;

const IO_DISPLAY_ONLY = 0;
const IO_DISPLAY_YES_NO = 1;
const IO_KEYBOARD_ONLY = 2;

const n = (a: HciArg[], i: number): number => a[i] as number;
const copy = (v: HciArg): Uint8Array => Uint8Array.from(v as Uint8Array);
const equal = (x: Uint8Array, y: Uint8Array): boolean => x.length === y.length && x.every((b, i) => b === y[i]);

type Model = 'just_works' | 'numeric' | 'passkey';

interface Waiter {
  end: LinkEnd;
  kind: 'auth' | 'enc';
}

/** A classic authentication / pairing procedure on one AirLink. */
interface Proc {
  init: LinkEnd;
  resp: LinkEnd;
  waiters: Waiter[];
  init_key: Uint8Array | null;
  io: [number, number, number][]; // [initiator, responder] of [io, oob, auth_req]
  model: Model;
  value: number;
  /** Passkey entries / confirmations still expected, by end. */
  pending: Set<LinkEnd>;
  entries: Map<LinkEnd, number>;
  pins: Map<LinkEnd, Uint8Array>;
  legacy: boolean;
  timer: Timer | null;
}

function procOf(air: AirLink): Proc | null {
  return air.sec as Proc | null;
}

function touch(p: Proc): void {
  const air = p.init.air;
  air.cancel(p.timer);
  p.timer = air.after(RESPONSE_TIMEOUT_MS, () => finish(p, C.ERROR_CODE_LMP_RESPONSE_TIMEOUT_LL_RESPONSE_TIMEOUT));
}

/** Ask `end`'s host for something; when the event is masked the controller answers "no". */
function ask(end: LinkEnd, what: LinkEnd['awaiting'], sent: boolean, onMasked: () => void): void {
  if (sent) end.awaiting = what;
  else onMasked();
}

function startAuth(end: LinkEnd, kind: Waiter['kind']): void {
  const air = end.air;
  const cur = procOf(air);
  if (cur) {
    cur.waiters.push({ end, kind });
    return;
  }
  const p: Proc = {
    init: end,
    resp: end.peer,
    waiters: [{ end, kind }],
    init_key: null,
    io: [],
    model: 'just_works',
    value: 0,
    pending: new Set(),
    entries: new Map(),
    pins: new Map(),
    legacy: false,
    timer: null,
  };
  air.sec = p;
  touch(p);
  const c = end.controller;
  ask(end, 'link_key', c.ev.link_key_request(end.peer_addr), () => initLinkKey(p, null));
}

function finish(p: Proc, status: number): void {
  const air = p.init.air;
  if (procOf(air) !== p) return;
  air.sec = null;
  air.cancel(p.timer);
  p.init.awaiting = '';
  p.resp.awaiting = '';
  for (const w of p.waiters) {
    if (!w.end.present) continue;
    if (w.kind === 'auth') w.end.controller.ev.authentication_complete(status, w.end.handle);
    else if (status === OK) encrypt(w.end, true);
    else w.end.controller.ev.encryption_change(status, w.end.handle, 0);
  }
}

/**
 * The two link keys differ (SRES mismatch): Authentication Complete 0x05, then the verifier
 * detaches the link with Authentication Failure (Vol 2 Part C 4.2.1): both hosts see
 * Disconnection Complete with reason 0x05.
 */
function authFailedDetach(p: Proc): void {
  const air = p.init.air;
  finish(p, C.ERROR_CODE_AUTHENTICATION_FAILURE);
  air.lmp(() => air.disconnect(C.ERROR_CODE_AUTHENTICATION_FAILURE, C.ERROR_CODE_AUTHENTICATION_FAILURE));
}

/** Pairing failed: Simple Pairing Complete to the hosts that took part, then the waiters. */
function pairingFailed(p: Proc, status: number, both: boolean): void {
  if (!p.legacy) {
    p.init.controller.ev.simple_pairing_complete(status, p.init.peer_addr);
    if (both) p.resp.controller.ev.simple_pairing_complete(status, p.resp.peer_addr);
  }
  finish(p, status);
}

function initLinkKey(p: Proc, key: Uint8Array | null): void {
  p.init.awaiting = '';
  touch(p);
  if (key) {
    p.init_key = key;
    p.init.air.lmp(() =>
      ask(p.resp, 'link_key', p.resp.controller.ev.link_key_request(p.resp.peer_addr), () => respLinkKey(p, null)),
    );
    return;
  }
  startPairing(p);
}

function respLinkKey(p: Proc, key: Uint8Array | null): void {
  p.resp.awaiting = '';
  const air = p.init.air;
  air.lmp(() => {
    if (!key) return finish(p, C.ERROR_CODE_PIN_OR_KEY_MISSING);
    if (!equal(key, p.init_key!)) return authFailedDetach(p);
    air.authenticated = true;
    air.link_key = key;
    // a stored key: the controllers do not learn its type. When both sides support Secure Connections
    // they run the secure authentication procedure, after which encryption is AES-CCM (Vol 2 Part H
    // 5 / 6.1); the key counts as a P-256 one for that choice.
    air.key_type = sc_on_both(p.init) ? 0x07 : 0x04;
    finish(p, OK);
  });
}

function startPairing(p: Proc): void {
  const ci = p.init.controller;
  const cr = p.resp.controller;
  if (ci.simple_pairing_mode && cr.simple_pairing_mode) {
    ask(p.init, 'io_cap', ci.ev.io_capability_request(p.init.peer_addr), () =>
      pairingFailed(p, C.ERROR_CODE_PAIRING_NOT_ALLOWED, false),
    );
    return;
  }
  p.legacy = true;
  ask(p.init, 'pin', ci.ev.pin_code_request(p.init.peer_addr), () => finish(p, C.ERROR_CODE_PIN_OR_KEY_MISSING));
}

function ioCapReply(p: Proc, end: LinkEnd, io: number, oob: number, auth: number): void {
  end.awaiting = '';
  touch(p);
  const air = end.air;
  if (end === p.init) {
    p.io[0] = [io, oob, auth];
    air.lmp(() => {
      const r = p.resp;
      r.controller.ev.io_capability_response(r.peer_addr, io, oob, auth);
      ask(r, 'io_cap', r.controller.ev.io_capability_request(r.peer_addr), () =>
        pairingFailed(p, C.ERROR_CODE_PAIRING_NOT_ALLOWED, true),
      );
    });
    return;
  }
  p.io[1] = [io, oob, auth];
  air.lmp(() => {
    p.init.controller.ev.io_capability_response(p.init.peer_addr, io, oob, auth);
    air.lmp(() => authStage1(p));
  });
}

/** Choose the association model and ask both hosts (Vol 3 Part C table 5.7). */
function authStage1(p: Proc): void {
  const [ii, , ia] = p.io[0]!;
  const [ri, , ra] = p.io[1]!;
  const mitm = ((ia | ra) & 0x01) !== 0;
  let model: Model = 'just_works';
  let inputs: LinkEnd[] = [];
  let display: LinkEnd | null = null;
  if (mitm) {
    if (ii === IO_KEYBOARD_ONLY && ri === IO_KEYBOARD_ONLY) {
      model = 'passkey';
      inputs = [p.init, p.resp];
    } else if (ii === IO_KEYBOARD_ONLY && (ri === IO_DISPLAY_ONLY || ri === IO_DISPLAY_YES_NO)) {
      model = 'passkey';
      inputs = [p.init];
      display = p.resp;
    } else if (ri === IO_KEYBOARD_ONLY && (ii === IO_DISPLAY_ONLY || ii === IO_DISPLAY_YES_NO)) {
      model = 'passkey';
      inputs = [p.resp];
      display = p.init;
    } else if (ii === IO_DISPLAY_YES_NO && ri === IO_DISPLAY_YES_NO) {
      model = 'numeric';
    }
  }
  p.model = model;
  p.value = randomInt(0, 1_000_000);
  p.pending.clear();
  p.entries.clear();
  touch(p);
  if (model === 'passkey') {
    if (display) display.controller.ev.user_passkey_notification(display.peer_addr, p.value);
    for (const e of inputs) {
      p.pending.add(e);
      ask(e, 'passkey', e.controller.ev.user_passkey_request(e.peer_addr), () =>
        pairingFailed(p, C.ERROR_CODE_AUTHENTICATION_FAILURE, true),
      );
    }
    return;
  }
  for (const e of [p.init, p.resp]) {
    p.pending.add(e);
    ask(e, 'user_confirm', e.controller.ev.user_confirmation_request(e.peer_addr, p.value), () => confirmReply(p, e, false));
  }
}

function confirmReply(p: Proc, end: LinkEnd, yes: boolean): void {
  end.awaiting = '';
  if (!p.pending.delete(end)) return;
  if (!yes) {
    p.pending.clear(); // the other side's answer, even a yes on its way, no longer counts
    return void end.air.lmp(() => pairingFailed(p, C.ERROR_CODE_AUTHENTICATION_FAILURE, true));
  }
  if (p.pending.size === 0) end.air.lmp(() => pairingDone(p));
}

function passkeyReply(p: Proc, end: LinkEnd, value: number | null): void {
  end.awaiting = '';
  if (!p.pending.delete(end)) return;
  if (value === null) {
    p.pending.clear();
    return void end.air.lmp(() => pairingFailed(p, C.ERROR_CODE_AUTHENTICATION_FAILURE, true));
  }
  p.entries.set(end, value);
  if (p.pending.size > 0) return;
  const values = [...p.entries.values()];
  const expected = p.entries.size === 2 ? values[0]! : p.value;
  const ok = values.every((v) => v === expected);
  end.air.lmp(() => (ok ? pairingDone(p) : pairingFailed(p, C.ERROR_CODE_AUTHENTICATION_FAILURE, true)));
}

function pairingDone(p: Proc): void {
  const air = p.init.air;
  if (procOf(air) !== p) return; // failed (or the link went) meanwhile
  const sc = p.init.controller.secure_connections_host === 1 && p.resp.controller.secure_connections_host === 1;
  const authenticated = p.model !== 'just_works';
  const key_type = sc ? (authenticated ? 0x08 : 0x07) : authenticated ? 0x05 : 0x04;
  const key = new Uint8Array(randomBytes(16));
  air.authenticated = true;
  air.link_key = key;
  air.key_type = key_type;
  for (const e of [p.init, p.resp]) {
    e.controller.ev.simple_pairing_complete(OK, e.peer_addr);
    e.controller.ev.link_key_notification(e.peer_addr, key, key_type);
  }
  finish(p, OK);
}

function pinReply(p: Proc, end: LinkEnd, pin: Uint8Array | null): void {
  end.awaiting = '';
  touch(p);
  const air = end.air;
  if (!pin) return void air.lmp(() => finish(p, C.ERROR_CODE_PIN_OR_KEY_MISSING));
  p.pins.set(end, pin);
  if (end === p.init) {
    air.lmp(() =>
      ask(p.resp, 'pin', p.resp.controller.ev.pin_code_request(p.resp.peer_addr), () =>
        finish(p, C.ERROR_CODE_PIN_OR_KEY_MISSING),
      ),
    );
    return;
  }
  air.lmp(() => {
    if (!equal(p.pins.get(p.init)!, pin)) return authFailedDetach(p);
    const key = new Uint8Array(randomBytes(16));
    air.authenticated = true;
    air.link_key = key;
    air.key_type = 0x00; // combination key
    for (const e of [p.init, p.resp]) e.controller.ev.link_key_notification(e.peer_addr, key, 0x00);
    finish(p, OK);
  });
}

/** Both hosts enabled Secure Connections (Write Secure Connections Host Support). */
function sc_on_both(end: LinkEnd): boolean {
  return end.controller.secure_connections_host === 1 && end.peer.controller.secure_connections_host === 1;
}

/** Switch classic encryption on/off: Encryption Change on both sides. */
function encrypt(end: LinkEnd, on: boolean): void {
  const air = end.air;
  air.encryption_pending = true;
  air.lmp(() => {
    air.encryption_pending = false;
    air.encryption = on ? (sc_on_both(end) && (air.key_type === 0x07 || air.key_type === 0x08) ? 0x02 : 0x01) : 0x00;
    for (const e of [end, end.peer]) e.controller.ev.encryption_change(OK, e.handle, air.encryption);
  });
}

// ---- LE

interface LeEnc {
  rand: Uint8Array;
  ediv: number;
  ltk: Uint8Array;
}

/** The peripheral's host answered the LTK request (null: negative reply, or the event is masked). */
function leLtk(air: AirLink, ltk: Uint8Array | null): void {
  const req = air.sec as LeEnc | null;
  air.peripheral.awaiting = '';
  if (!req) return;
  air.lmp(() => {
    air.sec = null;
    const central = air.central;
    if (!ltk) {
      const was = air.encryption;
      air.encryption = 0;
      central.controller.ev.encryption_change(C.ERROR_CODE_PIN_OR_KEY_MISSING, central.handle, 0);
      if (was) air.disconnect(C.ERROR_CODE_PIN_OR_KEY_MISSING, C.ERROR_CODE_PIN_OR_KEY_MISSING);
      return;
    }
    if (!equal(ltk, req.ltk)) {
      air.disconnect(
        C.ERROR_CODE_CONNECTION_TERMINATED_DUE_TO_MIC_FAILURE,
        C.ERROR_CODE_CONNECTION_TERMINATED_DUE_TO_MIC_FAILURE,
      );
      return;
    }
    const refresh = air.encryption !== 0;
    air.encryption = 0x01;
    air.ltk = ltk;
    for (const e of [air.central, air.peripheral]) {
      if (refresh) e.controller.ev.encryption_key_refresh_complete(OK, e.handle);
      else e.controller.ev.encryption_change(OK, e.handle, 0x01);
    }
  });
}

/** LE Encrypt: AES-128 (FIPS 197); key and plaintext arrive least significant octet first. */
export function le_encrypt(key_le: Uint8Array, plain_le: Uint8Array): Uint8Array {
  const key = Uint8Array.from(key_le).reverse();
  const plain = Uint8Array.from(plain_le).reverse();
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  const out = new Uint8Array(Buffer.concat([cipher.update(plain), cipher.final()]));
  return out.reverse();
}

// ------------------------------------------------------------------ command handlers

export interface SecurityPeers {
  reply: CommandReply;
}

/** The security commands of one controller; the procedures above run between the two ends of a link. */
export class ControllerSecurity {
  private readonly r: CommandReply;

  constructor(
    private readonly s: ControllerState,
    x: SecurityPeers,
  ) {
    this.r = x.reply;
  }

  static readonly COMMANDS: CommandTable<ControllerSecurity> = [
    [
      K.hci_authentication_requested,
      (x, a, cmd) => {
        const end = x.s.end_of(n(a, 0), 'classic');
        if (!end) return x.r.status(cmd, UNKNOWN_CONN);
        x.r.status(cmd, OK);
        startAuth(end, 'auth');
      },
    ],
    [
      K.hci_set_connection_encryption,
      (x, a, cmd) => {
        const end = x.s.end_of(n(a, 0), 'classic');
        const on = n(a, 1);
        if (!end) return x.r.status(cmd, UNKNOWN_CONN);
        if (on > 1) return x.r.status(cmd, INVALID);
        if (end.air.encryption_pending) return x.r.status(cmd, DISALLOWED);
        x.r.status(cmd, OK);
        if (on === 1 && !end.air.authenticated) return startAuth(end, 'enc');
        encrypt(end, on === 1);
      },
    ],
    [
      K.hci_link_key_request_reply,
      (x, a, cmd) => {
        const t = x.replyTarget(a, cmd, 'link_key');
        if (!t) return;
        const [end, p] = t;
        const key = copy(a[1]!);
        if (end === p.init) initLinkKey(p, key);
        else respLinkKey(p, key);
      },
    ],
    [
      K.hci_link_key_request_negative_reply,
      (x, a, cmd) => {
        const t = x.replyTarget(a, cmd, 'link_key');
        if (!t) return;
        const [end, p] = t;
        if (end === p.init) initLinkKey(p, null);
        else respLinkKey(p, null);
      },
    ],
    [
      K.hci_pin_code_request_reply,
      (x, a, cmd) => {
        const len = n(a, 1);
        if (len < 1 || len > 16) return x.r.fail(cmd, INVALID);
        const t = x.replyTarget(a, cmd, 'pin');
        if (t) pinReply(t[1], t[0], copy(a[2]!).subarray(0, len));
      },
    ],
    [
      K.hci_pin_code_request_negative_reply,
      (x, a, cmd) => {
        const t = x.replyTarget(a, cmd, 'pin');
        if (t) pinReply(t[1], t[0], null);
      },
    ],
    [
      K.hci_io_capability_request_reply,
      (x, a, cmd) => {
        if (n(a, 1) > 3 || n(a, 2) > 1 || n(a, 3) > 5) return x.r.fail(cmd, INVALID);
        const t = x.replyTarget(a, cmd, 'io_cap');
        if (t) ioCapReply(t[1], t[0], n(a, 1), n(a, 2), n(a, 3));
      },
    ],
    [
      K.hci_io_capability_request_negative_reply,
      (x, a, cmd) => {
        const t = x.replyTarget(a, cmd, 'io_cap');
        if (!t) return;
        const [end, p] = t;
        end.awaiting = '';
        const reason = n(a, 1) || C.ERROR_CODE_PAIRING_NOT_ALLOWED;
        end.air.lmp(() => pairingFailed(p, reason, end === p.resp));
      },
    ],
    [
      K.hci_user_confirmation_request_reply,
      (x, a, cmd) => {
        const t = x.replyTarget(a, cmd, 'user_confirm');
        if (t) confirmReply(t[1], t[0], true);
      },
    ],
    [
      K.hci_user_confirmation_request_negative_reply,
      (x, a, cmd) => {
        const t = x.replyTarget(a, cmd, 'user_confirm');
        if (t) confirmReply(t[1], t[0], false);
      },
    ],
    [
      K.hci_user_passkey_request_reply,
      (x, a, cmd) => {
        if (n(a, 1) > 999999) return x.r.fail(cmd, INVALID);
        const t = x.replyTarget(a, cmd, 'passkey');
        if (t) passkeyReply(t[1], t[0], n(a, 1));
      },
    ],
    [
      K.hci_user_passkey_request_negative_reply,
      (x, a, cmd) => {
        const t = x.replyTarget(a, cmd, 'passkey');
        if (t) passkeyReply(t[1], t[0], null);
      },
    ],
    [
      K.hci_read_encryption_key_size,
      (x, a, cmd) => {
        const end = x.s.connections.get(n(a, 0));
        if (!end) return x.r.fail(cmd, UNKNOWN_CONN);
        if (end.air.encryption === 0) return x.r.fail(cmd, DISALLOWED);
        x.r.complete(cmd, OK, end.handle, 16);
      },
    ],
    [K.hci_le_start_encryption, (x, a, cmd) => x.leStartEncryption(a, cmd)],
    [
      K.hci_le_long_term_key_request_reply,
      (x, a, cmd) => {
        const end = x.ltkReplyTarget(a, cmd);
        if (end) leLtk(end.air, copy(a[1]!));
      },
    ],
    [
      K.hci_le_long_term_key_negative_reply,
      (x, a, cmd) => {
        const end = x.ltkReplyTarget(a, cmd);
        if (end) leLtk(end.air, null);
      },
    ],
    [K.hci_le_rand, (x, _a, cmd) => x.r.complete(cmd, OK, new Uint8Array(randomBytes(8)))],
    [K.hci_le_encrypt, (x, a, cmd) => x.r.complete(cmd, OK, le_encrypt(a[0] as Uint8Array, a[1] as Uint8Array))],
  ];

  /** The classic connection to the address of a reply command, and its procedure (answers the command). */
  private replyTarget(a: HciArg[], cmd: HciCommand, what: LinkEnd['awaiting']): [LinkEnd, Proc] | null {
    const addr = a[0] as BdAddr;
    const end = this.s.classic_end(addr);
    if (!end) {
      this.r.complete(cmd, UNKNOWN_CONN, addr);
      return null;
    }
    const p = procOf(end.air);
    if (!p || end.awaiting !== what) {
      this.r.complete(cmd, DISALLOWED, addr);
      return null;
    }
    this.r.complete(cmd, OK, addr);
    return [end, p];
  }

  private leStartEncryption(a: HciArg[], cmd: HciCommand): void {
    const end = this.s.connections.get(n(a, 0));
    if (!end || end.air.kind !== 'le') return this.r.status(cmd, UNKNOWN_CONN);
    if (end.role !== 0 || end.air.sec) return this.r.status(cmd, DISALLOWED);
    this.r.status(cmd, OK);
    const air = end.air;
    const req: LeEnc = { rand: copy(a[1]!), ediv: n(a, 2), ltk: copy(a[3]!) };
    air.sec = req;
    air.lmp(() => {
      const p = end.peer;
      if (p.controller.ev.le_long_term_key_request(p.handle, req.rand, req.ediv)) p.awaiting = 'ltk';
      else leLtk(air, null);
    });
  }

  /** The LE connection of an LTK reply, if it waits for one (answers the command). */
  private ltkReplyTarget(a: HciArg[], cmd: HciCommand): LinkEnd | null {
    const end = this.s.connections.get(n(a, 0));
    if (!end || end.air.kind !== 'le') {
      this.r.fail(cmd, UNKNOWN_CONN);
      return null;
    }
    if (end.awaiting !== 'ltk') {
      this.r.complete(cmd, DISALLOWED, end.handle);
      return null;
    }
    this.r.complete(cmd, OK, end.handle);
    return end;
  }
}
