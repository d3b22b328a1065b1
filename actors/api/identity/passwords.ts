/**
 * Password hashing with scrypt (a memory-hard KDF from node:crypto). The stored form names its
 * parameters, `scrypt$N$r$p$<salt>$<key>` (base64), so the cost can be raised without breaking
 * existing hashes: new hashes use OWASP's N=2^17, r=8, p=1; older ones (N=2^14) still verify.
 * Verification compares in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP's recommendation for scrypt (128 MiB, ~0.5 s here). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Parameters read from a stored hash are bounded, so a bad row cannot ask for gigabytes. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

/** scrypt needs 128·N·r bytes; Node refuses anything above maxmem (32 MiB by default, too little for 2^17). */
const maxmemFor = (o: ScryptParams) => 128 * o.N * o.r + 1024 * 1024;

export function validScryptParams(o: ScryptParams): boolean {
  const { N, r, p } = o;
  return [N, r, p].every(Number.isSafeInteger) && N >= 2 && N <= MAX_N && (N & (N - 1)) === 0 && r >= 1 && r <= MAX_R && p >= 1 && p <= MAX_P;
}

function derive(password: string, salt: Buffer, o: ScryptParams, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, { ...o, maxmem: maxmemFor(o) }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  if (!validScryptParams(params)) throw new Error('invalid scrypt parameters');
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

function parse(stored: string): { o: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const [kind, n, r, p, salt, key, ...rest] = stored.split('$');
  if (kind !== 'scrypt' || !n || !r || !p || !salt || !key || rest.length > 0) return undefined;
  const o = { N: Number(n), r: Number(r), p: Number(p) };
  const expected = Buffer.from(key, 'base64');
  if (!validScryptParams(o) || expected.length === 0 || expected.length > 64) return undefined;
  return { o, salt: Buffer.from(salt, 'base64'), key: expected };
}

/** False for a wrong password or a hash this code cannot read (never throws on bad input). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parse(stored);
  if (!h) return false;
  const actual = await derive(password, h.salt, h.o, h.key.length);
  return timingSafeEqual(actual, h.key);
}

/** True when a stored hash was made with weaker (or other) parameters than `params`. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const h = parse(stored);
  return !h || h.o.N !== params.N || h.o.r !== params.r || h.o.p !== params.p;
}

/** What the identity store hashes and verifies with (tests count calls through it). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
  needsRehash(stored: string): boolean;
}

export function scryptHasher(params: ScryptParams = DEFAULT_SCRYPT): PasswordHasher {
  if (!validScryptParams(params)) throw new Error(`invalid scrypt parameters N=${params.N} r=${params.r} p=${params.p}`);
  return {
    hash: (pw) => hashPassword(pw, params),
    verify: verifyPassword,
    needsRehash: (stored) => needsRehash(stored, params),
  };
}
