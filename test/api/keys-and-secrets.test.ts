import { createHash } from 'node:crypto';
import t from 'tap';
import { generateRsaKeyPair, parsePublicKey } from '../../actors/api/compute/keypair-keys.js';
import { hostInt, hostUuid } from '../../actors/api/compute/host-ids.js';
import { hashPassword, needsRehash, verifyPassword } from '../../actors/api/identity/passwords.js';
import { roleById, roleId } from '../../actors/api/identity/roles.js';
import { ApiError } from '../../actors/api/faults.js';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host';

t.test('public keys: parsed, fingerprinted as Nova does, refused when malformed', async (t) => {
  const k = parsePublicKey(`  ${ED25519}\n`);
  t.equal(k.line, ED25519);
  const blob = Buffer.from(ED25519.split(' ')[1]!, 'base64');
  t.equal(k.fingerprint, createHash('md5').update(blob).digest('hex').match(/../g)!.join(':'));
  for (const bad of ['', 'ssh-rsa', 'ssh-foo AAAA', `ssh-rsa ${ED25519.split(' ')[1]}`, 'ssh-ed25519 !!!', 'ssh-ed25519 AAAA']) {
    t.throws(() => parsePublicKey(bad), ApiError, JSON.stringify(bad));
  }
});

t.test('generated RSA key pairs: the public half parses back to the same fingerprint', async (t) => {
  const { publicKey, privateKey } = await generateRsaKeyPair();
  t.match(privateKey, /^-----BEGIN RSA PRIVATE KEY-----/);
  t.equal(parsePublicKey(publicKey.line).fingerprint, publicKey.fingerprint);
});

t.test('passwords: scrypt, salted, verified in constant time, unreadable hashes refused', async (t) => {
  const h1 = await hashPassword('correct horse');
  const h2 = await hashPassword('correct horse');
  t.match(h1, /^scrypt\$131072\$8\$1\$/, 'new hashes at OWASP’s N=2^17 (maxmem raised so it runs)');
  const old = await hashPassword('correct horse', { N: 2 ** 14, r: 8, p: 1 });
  t.ok(await verifyPassword('correct horse', old), 'hashes made at the old cost still verify');
  t.ok(needsRehash(old) && !needsRehash(h1), 'and are told apart');
  t.notOk(await verifyPassword('x', 'scrypt$1073741824$8$1$AAAA$AAAA'), 'absurd parameters in a stored hash are refused, not run');
  t.not(h1, h2, 'salted');
  t.ok(await verifyPassword('correct horse', h1));
  t.notOk(await verifyPassword('wrong', h1));
  t.notOk(await verifyPassword('x', 'plain'));
  t.notOk(await verifyPassword('x', 'scrypt$a$b$c$d$e'));
});

t.test('roles: stable ids (implications are rows: identity-cloud.test.ts)', async (t) => {
  t.equal(roleById(roleId('member')), 'member');
  t.match(roleId('admin'), /^[0-9a-f]{32}$/);
});

t.test('host ids: stable, distinct per kind, RFC 4122 version 5', async (t) => {
  t.equal(hostUuid('service', 'h1'), hostUuid('service', 'h1'));
  t.not(hostUuid('service', 'h1'), hostUuid('hypervisor', 'h1'));
  t.match(hostUuid('service', 'h1'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.ok(hostInt('service', 'h1') > 0 && hostInt('service', 'h1') <= 0x7fffffff);
});
