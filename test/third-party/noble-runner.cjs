#!/usr/bin/env node
/*
 * noble (@stoprocent/noble, HCI bindings, UART driver of @stoprocent/bluetooth-hci-socket) on a
 * serial port, driven over stdin/stdout with JSON lines, for test/e2e/third-party-noble.test.ts and
 * for trying by hand:
 *
 *   node test/third-party/noble-runner.cjs /tmp/ttyV0 [baud]
 *
 * Prints one JSON object a line:
 *   {"ev":"state","state":"poweredOn"}                        adapter state changes
 *   {"ev":"address","address":"..."}                          the controller's BD_ADDR as noble read it
 *   {"ev":"scanStart"} / {"ev":"scanStop"}
 *   {"ev":"discover","address","addressType","connectable","localName","rssi","manufacturerData"}
 *   {"ev":"connect","address","error"} / {"ev":"disconnect","address","reason"}
 *   {"ev":"error","message"}
 * Reads commands, one JSON object a line:
 *   {"cmd":"scan"} {"cmd":"stopScan"} {"cmd":"connect","address":"aa:bb:.."} {"cmd":"disconnect","address":".."}
 *   {"cmd":"discoverAll","address"}     -> {"ev":"services","address","error","services":[{"uuid","characteristics":[{"uuid","properties"}]}]}
 *   {"cmd":"read","address","service","characteristic"}            -> {"ev":"read","characteristic","error","value"} (hex)
 *   {"cmd":"write","address","service","characteristic","value","withoutResponse"} -> {"ev":"write","characteristic","error"}
 *   {"cmd":"subscribe","address","service","characteristic"}       -> {"ev":"subscribed","characteristic","error"},
 *                                         then {"ev":"data","characteristic","value","isNotification"} per value
 *   {"cmd":"unsubscribe","address","service","characteristic"}     -> {"ev":"unsubscribed","characteristic","error"}
 *   {"cmd":"exit"}
 * UUIDs as noble writes them: lower case, no dashes, 16-bit ones as 4 digits ("ff10").
 * Every discovered address is printed once (the first report that carries a local name, or the first
 * report when none does within the run).
 */
'use strict';

const path = require('node:path');
const readline = require('node:readline');

const port = process.argv[2];
const baudRate = Number(process.argv[3] || 115200);
if (!port) {
  process.stderr.write('usage: noble-runner.cjs SERIAL_PORT [BAUD]\n');
  process.exit(2);
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let noble;
try {
  const { withBindings } = require(path.join(__dirname, 'node_modules', '@stoprocent', 'noble'));
  noble = withBindings('hci', { hciDriver: 'uart', bindParams: { uart: { port, baudRate } } });
} catch (e) {
  emit({ ev: 'error', message: `loading noble failed: ${e && e.message}` });
  process.exit(3);
}

const peripherals = new Map();
const named = new Set();

noble.on('stateChange', (state) => {
  emit({ ev: 'state', state });
  if (state === 'poweredOn') emit({ ev: 'address', address: noble.address });
});
noble.on('scanStart', () => emit({ ev: 'scanStart' }));
noble.on('scanStop', () => emit({ ev: 'scanStop' }));
noble.on('warning', (message) => emit({ ev: 'warning', message: String(message) }));
noble.on('discover', (p) => {
  const first = !peripherals.has(p.address);
  peripherals.set(p.address, p);
  const localName = p.advertisement && p.advertisement.localName;
  if (!first && (!localName || named.has(p.address))) return;
  if (localName) named.add(p.address);
  if (first) {
    p.on('connect', (error) => emit({ ev: 'connect', address: p.address, error: error ? String(error.message || error) : null }));
    p.on('disconnect', (reason) => emit({ ev: 'disconnect', address: p.address, reason }));
  }
  emit({
    ev: 'discover',
    address: p.address,
    addressType: p.addressType,
    connectable: p.connectable,
    localName: localName || null,
    rssi: p.rssi,
    manufacturerData:
      p.advertisement && p.advertisement.manufacturerData ? p.advertisement.manufacturerData.toString('hex') : null,
  });
});

/** A characteristic noble discovered (discoverAll first). */
function characteristic(cmd) {
  const p = peripherals.get(cmd.address);
  if (!p) throw new Error(`${cmd.address} was not discovered`);
  const s = (p.services || []).find((x) => x.uuid === cmd.service);
  if (!s) throw new Error(`service ${cmd.service} not discovered on ${cmd.address}`);
  const c = (s.characteristics || []).find((x) => x.uuid === cmd.characteristic);
  if (!c) throw new Error(`characteristic ${cmd.characteristic} not discovered in ${cmd.service}`);
  return c;
}

function run(cmd) {
  switch (cmd.cmd) {
    case 'scan':
      noble.startScanning([], true, (err) => err && emit({ ev: 'error', message: `startScanning: ${err.message}` }));
      break;
    case 'stopScan':
      noble.stopScanning();
      break;
    case 'connect': {
      const p = peripherals.get(cmd.address);
      if (!p) return emit({ ev: 'error', message: `connect: ${cmd.address} was not discovered` });
      p.connect((err) => err && emit({ ev: 'error', message: `connect: ${err.message || err}` }));
      break;
    }
    case 'disconnect': {
      const p = peripherals.get(cmd.address);
      if (!p) return emit({ ev: 'error', message: `disconnect: ${cmd.address} was not discovered` });
      p.disconnect();
      break;
    }
    case 'discoverAll': {
      const p = peripherals.get(cmd.address);
      if (!p) return emit({ ev: 'error', message: `discoverAll: ${cmd.address} was not discovered` });
      p.discoverAllServicesAndCharacteristics((err, services) => {
        emit({
          ev: 'services',
          address: p.address,
          error: err ? String(err.message || err) : null,
          services: (services || []).map((s) => ({
            uuid: s.uuid,
            characteristics: (s.characteristics || []).map((c) => ({ uuid: c.uuid, properties: c.properties })),
          })),
        });
      });
      break;
    }
    case 'read':
      characteristic(cmd).read((err, data) =>
        emit({
          ev: 'read',
          characteristic: cmd.characteristic,
          error: err ? String(err.message || err) : null,
          value: data ? data.toString('hex') : null,
        }),
      );
      break;
    case 'write':
      characteristic(cmd).write(Buffer.from(cmd.value, 'hex'), !!cmd.withoutResponse, (err) =>
        emit({ ev: 'write', characteristic: cmd.characteristic, error: err ? String(err.message || err) : null }),
      );
      break;
    case 'subscribe': {
      const c = characteristic(cmd);
      c.on('data', (data, isNotification) =>
        emit({ ev: 'data', characteristic: cmd.characteristic, value: data.toString('hex'), isNotification }),
      );
      c.subscribe((err) =>
        emit({ ev: 'subscribed', characteristic: cmd.characteristic, error: err ? String(err.message || err) : null }),
      );
      break;
    }
    case 'unsubscribe':
      characteristic(cmd).unsubscribe((err) =>
        emit({ ev: 'unsubscribed', characteristic: cmd.characteristic, error: err ? String(err.message || err) : null }),
      );
      break;
    case 'exit':
      emit({ ev: 'exit' });
      process.exit(0);
      break;
    default:
      emit({ ev: 'error', message: `unknown command ${JSON.stringify(cmd)}` });
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    return emit({ ev: 'error', message: `not JSON: ${line}` });
  }
  try {
    run(cmd);
  } catch (e) {
    emit({ ev: 'error', message: `${cmd.cmd}: ${e && e.message}` });
  }
});
process.stdin.on('end', () => process.exit(0));
process.on('uncaughtException', (e) => {
  emit({ ev: 'error', message: `uncaught: ${e && e.stack}` });
  process.exit(4);
});
