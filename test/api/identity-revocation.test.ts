/**
 * Tokens grant what the user holds now (security review H3, H4, L5): a revoked grant, a disabled or
 * deleted user, a deleted project and a changed password take effect at once on the replica that
 * made the change and within the token cache window on another replica (driven by a manual clock,
 * so no real wait); a token-method child keeps its parent's expiry and audit chain and dies with it.
 * The scrypt cost is lowered for this file: nothing here is about hashing, and every login would
 * otherwise cost ~0.5–2 s of CPU on this machine.
 */
import t from 'tap';
import { resolveApiConfig, type ApiOptions } from '../../actors/api/api-config.js';
import { startApiRole } from '../../actors/api/api-role.js';
import { ManualClock, systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { ADMIN_PASSWORD, Http, startApiCluster } from '../harness/api-http.js';

const FAST_HASH: ApiOptions = { passwordHash: { N: 2 ** 12 } };
const CACHE_MS = 1_000;

const { cluster, http, admin } = await startApiCluster(t, { api: FAST_HASH });

// A second API replica whose token cache runs on a manual clock: "within the cache window" is then
// an `advance`, not a sleep. NATS deadlines keep real time.
const clock = new ManualClock(Date.now());
const log = createLogger('silent');
const { config } = resolveApiConfig({ ...FAST_HASH, adminPassword: ADMIN_PASSWORD, token: { cacheMs: CACHE_MS } });
const replica = await startApiRole(
  { bridge: new Bridge(cluster.client.bridge.nc, systemClock, log, 5_000), subjects: cluster.subjects, actors: cluster.actors, clock, log, requestTimeoutMs: 5_000 },
  cluster.orm!, config,
);
t.teardown(() => replica.stop());
const other = new Http(replica.url);

const roleId = async (name: string) => (await http.get(`/v3/roles?name=${name}`, { token: admin })).body.roles[0].id as string;
const grant = (project: string, user: string, role: string) => http.put(`/v3/projects/${project}/users/${user}/roles/${role}`, { token: admin });
const tokenAuth = (token: string) => ({ auth: { identity: { methods: ['token'], token: { id: token } } } });

t.test('H3: a demoted admin’s old token loses admin here at once and on another replica within the cache window', async (t) => {
  const nora = await http.member(admin, 'nora-project', 'nora', 'admin');
  t.equal((await grant(nora.projectId, nora.userId, await roleId('member'))).status, 204, 'nora is also a plain member');
  t.equal((await http.get('/v3/users', { token: nora.token })).status, 200, 'as admin, nora lists users');
  t.equal((await other.get('/v3/users', { token: nora.token })).status, 200, 'on the other replica too (now cached there)');

  const demote = await http.delete(`/v3/projects/${nora.projectId}/users/${nora.userId}/roles/${await roleId('admin')}`, { token: admin });
  t.equal(demote.status, 204);

  t.equal((await http.get('/v3/users', { token: nora.token })).status, 403, 'this replica: no admin at once');
  const backdoor = await http.post('/v3/users', { token: nora.token, body: { user: { name: 'backdoor', password: 'backdoor-pw' } } });
  t.equal(backdoor.status, 403, 'and no backdoor account');
  t.equal((await http.get('/v2.1/flavors', { token: nora.token })).status, 200, 'the token still works as a member');
  const body = await http.get('/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': nora.token } });
  t.same(body.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader'], 'validation shows the current roles');

  clock.advance(CACHE_MS + 1);
  t.equal((await other.get('/v3/users', { token: nora.token })).status, 403, 'the other replica, once its cache entry is older than the window');

  // No role left on the project: the token grants nothing at all.
  await http.delete(`/v3/projects/${nora.projectId}/users/${nora.userId}/roles/${await roleId('member')}`, { token: admin });
  t.equal((await http.get('/v2.1/flavors', { token: nora.token })).status, 401);
});

t.test('L5/H3: a disabled user’s tokens are refused (and stay revoked when re-enabled); login is refused', async (t) => {
  const dora = await http.member(admin, 'dora-project', 'dora', 'member');
  t.equal((await other.get('/v2.1/flavors', { token: dora.token })).status, 200);
  const off = await http.patch(`/v3/users/${dora.userId}`, { token: admin, body: { user: { enabled: false, description: 'on leave', email: 'dora@example.org' } } });
  t.equal(off.status, 200);
  t.equal(off.body.user.enabled, false);
  t.equal(off.body.user.description, 'on leave');
  t.equal(off.body.user.email, 'dora@example.org');
  t.equal((await http.get('/v2.1/flavors', { token: dora.token })).status, 401, 'refused here at once');
  clock.advance(CACHE_MS + 1);
  t.equal((await other.get('/v2.1/flavors', { token: dora.token })).status, 401, 'and on the other replica within the window');
  const login = await http.post('/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['password'], password: { user: { name: 'dora', domain: { id: 'default' }, password: dora.password } } } } },
  });
  t.equal(login.status, 401, 'a disabled user cannot log in');
  t.equal((await http.patch(`/v3/users/${dora.userId}`, { token: admin, body: { user: { enabled: true } } })).status, 200);
  t.equal((await http.get('/v2.1/flavors', { token: dora.token })).status, 401, 're-enabling does not bring old tokens back');
  t.ok(await http.token('dora', dora.password, 'dora-project'), 'but she can log in again');
  t.equal((await http.patch(`/v3/users/${dora.userId}`, { token: dora.token, body: { user: { enabled: false } } })).status, 401);
  const fresh = await http.token('dora', dora.password, 'dora-project');
  t.equal((await http.patch(`/v3/users/${dora.userId}`, { token: fresh, body: { user: { name: 'dora2' } } })).status, 403, 'members cannot update users');
  t.equal((await http.patch('/v3/users/nope', { token: admin, body: { user: { enabled: false } } })).status, 404);
  t.equal((await http.patch(`/v3/users/${dora.userId}`, { token: admin, body: { user: { name: 'admin' } } })).status, 409, 'a taken name');
});

t.test('L5/H3: a deleted user’s tokens are refused everywhere; the user, grants and tokens are gone', async (t) => {
  const del = await http.member(admin, 'del-project', 'del', 'member');
  t.equal((await other.get('/v2.1/flavors', { token: del.token })).status, 200);
  t.equal((await http.delete(`/v3/users/${del.userId}`, { token: admin })).status, 204);
  t.equal((await http.get('/v2.1/flavors', { token: del.token })).status, 401);
  clock.advance(CACHE_MS + 1);
  t.equal((await other.get('/v2.1/flavors', { token: del.token })).status, 401);
  t.equal((await http.get(`/v3/users/${del.userId}`, { token: admin })).status, 404);
  t.equal((await http.get(`/v3/role_assignments?user.id=${del.userId}`, { token: admin })).body.role_assignments.length, 0);
  t.equal((await http.delete(`/v3/users/${del.userId}`, { token: admin })).status, 404);
});

t.test('H3: deleting or disabling a project revokes the tokens scoped to it', async (t) => {
  const pia = await http.member(admin, 'pia-project', 'pia', 'member');
  const off = await http.patch(`/v3/projects/${pia.projectId}`, { token: admin, body: { project: { enabled: false, description: 'frozen' } } });
  t.equal(off.status, 200);
  t.equal(off.body.project.description, 'frozen');
  t.equal((await http.get('/v2.1/flavors', { token: pia.token })).status, 401, 'disabled project');
  await http.patch(`/v3/projects/${pia.projectId}`, { token: admin, body: { project: { enabled: true } } });
  const again = await http.token('pia', pia.password, 'pia-project');
  t.equal((await other.get('/v2.1/flavors', { token: again })).status, 200);
  t.equal((await http.delete(`/v3/projects/${pia.projectId}`, { token: admin })).status, 204);
  t.equal((await http.get('/v2.1/flavors', { token: again })).status, 401, 'deleted project, here');
  clock.advance(CACHE_MS + 1);
  t.equal((await other.get('/v2.1/flavors', { token: again })).status, 401, 'and there');
  t.equal((await http.get(`/v3/projects/${pia.projectId}`, { token: admin })).status, 404);
});

t.test('L5/H3: a user changes their own password; it revokes their tokens; the old password stops working', async (t) => {
  const cy = await http.member(admin, 'cy-project', 'cy', 'member');
  const url = `/v3/users/${cy.userId}/password`;
  const wrong = await http.post(url, { body: { user: { original_password: 'not-my-password', password: 'new-password-1' } } });
  t.equal(wrong.status, 401, 'the original password is the proof (no token needed, as Keystone)');
  t.equal((await http.get('/v2.1/flavors', { token: cy.token })).status, 200, 'a failed change revokes nothing');
  const short = await http.post(url, { body: { user: { original_password: cy.password, password: 'short' } } });
  t.equal(short.status, 400);
  t.match(short.body.error.message, /does not match the requirements: at least 8 characters/);
  t.equal((await other.get('/v2.1/flavors', { token: cy.token })).status, 200);
  const changed = await http.post(url, { body: { user: { original_password: cy.password, password: 'new-password-1' } } });
  t.equal(changed.status, 204);
  t.equal((await http.get('/v2.1/flavors', { token: cy.token })).status, 401, 'old token revoked here');
  clock.advance(CACHE_MS + 1);
  t.equal((await other.get('/v2.1/flavors', { token: cy.token })).status, 401, 'and on the other replica');
  await t.rejects(http.token('cy', cy.password, 'cy-project'), 'the old password fails');
  t.ok(await http.token('cy', 'new-password-1', 'cy-project'), 'the new one works');
  // An admin setting a password through PATCH revokes too.
  const mid = await http.token('cy', 'new-password-1', 'cy-project');
  t.equal((await http.patch(`/v3/users/${cy.userId}`, { token: admin, body: { user: { password: 'x' } } })).status, 400, 'the policy applies to PATCH');
  t.equal((await http.patch(`/v3/users/${cy.userId}`, { token: admin, body: { user: { password: 'admin-set-password' } } })).status, 200);
  t.equal((await http.get('/v2.1/flavors', { token: mid })).status, 401);
  t.equal((await http.post('/v3/users', { token: admin, body: { user: { name: 'tiny', password: 'seven77' } } })).status, 400, 'and to new users');
});

t.test('H4: a token-method child keeps its parent’s expiry and audit chain, and is revoked with its parent', async (t) => {
  const tia = await http.member(admin, 'tia-project', 'tia', 'member');
  const parent = await http.get('/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': tia.token } });
  const scope = { project: { name: 'tia-project', domain: { name: 'Default' } } };
  const c = await http.post('/v3/auth/tokens', { body: { auth: { ...tokenAuth(tia.token).auth, scope } } });
  t.equal(c.status, 201);
  const child = c.headers.get('x-subject-token')!;
  t.equal(c.body.token.expires_at, parent.body.token.expires_at, 'no fresh TTL');
  t.same(c.body.token.audit_ids, [c.body.token.audit_ids[0], parent.body.token.audit_ids[0]], 'audit_ids = [child, parent]');
  t.not(c.body.token.audit_ids[0], parent.body.token.audit_ids[0]);
  t.same(c.body.token.methods, ['token', 'password'], 'Keystone keeps the parent’s methods');
  const g = await http.post('/v3/auth/tokens', { body: { auth: { ...tokenAuth(child).auth, scope } } });
  const grandchild = g.headers.get('x-subject-token')!;
  t.equal(g.body.token.expires_at, parent.body.token.expires_at);
  t.equal(g.body.token.audit_ids[1], parent.body.token.audit_ids[0], 'the chain names its first token');
  t.equal((await other.get('/v2.1/flavors', { token: grandchild })).status, 200);

  t.equal((await http.delete('/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': tia.token } })).status, 204);
  t.equal((await http.get('/v2.1/flavors', { token: child })).status, 401, 'revoking the parent revokes the child');
  t.equal((await http.get('/v2.1/flavors', { token: grandchild })).status, 401, 'and its child');
  clock.advance(CACHE_MS + 1);
  t.equal((await other.get('/v2.1/flavors', { token: grandchild })).status, 401, 'on every replica');
  const renew = await http.post('/v3/auth/tokens', { body: tokenAuth(child) });
  t.equal(renew.status, 401, 'a revoked child cannot be renewed');
});
