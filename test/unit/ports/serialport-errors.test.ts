import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describe_open_error } from '../../../ports/serialport/errors.js';

// Messages exactly as @serialport/bindings-cpp produces them on Linux.
test('no such port', () => {
  const d = describe_open_error('/dev/ttyUSB9', new Error('Error: No such file or directory, cannot open /dev/ttyUSB9'));
  assert.is(d.kind, 'not-found');
  assert.match(d.message, 'serial port /dev/ttyUSB9 not found');
});

test('port busy / locked', () => {
  for (const m of [
    'Error Resource temporarily unavailable Cannot lock port',
    'Error: Device or resource busy, cannot open /dev/ttyACM0',
  ]) {
    const d = describe_open_error('/dev/ttyACM0', new Error(m));
    assert.is(d.kind, 'busy', m);
    assert.match(d.message, 'serial port /dev/ttyACM0 is busy');
  }
});

test('permission denied mentions the dialout group', () => {
  const d = describe_open_error('/dev/ttyACM0', new Error('Error: Permission denied, cannot open /dev/ttyACM0'));
  assert.is(d.kind, 'permission');
  assert.match(d.message, /permission denied opening serial port \/dev\/ttyACM0/);
  assert.match(d.message, "'dialout' group");
  assert.match(d.message, 'usermod -aG dialout');
});

test('not a serial port; anything else keeps the original text', () => {
  const d = describe_open_error(
    '/tmp/file',
    new Error('Error: Inappropriate ioctl for device setting custom baud rate of 115200'),
  );
  assert.is(d.kind, 'not-a-tty');
  assert.match(d.message, '/tmp/file is not a serial port (Inappropriate ioctl');
  const o = describe_open_error('/dev/x', new Error('Error: Input/output error, cannot open /dev/x'));
  assert.is(o.kind, 'other');
  assert.is(o.message, 'cannot open serial port /dev/x: Input/output error, cannot open /dev/x');
  assert.is(describe_open_error('/dev/x', 'weird').kind, 'other');
});

test.run();
