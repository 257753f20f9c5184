/**
 * AES-CMAC (RFC 4493) over node:crypto's AES-128 block cipher. Used for the GATT Database Hash
 * (Core Vol 3 Part G 7.3: AES-CMAC with a zero key over the hashed attributes).
 */
import { createCipheriv } from 'node:crypto';

function shift_left_xor(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = ((src[i]! << 1) | (i < 15 ? src[i + 1]! >> 7 : 0)) & 0xff;
  if (src[0]! & 0x80) out[15]! ^= 0x87;
  return out;
}

/** AES-CMAC of `message` under the 16-byte `key`; the 16-byte tag, most significant byte first. */
export function aes_cmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  const enc = (block: Uint8Array): Uint8Array => new Uint8Array(cipher.update(block));
  const k1 = shift_left_xor(enc(new Uint8Array(16)));
  const k2 = shift_left_xor(k1);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  let x: Uint8Array = new Uint8Array(16);
  const block = new Uint8Array(16);
  for (let b = 0; b < n; b++) {
    const start = b * 16;
    const last = b === n - 1;
    block.fill(0);
    const chunk = message.subarray(start, Math.min(start + 16, message.length));
    block.set(chunk);
    if (last) {
      if (!complete) block[chunk.length] = 0x80;
      const k = complete ? k1 : k2;
      for (let i = 0; i < 16; i++) block[i]! ^= k[i]!;
    }
    for (let i = 0; i < 16; i++) block[i]! ^= x[i]!;
    x = enc(block);
  }
  cipher.final();
  return x;
}
