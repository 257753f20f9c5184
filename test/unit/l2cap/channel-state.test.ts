/** Channel states (FreeBSD ng_l2cap numbering and names) and their BTstack L2CAP_STATE_* counterparts. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v14 from '../../../src/codes/v1.4.js';
import * as v18 from '../../../src/codes/v1.8.js';
import {
  L2CAP_CHANNEL_CLOSED,
  L2CAP_CHANNEL_W4_L2CAP_CON_RSP,
  L2CAP_CHANNEL_W4_L2CA_CON_RSP,
  L2CAP_CHANNEL_CONFIG,
  L2CAP_CHANNEL_OPEN,
  L2CAP_CHANNEL_W4_L2CAP_DISCON_RSP,
  L2CAP_CHANNEL_W4_L2CA_DISCON_RSP,
  L2CAP_CHANNEL_STATE_NAMES,
  l2cap_channel_state_name,
  l2cap_channel_state_from_btstack,
  l2cap_btstack_states_of,
  L2CAP_CFG_LOCAL_REQ_SENT,
  L2CAP_CFG_LOCAL_ACKED,
  L2CAP_CFG_REMOTE_REQ_RECEIVED,
  L2CAP_CFG_REMOTE_RESPONDED,
  L2CAP_CFG_REMOTE_CONTINUATION,
  L2CAP_CFG_LOCAL_CONTINUATION,
  l2cap_config_done,
} from '../../../src/l2cap/channel-state.js';

test('FreeBSD numbering and names', () => {
  assert.equal(
    [
      L2CAP_CHANNEL_CLOSED,
      L2CAP_CHANNEL_W4_L2CAP_CON_RSP,
      L2CAP_CHANNEL_W4_L2CA_CON_RSP,
      L2CAP_CHANNEL_CONFIG,
      L2CAP_CHANNEL_OPEN,
      L2CAP_CHANNEL_W4_L2CAP_DISCON_RSP,
      L2CAP_CHANNEL_W4_L2CA_DISCON_RSP,
    ],
    [0, 1, 2, 3, 4, 5, 6],
  );
  assert.equal(
    [...L2CAP_CHANNEL_STATE_NAMES],
    ['CLOSED', 'W4_L2CAP_CON_RSP', 'W4_L2CA_CON_RSP', 'CONFIG', 'OPEN', 'W4_L2CAP_DISCON_RSP', 'W4_L2CA_DISCON_RSP'],
  );
  assert.is(l2cap_channel_state_name(3), 'CONFIG');
  assert.is(l2cap_channel_state_name(7), 'UNKNOWN');
});

test('every BTstack v1.4.1 L2CAP_STATE_* but INVALID has a counterpart; spot checks', () => {
  const names = Object.keys(v14).filter((k) => k.startsWith('L2CAP_STATE_'));
  assert.ok(names.length >= 25, `${names.length} states in the table`);
  for (const n of names) {
    const value = (v14 as Record<string, unknown>)[n] as number;
    const s = l2cap_channel_state_from_btstack(value);
    if (n === 'L2CAP_STATE_INVALID') assert.is(s, -1);
    else assert.ok(s >= 0, n);
    // values below 0x19 mean the same in the current release
    if (value < 0x19) assert.is((v18 as Record<string, unknown>)[n], value, n);
  }
  assert.is(l2cap_channel_state_from_btstack(v14.L2CAP_STATE_WAIT_CONNECT_RSP), L2CAP_CHANNEL_W4_L2CAP_CON_RSP);
  assert.is(l2cap_channel_state_from_btstack(v14.L2CAP_STATE_WAIT_CLIENT_ACCEPT_OR_REJECT), L2CAP_CHANNEL_W4_L2CA_CON_RSP);
  assert.is(l2cap_channel_state_from_btstack(v14.L2CAP_STATE_CONFIG), L2CAP_CHANNEL_CONFIG);
  assert.is(l2cap_channel_state_from_btstack(v14.L2CAP_STATE_OPEN), L2CAP_CHANNEL_OPEN);
  assert.is(l2cap_channel_state_from_btstack(v14.L2CAP_STATE_WAIT_DISCONNECT), L2CAP_CHANNEL_W4_L2CAP_DISCON_RSP);
  assert.is(l2cap_channel_state_from_btstack(v14.L2CAP_STATE_WILL_SEND_DISCONNECT_RESPONSE), L2CAP_CHANNEL_W4_L2CA_DISCON_RSP);
  assert.is(l2cap_channel_state_from_btstack(v14.L2CAP_STATE_CLOSED), L2CAP_CHANNEL_CLOSED);
  assert.is(l2cap_channel_state_from_btstack(0), -1);
  assert.equal(l2cap_btstack_states_of(L2CAP_CHANNEL_OPEN), [v14.L2CAP_STATE_OPEN]);
  assert.equal(l2cap_btstack_states_of(L2CAP_CHANNEL_CONFIG), [v14.L2CAP_STATE_CONFIG]);
});

test('configuration completes when both directions are done', () => {
  const flags = [
    L2CAP_CFG_LOCAL_REQ_SENT,
    L2CAP_CFG_LOCAL_ACKED,
    L2CAP_CFG_REMOTE_REQ_RECEIVED,
    L2CAP_CFG_REMOTE_RESPONDED,
    L2CAP_CFG_REMOTE_CONTINUATION,
    L2CAP_CFG_LOCAL_CONTINUATION,
  ];
  assert.is(new Set(flags).size, flags.length, 'distinct bits');
  for (const f of flags) assert.is(f & (f - 1), 0, 'single bit');
  let s = L2CAP_CFG_LOCAL_REQ_SENT | L2CAP_CFG_REMOTE_REQ_RECEIVED;
  assert.not.ok(l2cap_config_done(s));
  s |= L2CAP_CFG_LOCAL_ACKED;
  assert.not.ok(l2cap_config_done(s));
  s |= L2CAP_CFG_REMOTE_RESPONDED;
  assert.ok(l2cap_config_done(s));
  assert.not.ok(l2cap_config_done(L2CAP_CFG_REMOTE_RESPONDED));
});

test.run();
