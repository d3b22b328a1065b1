/**
 * Cheap unauthenticated work and slow clients (security review M6, M7, L5, L8): login rate limits
 * per user and per source (429, Retry-After, Keystone's fault body); unknown and disabled users cost
 * one hash verification like a wrong password; unknown tokens are remembered, not re-queried; a
 * `domain: {}` is a 400; the HTTP server closes slow bodies, slow headers and idle keep-alives.
 * The scrypt cost is lowered (nothing here measures it; the default is checked in keys-and-secrets).
 */
import { connect } from 'node:net';
import t from 'tap';
import { resolveApiConfig, type ApiOptions } from '../../actors/api/api-config.js';
import { startApiRole } from '../../actors/api/api-role.js';
import { IdentityStore } from '../../actors/api/identity/identity-store.js';
import { scryptHasher, type PasswordHasher } from '../../actors/api/identity/passwords.js';
import { DEFAULT_TOKEN_CONFIG, TokenService } from '../../actors/api/identity/tokens.js';
import { ManualClock, systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { ADMIN_PASSWORD, Http, startApiCluster } from '../harness/api-http.js';

const FAST_HASH: ApiOptions = { passwordHash: { N: 2 ** 10 } };
const PER_USER_BURST = 4;

const { cluster, http, admin } = await startApiCluster(t, { api: { ...FAST_HASH, loginLimits: { perUser: { burst: PER_USER_BURST, perSecond: 0.001 } } } });
const log = createLogger('silent');

// A replica with tight limits of its own: three logins per source, sub-second HTTP timeouts.
const { config: tight } = resolveApiConfig({
  ...FAST_HASH, adminPassword: ADMIN_PASSWORD,
  loginLimits: { perSource: { burst: 3, perSecond: 0.001 } },
  http: { requestTimeoutMs: 400, headersTimeoutMs: 400, keepAliveTimeoutMs: 300 },
});
const replica = await startApiRole(
  { bridge: new Bridge(cluster.client.bridge.nc, systemClock, log, 5_000), subjects: cluster.subjects, actors: cluster.actors, clock: systemClock, log, requestTimeoutMs: 5_000 },
  cluster.orm!, tight,
);
t.teardown(() => replica.stop());

const login = (name: string, password: string, domain: Record<string, string> = { id: 'default' }) => ({
  auth: { identity: { methods: ['password'], password: { user: { name, domain, password } } } },
});

t.test('M6: logins are limited per user: 429 with Retry-After and a Keystone fault body, known user or not', async (t) => {
  for (const name of ['nobody-at-all', 'admin']) {
    for (let i = 0; i < PER_USER_BURST - (name === 'admin' ? 1 : 0); i++) {
      t.equal((await http.post('/v3/auth/tokens', { body: login(name, 'guess-' + i) })).status, 401, `${name} guess ${i}`);
    }
    const limited = await http.post('/v3/auth/tokens', { body: login(name, name === 'admin' ? ADMIN_PASSWORD : 'guess') });
    t.equal(limited.status, 429, `${name}: the next attempt is refused, even with the right password`);
    t.ok(Number(limited.headers.get('retry-after')) >= 1, 'Retry-After in seconds');
    t.same(Object.keys(limited.body), ['error']);
    t.equal(limited.body.error.code, 429);
    t.equal(limited.body.error.title, 'Too Many Requests');
  }
  const ok = await http.member(admin, 'limits', 'someone-else', 'member');
  t.ok(ok.token, 'other users are not affected');
});

t.test('M6: logins are limited per source address, password changes included', async (t) => {
  const other = new Http(replica.url);
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push((await other.post('/v3/auth/tokens', { body: login(`user-${i}`, 'guess') })).status);
  t.same(answers, [401, 401, 401]);
  const limited = await other.post('/v3/auth/tokens', { body: login('admin', ADMIN_PASSWORD) });
  t.equal(limited.status, 429, 'a fourth attempt from the same address, whoever it names');
  const change = await other.post('/v3/users/0123456789abcdef0123456789abcdef/password', { body: { user: { original_password: 'guess-guess', password: 'new-password' } } });
  t.equal(change.status, 429, 'the password-change route spends from the same bucket');
});

t.test('M6: unknown and disabled users cost one hash verification, like a wrong password', async (t) => {
  const real = scryptHasher({ N: 2 ** 10, r: 8, p: 1 });
  const verified: string[] = [];
  const counting: PasswordHasher = { ...real, verify: (pw, stored) => (verified.push(stored), real.verify(pw, stored)) };
  const store = new IdentityStore(cluster.orm!, systemClock, counting);
  const on = await store.createUser({ name: 'timing-on', password: 'right-password' });
  const off = await store.createUser({ name: 'timing-off', password: 'right-password', enabled: false });

  t.equal(await store.authenticate(on, 'wrong-password'), false);
  t.equal(verified.length, 1, 'a wrong password: one verification');
  t.equal(await store.authenticate(null, 'any-password'), false);
  t.equal(verified.length, 2, 'an unknown user: one verification too');
  t.match(verified[1], /^scrypt\$1024\$8\$1\$/, 'against a dummy hash at the configured cost');
  t.not(verified[1], on.passwordHash);
  t.equal(await store.authenticate(off, 'right-password'), false, 'a disabled user is refused');
  t.equal(verified.length, 3, 'after verifying its own hash');
  t.equal(verified[2], off.passwordHash);
  t.equal(await store.authenticate(on, 'right-password'), true);
  t.equal(await store.authenticate(null, 'x'), false);
  t.equal(verified[4], verified[1], 'the dummy hash is made once');
});

t.test('L5: a hash made at a lower cost is upgraded to the current one on a successful login', async (t) => {
  const weak = new IdentityStore(cluster.orm!, systemClock, scryptHasher({ N: 2 ** 8, r: 8, p: 1 }));
  const store = new IdentityStore(cluster.orm!, systemClock, scryptHasher({ N: 2 ** 10, r: 8, p: 1 }));
  const created = await weak.createUser({ name: 'old-hash', password: 'right-password' });
  t.match(created.passwordHash, /^scrypt\$256\$8\$1\$/);

  t.equal(await store.authenticate(created, 'wrong-password'), false);
  t.equal((await store.user(created.id))!.passwordHash, created.passwordHash, 'a wrong password changes nothing');
  t.equal(await store.authenticate(created, 'right-password'), true);
  const upgraded = (await store.user(created.id))!.passwordHash;
  t.match(upgraded, /^scrypt\$1024\$8\$1\$/, 'rehashed at the current cost');
  const again = (await store.user(created.id))!;
  t.equal(await store.authenticate(again, 'right-password'), true, 'the new hash verifies');
  t.equal((await store.user(created.id))!.passwordHash, upgraded, 'and is not rehashed again');

  // A login that verified a hash the row no longer holds (the password changed meanwhile) does not
  // overwrite the new password's hash.
  const stale = await weak.createUser({ name: 'old-hash-raced', password: 'first-password' });
  await store.setPassword(stale.id, 'second-password');
  const current = (await store.user(stale.id))!.passwordHash;
  await store.authenticate(stale, 'first-password');
  t.equal((await store.user(stale.id))!.passwordHash, current, 'the changed password stays');
  t.equal(await store.authenticate(await store.user(stale.id), 'second-password'), true);
});

t.test('M6: unknown tokens are remembered for a few seconds instead of costing a query each', async (t) => {
  const clock = new ManualClock(Date.now());
  const tokens = new TokenService(cluster.orm!, clock, log, DEFAULT_TOKEN_CONFIG);
  t.teardown(() => tokens.stop());
  const garbage = 'A'.repeat(43);
  await t.rejects(tokens.validate(garbage), { code: 401 });
  await t.rejects(tokens.validate(garbage), { code: 401 });
  t.equal(tokens.lookups, 1, 'the second try did not reach the database');
  clock.advance(DEFAULT_TOKEN_CONFIG.negativeCacheMs);
  await t.rejects(tokens.validate(garbage), { code: 401 });
  t.equal(tokens.lookups, 2, 'until the entry ages out');
  for (const bad of ['short', 'x'.repeat(200), `${'A'.repeat(42)}!`]) await t.rejects(tokens.validate(bad), { code: 401 });
  t.equal(tokens.lookups, 2, 'a token of the wrong shape is refused without a query');
  const issued = await tokens.issue('u', 'p', ['member'], ['password']);
  t.ok(issued.token.length === 43, 'issued tokens have the shape checked');
});

t.test('L8: a domain must be named by id or name: `domain: {}` is a 400, not the default domain', async (t) => {
  const user = await http.post('/v3/auth/tokens', { body: login('someone-else', 'someone-else-password', {}) });
  t.equal(user.status, 400);
  t.match(user.body.error.message, /Expecting to find id or name in domain/);
  const project = await http.post('/v3/auth/tokens', {
    body: { auth: { identity: login('someone-else', 'someone-else-password').auth.identity, scope: { project: { name: 'limits', domain: {} } } } },
  });
  t.equal(project.status, 400, `in a project scope too: ${project.text}`);
  for (const domain of [null, 'default', []]) {
    const odd = await http.post('/v3/auth/tokens', {
      body: { auth: { identity: login('someone-else', 'someone-else-password').auth.identity, scope: { project: { name: 'limits', domain } } } },
    });
    t.equal(odd.status, 400, `project domain ${JSON.stringify(domain)}`);
  }
});

/** Writes `request` on a raw socket and resolves with what came back once the server closes it. */
function raw(url: string, request: string, guardMs = 10_000): Promise<{ data: string; afterMs: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const s = connect(Number(u.port), u.hostname);
    let data = '';
    const guard = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server kept the connection open for ${guardMs} ms`));
    }, guardMs);
    s.on('data', (b) => (data += b.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(guard);
      resolve({ data, afterMs: Date.now() - start });
    });
    s.write(request);
  });
}

t.test('M7: slow bodies, slow headers and idle keep-alive connections are closed', async (t) => {
  const body = await raw(replica.url, 'POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"auth":');
  t.match(body.data, /^HTTP\/1\.1 408 /, 'a body that stops arriving is a 408');
  t.match(body.data, /"code":408/, 'with a fault body');
  t.ok(body.afterMs >= 350, `after the request timeout (${body.afterMs} ms)`);
  const headers = await raw(replica.url, 'GET /v3 HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  t.match(headers.data, /^HTTP\/1\.1 408 /, 'headers that stop arriving too');
  const idle = await raw(replica.url, 'GET /v3 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  t.match(idle.data, /^HTTP\/1\.1 200 /, 'a complete request is answered');
  t.ok(idle.afterMs < 5_000, `and the idle keep-alive connection closed after ${idle.afterMs} ms`);
  const ok = await new Http(replica.url).get('/v3');
  t.equal(ok.status, 200, 'ordinary requests are unaffected');
});
