/**
 * SSH public keys for Nova's key pairs: parse and check an OpenSSH public key line, its MD5
 * fingerprint (colon-separated hex, as Nova prints it), and server-side generation of an RSA key
 * pair (Nova generates one when no public key is given, before microversion 2.92). `x509` key pairs
 * (2.2) are PEM certificates, imported or generated, fingerprinted as Nova does (SHA-1 of the DER,
 * colon-separated).
 */
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badRequest } from '../faults.js';

const KEY_TYPES = new Set([
  'ssh-rsa', 'ssh-dss', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
]);

export interface PublicKey {
  /** The key line, normalised to `<type> <base64> [comment]`. */
  line: string;
  fingerprint: string;
}

function md5Fingerprint(blob: Buffer): string {
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

/** Validates an OpenSSH public key line; a 400 says what is wrong with it. */
export function parsePublicKey(text: string): PublicKey {
  const invalid = () => badRequest('Keypair data is invalid: failed to generate fingerprint');
  const parts = text.trim().split(/\s+/);
  const [type, b64, ...comment] = parts;
  if (!type || !b64 || !KEY_TYPES.has(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw invalid();
  const blob = Buffer.from(b64, 'base64');
  // The blob starts with its own type as an SSH string (uint32 length + bytes): it must agree.
  if (blob.length < 4) throw invalid();
  const n = blob.readUInt32BE(0);
  if (n > blob.length - 4 || blob.subarray(4, 4 + n).toString('latin1') !== type) throw invalid();
  return { line: [type, b64, ...comment].join(' '), fingerprint: md5Fingerprint(blob) };
}

/** Validates a PEM X.509 certificate (an `x509` key pair's public half). */
export function parseX509Certificate(text: string): PublicKey {
  try {
    const cert = new X509Certificate(text.trim());
    return { line: cert.toString().trim(), fingerprint: cert.fingerprint.toLowerCase() };
  } catch {
    throw badRequest('Keypair data is invalid: failed to generate fingerprint');
  }
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** An SSH mpint: big-endian, with a leading zero byte when the high bit is set. */
function mpint(b64url: string): Buffer {
  let b = Buffer.from(b64url, 'base64url');
  while (b.length > 1 && b[0] === 0) b = b.subarray(1);
  return sshString(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

const rsa2048 = () =>
  new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, pub, priv) => (err ? reject(err) : resolve({ publicKey: pub, privateKey: priv }))),
  );

/** A new RSA key pair: the public half as an OpenSSH line, the private half as PEM (PKCS#1). */
export async function generateRsaKeyPair(comment = 'Generated-by-Nova'): Promise<{ publicKey: PublicKey; privateKey: string }> {
  const { publicKey, privateKey } = await rsa2048();
  const jwk = publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]);
  const line = `ssh-rsa ${blob.toString('base64')} ${comment}`;
  return { publicKey: { line, fingerprint: md5Fingerprint(blob) }, privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() };
}

const OPENSSL = '/usr/bin/openssl';
const OPENSSL_TIMEOUT_MS = 10_000;

/**
 * A new `x509` key pair as Nova makes one (for WinRM certificate login): a self-signed certificate
 * for `CN=<user id>`, client authentication, the user principal `<user id>@localhost`, ten years;
 * the private key as PEM. Made by the system's openssl (Node parses certificates but cannot issue
 * them), in a private directory removed at once, as Nova does it.
 */
export async function generateX509KeyPair(userId: string): Promise<{ publicKey: PublicKey; privateKey: string }> {
  // The id goes into openssl's -subj and -addext syntax: only characters with no meaning there.
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(userId)) throw new Error(`user id ${JSON.stringify(userId)} cannot name a certificate`);
  const dir = await mkdtemp(join(tmpdir(), 'novact-x509-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const cert = await new Promise<string>((resolve, reject) =>
      execFile(OPENSSL, [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-days', '3650', '-sha256', '-subj', `/CN=${userId}`,
        '-addext', 'extendedKeyUsage=clientAuth', '-addext', `subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:${userId}@localhost`,
      ], { timeout: OPENSSL_TIMEOUT_MS, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`openssl: ${stderr.trim() || err.message}`)) : resolve(stdout))),
    );
    const key = createPrivateKey(await readFile(keyFile, 'utf8'));
    return { publicKey: parseX509Certificate(cert), privateKey: key.export({ type: 'pkcs1', format: 'pem' }).toString() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
