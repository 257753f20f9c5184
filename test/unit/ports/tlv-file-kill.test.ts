/**
 * Issue 13: "kill -9 during a key write leaves a readable store". A child process
 * (tlv-file-writer.ts, spawned with node --import tsx) rewrites 8 link keys in a tight loop, one
 * file write per put_link_key; it is killed with SIGKILL at a random moment, a dozen times, each
 * time resuming from the store the previous one left. After each kill the store opens without a
 * damage report (at most the line about the removed temp file), no temp file remains, and it holds
 * exactly the state after some whole number of puts: addresses 0..j-1 at generation G, the rest at
 * G - 1 (the previous or the new key of the one being written, never a torn one).
 * Real time and real processes by nature; about 1-2 s per round.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '../../../src/core/log.js';
import { btstack_link_key_db_tlv_get_instance } from '../../../src/hci/link-key-db-tlv.js';
import { btstack_tlv_posix_init_instance } from '../../../ports/posix/tlv-file.js';
import { WRITER_ADDRS, tlv_file_writer_addr, tlv_file_writer_key } from './tlv-file-writer.js';

const WRITER = path.join(import.meta.dirname, 'tlv-file-writer.ts');
const ROUNDS = 12;

/** Run the writer on `file` until a random moment after it is ready, then SIGKILL it. Returns the generation it resumed from. */
function run_and_kill(file: string, delay_ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let from = -1;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)\n/.exec(out);
      if (m && from < 0) {
        from = Number(m[1]);
        // eslint-disable-next-line no-restricted-globals -- a real process needs real time
        setTimeout(() => child.kill('SIGKILL'), delay_ms);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && from >= 0) resolve(from);
      else reject(new Error(`writer exited (code ${code}, signal ${signal}) before the kill: ${err}`));
    });
  });
}

test('SIGKILL during key writes, 12 times: the store always opens whole, with the previous or the new key', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bthost-kill-'));
  const file = path.join(dir, 'bthost_00-1B-DC-0F-00-00.tlv');
  let seed = 0x9e3779b9;
  const rnd = (k: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % k;
  let last = 0;
  let temp_files = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const from = await run_and_kill(file, 20 + rnd(250));
      assert.ok(from >= last, `round ${round}: resumed from generation ${from}, the store held ${last}`);
      if (fs.existsSync(`${file}.tmp`)) temp_files++;
      const lines: string[] = [];
      const log = new Logger();
      log.add_sink((_l, m) => lines.push(m));
      const db = btstack_link_key_db_tlv_get_instance(btstack_tlv_posix_init_instance(file, { log }), {
        NVM_NUM_LINK_KEYS: WRITER_ADDRS,
      });
      for (const l of lines)
        assert.match(l, /removed bthost_00-1B-DC-0F-00-00\.tlv\.tmp left by an interrupted write$/, `round ${round}`);
      assert.not.ok(fs.existsSync(`${file}.tmp`), 'no temp file after open');
      const gens: number[] = [];
      for (let i = 0; i < WRITER_ADDRS; i++) {
        const k = db.get_link_key(tlv_file_writer_addr(i));
        if (!k) {
          gens.push(0);
          continue;
        }
        const g = new DataView(k.link_key.buffer).getUint32(0, true);
        assert.equal(k, { link_key: tlv_file_writer_key(g, i), type: 0x08 }, `round ${round}: address ${i}`);
        gens.push(g);
      }
      // 0..j-1 at G, j..7 at G - 1 (j = 8: a whole generation)
      const G = gens[0]!;
      const j = gens.findIndex((g) => g !== G);
      if (j >= 0) for (let i = j; i < WRITER_ADDRS; i++) assert.is(gens[i], G - 1, `round ${round}: generations ${gens}`);
      assert.ok(G >= from, `round ${round}: generation ${G} before the resumed ${from}`);
      last = G;
    }
    assert.ok(last > 0, 'the writers wrote');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // how often a kill landed inside a write (temp file present) depends on the machine; not asserted
  if (process.env.TLV_KILL_STATS) console.log(`kills inside a write: ${temp_files} of ${ROUNDS}; last generation ${last}`);
});

test.run();
