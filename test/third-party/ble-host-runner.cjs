#!/usr/bin/env node
/*
 * ble-host (Emil Lenngren's pure JavaScript LE host, npm "ble-host") on an H4 byte stream from a
 * Unix socket (`bthost controller --listen unix:PATH`, or the wiretap of test/third-party/h4-tap.ts),
 * driven over stdin/stdout with JSON lines, for test/e2e/third-party-ble-host.test.ts and for trying
 * by hand:
 *
 *   node test/third-party/ble-host-runner.cjs /tmp/radio.sock
 *
 * Run it with a scratch working directory: ble-host keeps its bonds and GATT caches in
 * ./NodeBleLib-storage-dir (per own address, then per peer): a runner started again in the same
 * directory, on a controller with the same address, still has its bonds.
 *
 * Prints one JSON object a line:
 *   {"ev":"ready"}                                          BleManager.create succeeded
 *   {"ev":"error","message"}                               anything that failed
 *   peripheral: {"ev":"advertising","start","end"} (the service's handle range) {"ev":"connect","peerAddress","peerAddressType","ownAddress","hasLtk"}
 *     {"ev":"written","uuid","value"} (hex) {"ev":"subscription","uuid","notification","indication"}
 *     {"ev":"notified","uuid","sent"} {"ev":"mtu","mtu"} {"ev":"pairingRequest","ioCap","mitm","sc"} (serve with ioCap)
 *   central: {"ev":"connect",...} {"ev":"mtu","mtu"} {"ev":"services","services":[{uuid,start,end,
 *     characteristics:[{uuid,properties,declarationHandle,valueHandle}]}]} {"ev":"read","uuid","err","value"}
 *     {"ev":"write","uuid","err"} {"ev":"cccd","uuid","err"} {"ev":"change","uuid","value","indication"}
 *   both: {"ev":"disconnect","reason"} {"ev":"pairingFailed","reason","remote"} {"ev":"pairingComplete"}
 *     {"ev":"smpTimeout"} {"ev":"encrypt","status"}
 * Reads commands, one JSON object a line:
 *   {"cmd":"serve","name":"ble-host-3p"}      GATT service SERVICE_UUID: CHAR_RW (read/write),
 *                                             CHAR_NOTIFY (read/notify); advertise Flags + name + UUID
 *     [,"protected":true]                     also CHAR_ENC (readPerm 'encrypted', value 'ble-host encrypted')
 *                                             and CHAR_MITM_SC ('encrypted-mitm-sc', 'ble-host mitm sc')
 *     [,"ioCap":N,"mitm":true,"passkey":P]    answer a Pairing Request with these features (default:
 *                                             ble-host's, Just Works); P typed / "yes" to a comparison
 *   {"cmd":"notify","uuid","value"}           notify the connected client (value hex)
 *   {"cmd":"connect","address","addressType"} as a central
 *   {"cmd":"mtu"} {"cmd":"discover"} {"cmd":"read","uuid"} {"cmd":"write","uuid","value"}
 *   {"cmd":"subscribe","uuid"} {"cmd":"pair"[,"ioCap":N,"mitm":true,"passkey":"123456"]} {"cmd":"disconnect"} {"cmd":"exit"}
 *   {"cmd":"startEncryption"}                 central with a bond: encrypt with the stored LTK (smp.startEncryption)
 *   (pair with a passkey: ble-host emits {"ev":"passkeyExchange","associationModel","passkey"} and types it)
 */
'use strict';

const EventEmitter = require('node:events');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');

const SERVICE_UUID = 'B7E50001-3F2A-4C6B-9D10-5A1E2B3C4D5E';
const CHAR_RW = 'B7E50002-3F2A-4C6B-9D10-5A1E2B3C4D5E';
const CHAR_NOTIFY = 'B7E50003-3F2A-4C6B-9D10-5A1E2B3C4D5E';
/** with serve's "protected": readable on an encrypted link only (ble-host's readPerm 'encrypted') */
const CHAR_ENC = 'B7E50004-3F2A-4C6B-9D10-5A1E2B3C4D5E';
/** with serve's "protected": readable with an authenticated SC key only ('encrypted-mitm-sc') */
const CHAR_MITM_SC = 'B7E50005-3F2A-4C6B-9D10-5A1E2B3C4D5E';

const sockPath = process.argv[2];
if (!sockPath) {
  process.stderr.write('usage: ble-host-runner.cjs UNIX_SOCKET\n');
  process.exit(2);
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let NodeBleHost;
try {
  NodeBleHost = require(path.join(__dirname, 'node_modules', 'ble-host'));
} catch (e) {
  emit({ ev: 'error', message: `loading ble-host failed: ${e && e.message}` });
  process.exit(3);
}
const { BleManager, AdvertisingDataBuilder, AttErrors } = NodeBleHost;

/**
 * ble-host's transport contract: an EventEmitter with write(Buffer) taking one H4 packet
 * (indicator octet first) and a 'data' event with one whole H4 packet each. A byte stream is cut
 * into packets by the header's length field (Vol 4 Part A 2; Part E 5.4).
 */
class H4SocketTransport extends EventEmitter {
  constructor(socket) {
    super();
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    socket.on('data', (chunk) => this.feed(chunk));
    socket.on('close', () => this.emit('close'));
    socket.on('error', (e) => emit({ ev: 'error', message: `socket: ${e.message}` }));
  }
  write(packet) {
    this.socket.write(packet);
  }
  feed(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.buf.length < 1) return;
      const type = this.buf[0];
      let header;
      let len;
      if (type === 0x04) {
        header = 3;
        if (this.buf.length < header) return;
        len = this.buf[2];
      } else if (type === 0x02) {
        header = 5;
        if (this.buf.length < header) return;
        len = this.buf.readUInt16LE(3);
      } else if (type === 0x03) {
        header = 4;
        if (this.buf.length < header) return;
        len = this.buf[3];
      } else {
        emit({ ev: 'error', message: `H4: unknown packet indicator 0x${type.toString(16)}` });
        this.socket.destroy();
        return;
      }
      if (this.buf.length < header + len) return;
      const packet = Buffer.from(this.buf.subarray(0, header + len));
      this.buf = this.buf.subarray(header + len);
      this.emit('data', packet);
    }
  }
}

let manager = null;
let conn = null;
/** the passkey ble-host types when asked (Passkey Entry), from the 'pair' command */
let typePasskey = null;
/** central: characteristics by upper-case UUID after discover */
const chars = new Map();
/** peripheral: the GATT server characteristics by UUID */
const served = new Map();
let servedService = null;

function watch(c) {
  conn = c;
  emit({
    ev: 'connect',
    peerAddress: c.peerAddress,
    peerAddressType: c.peerAddressType,
    ownAddress: c.ownAddress,
    hasLtk: c.smp.hasLtk,
  });
  c.on('disconnect', (reason) => {
    emit({ ev: 'disconnect', reason });
    if (conn === c) conn = null;
  });
  c.smp.on('pairingFailed', (reason, remote) => emit({ ev: 'pairingFailed', reason, remote }));
  c.smp.on('pairingComplete', () => emit({ ev: 'pairingComplete' }));
  c.smp.on('encrypt', (status) => emit({ ev: 'encrypt', status }));
  // Passkey Entry: report what ble-host shows / asks; answer with the passkey given to 'pair'
  c.smp.on('passkeyExchange', (associationModel, passkey, answer) => {
    emit({ ev: 'passkeyExchange', associationModel, passkey });
    if (typePasskey !== null) answer(typePasskey);
  });
  // with a listener, an SMP timeout does not drop the link (ble-host's rule); report it instead
  c.smp.on('timeout', () => emit({ ev: 'smpTimeout' }));
  c.gatt.on('timeout', () => emit({ ev: 'gattTimeout' }));
}

function serve(cmd) {
  manager.gattDb.setDeviceName(cmd.name);
  const notifyChar = {
    uuid: CHAR_NOTIFY,
    properties: ['read', 'notify'],
    value: Buffer.from('n0'),
    onSubscriptionChange(connection, notification, indication, isWrite) {
      emit({ ev: 'subscription', uuid: CHAR_NOTIFY, notification, indication, isWrite });
    },
  };
  const rwChar = {
    uuid: CHAR_RW,
    properties: ['read', 'write'],
    value: Buffer.from(cmd.value || 'ble-host value'),
    onWrite(connection, needsResponse, value, callback) {
      rwChar.value = value;
      emit({ ev: 'written', uuid: CHAR_RW, value: value.toString('hex'), needsResponse });
      callback(AttErrors.SUCCESS);
    },
  };
  served.set(CHAR_NOTIFY, notifyChar);
  served.set(CHAR_RW, rwChar);
  const characteristics = [rwChar, notifyChar];
  if (cmd.protected) {
    const enc = { uuid: CHAR_ENC, properties: ['read'], readPerm: 'encrypted', value: Buffer.from('ble-host encrypted') };
    const mitm = {
      uuid: CHAR_MITM_SC,
      properties: ['read'],
      readPerm: 'encrypted-mitm-sc',
      value: Buffer.from('ble-host mitm sc'),
    };
    served.set(CHAR_ENC, enc);
    served.set(CHAR_MITM_SC, mitm);
    characteristics.push(enc, mitm);
  }
  if (cmd.ioCap !== undefined) typePasskey = cmd.passkey ?? null;
  const service = { uuid: SERVICE_UUID, characteristics };
  servedService = service;
  manager.gattDb.addServices([service]);
  const adv = new AdvertisingDataBuilder()
    .addFlags(['leGeneralDiscoverableMode', 'brEdrNotSupported'])
    .addLocalName(true, cmd.name)
    .build();
  manager.setAdvertisingData(adv, (status) => {
    if (status) return emit({ ev: 'error', message: `setAdvertisingData: status ${status}` });
    manager.startAdvertising({ intervalMin: 0x30, intervalMax: 0x30 }, (status2, c) => {
      if (status2) return emit({ ev: 'error', message: `startAdvertising: status ${status2}` });
      watch(c);
      if (cmd.ioCap !== undefined) {
        c.smp.on('pairingRequest', (req, answer) => {
          emit({ ev: 'pairingRequest', ioCap: req.ioCap, mitm: req.mitm, sc: req.sc });
          answer({ ioCap: cmd.ioCap, mitm: cmd.mitm === true, bondingFlags: 1 });
        });
      }
    });
    emit({ ev: 'advertising', start: servedService.startHandle, end: servedService.endHandle });
  });
}

function discover() {
  conn.gatt.discoverAllPrimaryServices((services) => {
    const out = [];
    let left = services.length;
    if (!left) emit({ ev: 'services', services: out });
    services.forEach((s, i) => {
      out[i] = { uuid: s.uuid, start: s.startHandle, end: s.endHandle, characteristics: [] };
      s.discoverCharacteristics((list) => {
        for (const c of list) {
          chars.set(c.uuid.toUpperCase(), c);
          const properties = Object.keys(c.properties).filter((k) => c.properties[k]);
          out[i].characteristics.push({
            uuid: c.uuid,
            properties,
            declarationHandle: c.declarationHandle,
            valueHandle: c.valueHandle,
          });
        }
        if (--left === 0) emit({ ev: 'services', services: out });
      });
    });
  });
}

function char(uuid) {
  const c = chars.get(String(uuid).toUpperCase());
  if (!c) throw new Error(`characteristic ${uuid} not discovered`);
  return c;
}

/** commands that arrived before BleManager.create finished */
const early = [];

function run(cmd) {
  if (!manager && cmd.cmd !== 'exit') return early.push(cmd);
  switch (cmd.cmd) {
    case 'serve':
      return serve(cmd);
    case 'notify': {
      const c = served.get(cmd.uuid);
      const sent = c.notify(conn, Buffer.from(cmd.value, 'hex'));
      return emit({ ev: 'notified', uuid: cmd.uuid, sent });
    }
    case 'connect':
      manager.connect(cmd.addressType || 'public', cmd.address, {}, (c) => watch(c));
      return;
    case 'mtu':
      return conn.gatt.exchangeMtu((err) => emit({ ev: 'mtu', err, mtu: conn && conn.gatt.currentMtu }));
    case 'discover':
      return discover();
    case 'read':
      return char(cmd.uuid).read((err, value) =>
        emit({ ev: 'read', uuid: cmd.uuid, err, value: value ? value.toString('hex') : null }),
      );
    case 'write':
      return char(cmd.uuid).write(Buffer.from(cmd.value, 'hex'), (err) => emit({ ev: 'write', uuid: cmd.uuid, err }));
    case 'subscribe': {
      const c = char(cmd.uuid);
      c.on('change', (value, indication, confirm) => {
        emit({ ev: 'change', uuid: cmd.uuid, value: value.toString('hex'), indication });
        if (indication) confirm();
      });
      return c.writeCCCD(true, false, (err) => emit({ ev: 'cccd', uuid: cmd.uuid, err }));
    }
    case 'pair':
      // default: Just Works, bonding, as ble-host's defaults would answer a peer's request;
      // {"ioCap":2,"mitm":true,"passkey":"123456"}: Passkey Entry typing that passkey
      typePasskey = cmd.passkey ?? null;
      return conn.smp.sendPairingRequest({ bondingFlags: 1, ioCap: cmd.ioCap, mitm: cmd.mitm === true });
    case 'startEncryption':
      return conn.smp.startEncryption();
    case 'disconnect':
      return conn.disconnect();
    case 'exit':
      emit({ ev: 'exit' });
      return process.exit(0);
    default:
      emit({ ev: 'error', message: `unknown command ${JSON.stringify(cmd)}` });
  }
}

const socket = net.connect(sockPath, () => {
  const transport = new H4SocketTransport(socket);
  BleManager.create(transport, {}, (err, m) => {
    if (err) {
      emit({ ev: 'error', message: `BleManager.create: ${err.message || err}` });
      return process.exit(5);
    }
    manager = m;
    emit({ ev: 'ready' });
    for (const cmd of early.splice(0)) runSafe(cmd);
  });
});
socket.on('error', (e) => {
  emit({ ev: 'error', message: `connect ${sockPath}: ${e.message}` });
  process.exit(6);
});

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    return emit({ ev: 'error', message: `not JSON: ${line}` });
  }
  runSafe(cmd);
});

function runSafe(cmd) {
  try {
    run(cmd);
  } catch (e) {
    emit({ ev: 'error', message: `${cmd.cmd}: ${e && e.message}` });
  }
}
process.stdin.on('end', () => process.exit(0));
process.on('uncaughtException', (e) => {
  emit({ ev: 'error', message: `uncaught: ${e && e.stack}` });
  process.exit(4);
});
