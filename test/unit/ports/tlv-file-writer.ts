/**
 * Child process of tlv-file-kill.test.ts: opens the key store FILE, keeps ADDRS link keys in it and
 * rewrites them in a tight loop until killed. Generation g stores, address after address, the key
 * tlv_file_writer_key(g, i); it resumes after the highest generation the store holds. Prints
 * "ready G" once the store is open (G: the generation it resumes from).
 *
 *   node --import tsx test/unit/ports/tlv-file-writer.ts FILE
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { btstack_tlv_posix_init_instance } from '../../../ports/posix/tlv-file.js';
import { btstack_link_key_db_tlv_get_instance } from '../../../src/hci/link-key-db-tlv.js';
import { Logger } from '../../../src/core/log.js';

export const WRITER_ADDRS = 8;

export function tlv_file_writer_addr(i: number): Uint8Array {
  return Uint8Array.of(0x00, 0x1b, 0xdc, 0x0f, 0x00, i);
}

/** The key of address i in generation g: g (u32 LE), i, then bytes that depend on both. */
export function tlv_file_writer_key(g: number, i: number): Uint8Array {
  const k = new Uint8Array(16);
  new DataView(k.buffer).setUint32(0, g, true);
  k[4] = i;
  for (let j = 5; j < 16; j++) k[j] = (g * 31 + i * 7 + j) & 0xff;
  return k;
}

// only as the child's main module: the kill test imports this file for its helpers, and a test
// runner's own argv must not start the loop
const file = process.argv[2];
if (file && process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tlv = btstack_tlv_posix_init_instance(file, { log: new Logger() });
  const db = btstack_link_key_db_tlv_get_instance(tlv, { NVM_NUM_LINK_KEYS: WRITER_ADDRS });
  let g = 0;
  for (let i = 0; i < WRITER_ADDRS; i++) {
    const k = db.get_link_key(tlv_file_writer_addr(i));
    if (k) g = Math.max(g, new DataView(k.link_key.buffer).getUint32(0, true));
  }
  process.stdout.write(`ready ${g}\n`);
  for (;;) {
    g++;
    for (let i = 0; i < WRITER_ADDRS; i++) db.put_link_key(tlv_file_writer_addr(i), tlv_file_writer_key(g, i), 0x08);
  }
}
