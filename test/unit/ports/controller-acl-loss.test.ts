/** `bthost controller --acl-loss DROP[:CORRUPT[:SEED]]`: percentages parsed into the RadioLink's acl_loss option. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONTROLLER_USAGE, parse_acl_loss } from '../../../ports/virtual/cli.js';

test('--acl-loss values', () => {
  assert.equal(parse_acl_loss('5'), { drop: 0.05, corrupt: 0, seed: 1 });
  assert.equal(parse_acl_loss('1:1:42'), { drop: 0.01, corrupt: 0.01, seed: 42 });
  assert.equal(parse_acl_loss('0:2.5'), { drop: 0, corrupt: 0.025, seed: 1 });
  for (const bad of ['', 'x', '-1', '101', '60:50', '1:1:-3', '1:1:1:1', '1:1:1.5'])
    assert.ok('problem' in parse_acl_loss(bad), bad);
  assert.match(CONTROLLER_USAGE, '--acl-loss DROP[:CORRUPT[:SEED]]');
});

test.run();
