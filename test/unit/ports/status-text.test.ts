/**
 * status_text (ports/status-text.ts), shared by the CLI and the examples: every status in words
 * with its value. The words of a code outside the short table come from the generated
 * ERROR_CODE_* constant (compared here with the constant's own name), never from a typed table.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as C from '../../../src/codes/v1.4.js';
import { status_text } from '../../../ports/status-text.js';
import { status_text as cli_status_text } from '../../../ports/cli/format.js';

test('codes of the table and of the generated names, with the value in hex', () => {
  assert.is(status_text(C.ERROR_CODE_PAGE_TIMEOUT), 'page timeout (0x04)');
  assert.is(status_text(C.ERROR_CODE_CONNECTION_ACCEPT_TIMEOUT_EXCEEDED), 'Connection Accept Timeout Exceeded (0x10)');
  assert.is(status_text(C.L2CAP_CONNECTION_RESPONSE_RESULT_REFUSED_SECURITY), 'L2CAP: security block (0x66)');
  assert.is(status_text(0xfe), 'unknown status (0xfe)');
});

test('every ERROR_CODE_* value has words (its constant name unless the table has it), never "unknown status"', () => {
  for (const [name, value] of Object.entries(C)) {
    if (!name.startsWith('ERROR_CODE_') || typeof value !== 'number') continue;
    const text = status_text(value);
    assert.ok(text.endsWith(` (0x${value.toString(16).padStart(2, '0')})`), text);
    assert.not.match(text, /^unknown status/, name);
  }
});

test('the CLI uses the same function', () => {
  assert.is(cli_status_text, status_text);
});

test.run();
