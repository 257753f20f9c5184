/**
 * The hardware ports through the real `bthost` CLI on a machine without Bluetooth, the optional
 * packages not installed: `bthost list` works, and each failure is one line and a non-zero exit
 * (2 for a malformed --port, 1 for what is missing at run time).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bthost } from './cli-helpers.js';

const oneLine = (s: string): string => {
  const lines = s.trim().split('\n');
  assert.is(lines.length, 1, `one line, got: ${s}`);
  return lines[0]!;
};

test('bthost list: exit 0, a line per controller or "no controllers found"', () => {
  const r = bthost(['list']);
  assert.is(r.status, 0, r.stderr);
  assert.ok(/no controllers found|--port /.test(r.stdout), r.stdout);
  assert.is(bthost(['list', 'extra']).status, 2);
});

test('--port hcix / usb:zz: usage errors, exit 2', () => {
  const a = bthost(['info', '--port', 'hcix']);
  assert.is(a.status, 2);
  assert.is(oneLine(a.stderr), "bthost: --port: an HCI device is hciN or hci:N (e.g. hci0), got 'hcix'");
  const b = bthost(['info', '--port', 'usb:zz']);
  assert.is(b.status, 2);
  assert.match(oneLine(b.stderr), 'a USB port is usb, usb:VID:PID');
});

test('--port hci0 / usb without their optional packages: one line, exit 1', () => {
  const a = bthost(['info', '--port', 'hci0', '--timeout', '2000']);
  assert.is(a.status, 1);
  const line = oneLine(a.stderr);
  assert.ok(/@stoprocent\/bluetooth-hci-socket|no Bluetooth controller hci0|Linux only/.test(line), line);
  const b = bthost(['info', '--port', 'usb', '--timeout', '2000']);
  assert.is(b.status, 1);
  assert.ok(/npm install usb@2|no USB Bluetooth controller/.test(oneLine(b.stderr)), b.stderr);
});

test('--port auto on a machine without controllers: one line, exit 1', () => {
  const r = bthost(['info', '--port', 'auto']);
  const list = bthost(['list']).stdout;
  if (/no controllers found/.test(list)) {
    assert.is(r.status, 1);
    assert.is(oneLine(r.stderr), 'bthost: --port auto: no controller found (bthost list shows what was looked at)');
  } else assert.ok(r.status !== 0 || /--port /.test(list));
});

test.run();
