import t from 'tap';
import { startApiRole } from '../../actors/api/api-role.js';
import { resolveApiConfig } from '../../actors/api/api-config.js';
import { ManualClock, systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { ADMIN_PASSWORD, Http, fault, startApiCluster } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t);

const passwordAuth = (name: string, password: string, project?: string) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name, domain: { name: 'Default' }, password } } },
    ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
  },
});

t.test('GET /v3 describes Identity v3 without a token', async (t) => {
  const a = await http.get('/v3');
  t.equal(a.status, 200);
  t.equal(a.body.version.id, 'v3.14');
  t.equal(a.body.version.links[0].href, `${cluster.apiUrl}/v3/`);
});

t.test('POST /v3/auth/tokens: 201, X-Subject-Token, roles, project, expiry and a catalog', async (t) => {
  const a = await http.post('/v3/auth/tokens', { body: passwordAuth('admin', ADMIN_PASSWORD, 'admin') });
  t.equal(a.status, 201);
  t.ok(a.headers.get('x-subject-token'), 'token in the header');
  const tok = a.body.token;
  t.same(tok.methods, ['password']);
  t.equal(tok.user.name, 'admin');
  t.equal(tok.project.name, 'admin');
  t.same(tok.project.domain, { id: 'default', name: 'Default' });
  t.same(tok.roles.map((r: { name: string }) => r.name).sort(), ['admin', 'manager', 'member', 'reader'], 'admin implies member and reader');
  const ttl = Date.parse(tok.expires_at) - Date.parse(tok.issued_at);
  t.equal(ttl, 3_600_000, 'Keystone’s one-hour expiry');
  const types = tok.catalog.map((s: { type: string }) => s.type).sort();
  t.same(types, ['compute', 'identity', 'image', 'network']);
  const compute = tok.catalog.find((s: { type: string }) => s.type === 'compute');
  t.same(compute.endpoints.map((e: { interface: string }) => e.interface).sort(), ['admin', 'internal', 'public']);
  t.equal(compute.endpoints[0].url, `${cluster.apiUrl}/v2.1`);
  const network = tok.catalog.find((s: { type: string }) => s.type === 'network');
  t.equal(network.name, 'neutron');
  t.equal(network.endpoints[0].url, `${cluster.apiUrl}/networking`, 'networking where devstack mounts Neutron');
  const nocat = await http.post('/v3/auth/tokens?nocatalog', { body: passwordAuth('admin', ADMIN_PASSWORD, 'admin') });
  t.notOk(nocat.body.token.catalog, '?nocatalog leaves the catalog out');
});

t.test('authentication failures are 401 in Keystone’s error format, and reveal nothing', async (t) => {
  const wrong = await http.post('/v3/auth/tokens', { body: passwordAuth('admin', 'wrong', 'admin') });
  t.equal(wrong.status, 401);
  t.same(Object.keys(wrong.body), ['error']);
  t.equal(wrong.body.error.code, 401);
  t.equal(wrong.body.error.title, 'Unauthorized');
  const nobody = await http.post('/v3/auth/tokens', { body: passwordAuth('nobody', 'x', 'admin') });
  t.equal(nobody.status, 401);
  t.equal(nobody.body.error.message, wrong.body.error.message, 'unknown user and wrong password look alike');
  const otherDomain = await http.post('/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Elsewhere' }, password: ADMIN_PASSWORD } } } } },
  });
  t.equal(otherDomain.status, 401);
  const badBody = await http.post('/v3/auth/tokens', { body: { auth: { identity: { methods: 'password' } } } });
  t.equal(badBody.status, 400);
  t.equal(badBody.body.error.code, 400);
  const noProject = await http.post('/v3/auth/tokens', { body: passwordAuth('admin', ADMIN_PASSWORD, 'no-such-project') });
  t.equal(noProject.status, 401);
  const method = await http.post('/v3/auth/tokens', { body: { auth: { identity: { methods: ['totp'] } } } });
  t.equal(method.status, 401);
});

t.test('every compute and image call needs a valid X-Auth-Token (Nova fault, WWW-Authenticate)', async (t) => {
  for (const path of ['/v2.1/servers', '/v2.1/flavors', '/image/v2/images', '/v3/auth/catalog']) {
    const none = await http.get(path);
    t.equal(none.status, 401, `${path} without a token`);
    t.match(none.headers.get('www-authenticate'), /^Keystone uri=/);
    const bad = await http.get(path, { token: 'not-a-token' });
    t.equal(bad.status, 401, `${path} with a bogus token`);
  }
  const n = await http.get('/v2.1/servers');
  t.same(fault(n), { name: 'unauthorized', code: 401, message: 'The request you have made requires authentication.' });
  t.equal((await http.get('/v2.1/servers', { token: admin })).status, 200, 'the admin token works');
});

t.test('validate (GET/HEAD) and revoke (DELETE) a token', async (t) => {
  const subject = await http.token('admin', ADMIN_PASSWORD, 'admin');
  const got = await http.get('/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': subject } });
  t.equal(got.status, 200);
  t.equal(got.headers.get('x-subject-token'), subject);
  t.equal(got.body.token.project.name, 'admin');
  t.equal((await http.call('HEAD', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': subject } })).status, 200);
  t.equal((await http.get('/v2.1/flavors', { token: subject })).status, 200);
  t.equal((await http.delete('/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': subject } })).status, 204);
  t.equal((await http.get('/v2.1/flavors', { token: subject })).status, 401, 'a revoked token is refused at once');
  t.equal((await http.get('/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': subject } })).status, 404);
  t.equal((await http.get('/v3/auth/tokens', { token: admin })).status, 400, 'X-Subject-Token is required');
});

t.test('projects, users and role grants; admin-only administration', async (t) => {
  const alice = await http.member(admin, 'acme', 'alice', 'member');
  t.match(alice.projectId, /^[0-9a-f]{32}$/);
  const dup = await http.post('/v3/projects', { token: admin, body: { project: { name: 'acme' } } });
  t.equal(dup.status, 409);
  const dupUser = await http.post('/v3/users', { token: admin, body: { user: { name: 'alice', password: 'long-enough' } } });
  t.equal(dupUser.status, 409);
  t.equal((await http.get('/v3/projects', { token: alice.token })).status, 403, 'members cannot list projects');
  t.equal((await http.post('/v3/projects', { token: alice.token, body: { project: { name: 'mine' } } })).status, 403);
  t.equal((await http.get(`/v3/projects/${alice.projectId}`, { token: alice.token })).status, 200, 'but may read their own');
  t.equal((await http.get(`/v3/users/${alice.userId}`, { token: alice.token })).status, 200);
  t.equal((await http.get('/v3/roles/member', { token: admin })).status, 200, 'roles by name too');
  t.equal((await http.get('/v3/roles/nope', { token: admin })).status, 404);
  const assignments = await http.get(`/v3/role_assignments?user.id=${alice.userId}`, { token: admin });
  t.equal(assignments.body.role_assignments.length, 1);
  t.equal(assignments.body.role_assignments[0].scope.project.id, alice.projectId);
  const projects = await http.get('/v3/auth/projects', { token: alice.token });
  t.same(projects.body.projects.map((p: { name: string }) => p.name), ['acme']);
  const unknownField = await http.post('/v3/users', { token: admin, body: { user: { name: 'x', password: 'long-enough', shoe_size: 42 } } });
  t.equal(unknownField.status, 400);
  t.equal(unknownField.body.error.code, 400, 'identity errors use Keystone’s body');
  // No role on a project, no token for it.
  const outsider = await http.post('/v3/users', { token: admin, body: { user: { name: 'outsider', password: 'outsider-pw' } } });
  t.equal(outsider.status, 201);
  const refused = await http.post('/v3/auth/tokens', { body: passwordAuth('outsider', 'outsider-pw', 'acme') });
  t.equal(refused.status, 401);
});

t.test('tokens expire, and any API replica validates any replica’s tokens', async (t) => {
  const clock = new ManualClock(Date.now());
  const log = createLogger('silent');
  // Only the tokens run on the manual clock; NATS deadlines keep real time.
  const bridge = new Bridge(cluster.client.bridge.nc, systemClock, log, 5_000);
  const { config } = resolveApiConfig({ adminPassword: ADMIN_PASSWORD, token: { ttlMs: 60_000, cacheMs: 1_000 } });
  const replica = await startApiRole({ bridge, subjects: cluster.subjects, actors: cluster.actors, clock, log, requestTimeoutMs: 5_000 }, cluster.orm!, config);
  t.teardown(() => replica.stop());
  const second = new Http(replica.url);
  t.equal((await second.get('/v2.1/flavors', { token: admin })).status, 200, 'a token from the first replica works on the second');
  const short = await second.token('admin', ADMIN_PASSWORD, 'admin');
  t.equal((await second.get('/v2.1/flavors', { token: short })).status, 200);
  clock.advance(60_001);
  const expired = await second.get('/v2.1/flavors', { token: short });
  t.equal(expired.status, 401);
  t.equal(fault(expired)?.message, 'The token has expired.');
});
