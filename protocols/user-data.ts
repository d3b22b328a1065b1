/**
 * Nova's `user_data`: base64 text of at most 65535 characters, stored and shown as the caller sent
 * it. Nova checks it with Python's `base64.b64decode` (oslo `decode_as_bytes`), which is lenient, so
 * the same reading is done here: the API accepts exactly what Nova accepts, and the conductor hands
 * hosts the canonical encoding of the same bytes. Pure: no I/O.
 */

/** Nova's schema `maxLength` for `user_data` (create, rebuild). */
export const MAX_USER_DATA_LENGTH = 65_535;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The bytes `text` decodes to, or undefined where Python's non-strict `b64decode` raises: characters
 * outside the alphabet are skipped, a `=` that completes a quantum ends the data (the rest is
 * ignored), other `=` are skipped, and data that ends inside a quantum is an error. Non-ASCII text
 * is refused: Python raises a ValueError on it, which Nova's check does not catch (a 500 there, a 400 here).
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  // Python encodes the whole text to ASCII before decoding any of it.
  if (NON_ASCII.test(text)) return undefined;
  const out = new Uint8Array(Math.ceil((text.length * 3) / 4));
  let n = 0;
  let quad = 0;
  let left = 0;
  let pads = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === PAD) {
      if (quad >= 2 && quad + ++pads >= 4) return out.subarray(0, n);
      continue;
    }
    const v = VALUE[c]!;
    if (v < 0) continue;
    pads = 0;
    if (quad === 0) left = v;
    else if (quad === 1) { out[n++] = (left << 2) | (v >> 4); left = v & 0x0f; }
    else if (quad === 2) { out[n++] = ((left << 4) | (v >> 2)) & 0xff; left = v & 0x03; }
    else out[n++] = ((left << 6) | v) & 0xff;
    quad = (quad + 1) % 4;
  }
  return quad === 0 ? out.subarray(0, n) : undefined;
}
