/**
 * Keystone for running a cloud, over REST: domains (users, projects and groups live in one; a domain
 * must be disabled before delete; disabling revokes), groups whose role assignments reach their
 * members' tokens, role rows with implied roles, `role_assignments` with its filters, `effective`
 * and `include_names`, regions / services / endpoints feeding the catalog, application
 * credentials (restricted roles, no minting more, revoked on delete), and system scope. Every
 * refusal is checked for Keystone's status and error body, and members are kept to their own.
 */
import t, { type Test } from 'tap';
import { ADMIN_PASSWORD, startApiCluster, type Answer } from '../harness/api-http.js';

const { http, admin } = await startApiCluster(t, { hosts: 1 });

/** Keystone's `{"error": {"code", "title", "message"}}` with the given status. */
function keystoneError(t: Test, a: Answer, code: number, what: string) {
  t.equal(a.status, code, what);
  t.same(Object.keys(a.body ?? {}), ['error'], `${what}: Keystone's body`);
  t.equal(a.body?.error?.code, code);
  t.type(a.body?.error?.message, 'string');
}

const auth = (identity: unknown, scope?: unknown) => ({ auth: { identity, ...(scope ? { scope } : {}) } });
const password = (user: Record<string, unknown>, pw: string) => ({ methods: ['password'], password: { user: { ...user, password: pw } } });
const tokenOf = async (body: unknown) => {
  const a = await http.post('/v3/auth/tokens', { body });
  return { a, token: a.headers.get('x-subject-token') ?? '' };
};
const roleNames = (a: Answer) => (a.body.token.roles as { name: string }[]).map((r) => r.name).sort();
const roleId = async (name: string) => (await http.get(`/v3/roles?name=${name}`, { token: admin })).body.roles[0].id as string;

t.test('the default domain exists; domain CRUD with Keystone’s refusals', async (t) => {
  const def = await http.get('/v3/domains/default', { token: admin });
  t.equal(def.status, 200);
  t.match(def.body.domain, { id: 'default', name: 'Default', enabled: true });
  const made = await http.post('/v3/domains', { token: admin, body: { domain: { name: 'acme', description: 'ACME Inc.' } } });
  t.equal(made.status, 201);
  t.match(made.body.domain, { name: 'acme', description: 'ACME Inc.', enabled: true, id: /^[0-9a-f]{32}$/ });
  const id = made.body.domain.id;
  keystoneError(t, await http.post('/v3/domains', { token: admin, body: { domain: { name: 'acme' } } }), 409, 'a taken name');
  keystoneError(t, await http.post('/v3/domains', { token: admin, body: { domain: { name: 'x', bogus: 1 } } }), 400, 'an unknown attribute');
  keystoneError(t, await http.post('/v3/domains', { token: admin, body: { domain: { name: '' } } }), 400, 'an empty name');
  const byName = await http.get('/v3/domains?name=acme', { token: admin });
  t.same(byName.body.domains.map((d: { id: string }) => d.id), [id], '?name=');
  const enabled = await http.get('/v3/domains?enabled=false', { token: admin });
  t.same(enabled.body.domains, [], '?enabled=false: none yet');
  keystoneError(t, await http.delete(`/v3/domains/${id}`, { token: admin }), 403, 'an enabled domain cannot be deleted');
  const off = await http.patch(`/v3/domains/${id}`, { token: admin, body: { domain: { enabled: false } } });
  t.equal(off.body.domain.enabled, false);
  t.equal((await http.delete(`/v3/domains/${id}`, { token: admin })).status, 204);
  keystoneError(t, await http.get(`/v3/domains/${id}`, { token: admin }), 404, 'gone');
  keystoneError(t, await http.patch('/v3/domains/default', { token: admin, body: { domain: { enabled: false } } }), 403, 'the default domain stays enabled');
});

t.test('users and projects live in a domain: names per domain, auth by domain name or id, disable revokes, delete removes', async (t) => {
  const dom = (await http.post('/v3/domains', { token: admin, body: { domain: { name: 'east' } } })).body.domain;
  const project = await http.post('/v3/projects', { token: admin, body: { project: { name: 'ops', domain_id: dom.id } } });
  t.equal(project.status, 201);
  t.equal(project.body.project.domain_id, dom.id);
  t.equal((await http.post('/v3/projects', { token: admin, body: { project: { name: 'ops' } } })).status, 201, 'the same name in another domain');
  keystoneError(t, await http.post('/v3/projects', { token: admin, body: { project: { name: 'ops', domain_id: dom.id } } }), 409, 'but not twice in one');
  keystoneError(t, await http.post('/v3/projects', { token: admin, body: { project: { name: 'z', domain_id: 'nope' } } }), 400, 'an unknown domain');
  const user = await http.post('/v3/users', { token: admin, body: { user: { name: 'erin', password: 'erin-password', domain_id: dom.id, default_project_id: project.body.project.id } } });
  t.equal(user.status, 201);
  t.equal(user.body.user.domain_id, dom.id);
  const listed = await http.get(`/v3/users?domain_id=${dom.id}`, { token: admin });
  t.same(listed.body.users.map((u: { name: string }) => u.name), ['erin'], 'users ?domain_id=');
  t.same((await http.get(`/v3/projects?domain_id=${dom.id}`, { token: admin })).body.projects.map((p: { name: string }) => p.name), ['ops']);
  const member = await roleId('member');
  t.equal((await http.put(`/v3/projects/${project.body.project.id}/users/${user.body.user.id}/roles/${member}`, { token: admin })).status, 204);
  const domainRole = await http.post('/v3/roles', { token: admin, body: { role: { name: 'east-ops', domain_id: dom.id } } });
  t.match(domainRole.body.role, { name: 'east-ops', domain_id: dom.id }, 'a role of the domain');

  const byName = await tokenOf(auth(password({ name: 'erin', domain: { name: 'east' } }, 'erin-password'), { project: { name: 'ops', domain: { name: 'east' } } }));
  t.equal(byName.a.status, 201, 'user and project named in their domain');
  t.same(byName.a.body.token.user.domain, { id: dom.id, name: 'east' });
  t.same(byName.a.body.token.project.domain, { id: dom.id, name: 'east' });
  const byId = await tokenOf(auth(password({ name: 'erin', domain: { id: dom.id } }, 'erin-password')));
  t.equal(byId.a.status, 201, 'by domain id, default project');
  keystoneError(t, (await tokenOf(auth(password({ name: 'erin', domain: { name: 'Default' } }, 'erin-password')))).a, 401, 'not in the default domain');

  // A member of one domain sees nothing of the others.
  keystoneError(t, await http.get('/v3/users', { token: byName.token }), 403, 'members cannot list users');
  keystoneError(t, await http.get('/v3/domains', { token: byName.token }), 403, 'nor domains');
  keystoneError(t, await http.get('/v3/domains/default', { token: byName.token }), 403, 'nor read another domain');
  t.equal((await http.get(`/v3/domains/${dom.id}`, { token: byName.token })).status, 200, 'but may read its own');
  keystoneError(t, await http.post('/v3/domains', { token: byName.token, body: { domain: { name: 'mine' } } }), 403, 'nor create one');

  t.equal((await http.patch(`/v3/domains/${dom.id}`, { token: admin, body: { domain: { enabled: false } } })).status, 200);
  keystoneError(t, await http.get('/v3/auth/projects', { token: byName.token }), 401, 'disabling the domain revokes its tokens');
  keystoneError(t, (await tokenOf(auth(password({ name: 'erin', domain: { id: dom.id } }, 'erin-password')))).a, 401, 'and refuses logins');
  t.equal((await http.delete(`/v3/domains/${dom.id}`, { token: admin })).status, 204);
  keystoneError(t, await http.get(`/v3/users/${user.body.user.id}`, { token: admin }), 404, 'its users went with it');
  keystoneError(t, await http.get(`/v3/projects/${project.body.project.id}`, { token: admin }), 404, 'and its projects');
  keystoneError(t, await http.get(`/v3/roles/${domainRole.body.role.id}`, { token: admin }), 404, 'and its roles');
});

t.test('groups: members get the group’s roles; removal takes them away', async (t) => {
  const p = (await http.post('/v3/projects', { token: admin, body: { project: { name: 'grp-proj' } } })).body.project;
  const u = (await http.post('/v3/users', { token: admin, body: { user: { name: 'gus', password: 'gus-password', domain_id: 'default' } } })).body.user;
  const g = await http.post('/v3/groups', { token: admin, body: { group: { name: 'devs', description: 'developers' } } });
  t.equal(g.status, 201);
  t.match(g.body.group, { name: 'devs', domain_id: 'default', description: 'developers' });
  keystoneError(t, await http.post('/v3/groups', { token: admin, body: { group: { name: 'devs' } } }), 409, 'names are unique in a domain');
  const gid = g.body.group.id;
  t.equal((await http.put(`/v3/groups/${gid}/users/${u.id}`, { token: admin })).status, 204);
  t.equal((await http.call('HEAD', `/v3/groups/${gid}/users/${u.id}`, { token: admin })).status, 204);
  t.same((await http.get(`/v3/groups/${gid}/users`, { token: admin })).body.users.map((x: { name: string }) => x.name), ['gus']);
  t.same((await http.get(`/v3/users/${u.id}/groups`, { token: admin })).body.groups.map((x: { name: string }) => x.name), ['devs']);
  const scope = { project: { name: 'grp-proj', domain: { id: 'default' } } };
  keystoneError(t, (await tokenOf(auth(password({ name: 'gus', domain: { id: 'default' } }, 'gus-password'), scope))).a, 401, 'no role yet');
  const member = await roleId('member');
  t.equal((await http.put(`/v3/projects/${p.id}/groups/${gid}/roles/${member}`, { token: admin })).status, 204);
  t.equal((await http.call('HEAD', `/v3/projects/${p.id}/groups/${gid}/roles/${member}`, { token: admin })).status, 204);
  const gus = await tokenOf(auth(password({ name: 'gus', domain: { id: 'default' } }, 'gus-password'), scope));
  t.equal(gus.a.status, 201, 'the group’s role on the project');
  t.same(roleNames(gus.a), ['member', 'reader'], 'with what member implies');
  const effective = await http.get(`/v3/role_assignments?effective&user.id=${u.id}`, { token: admin });
  t.equal(effective.body.role_assignments.length, 2, 'effective: member and the reader it implies');
  t.match(effective.body.role_assignments[0], { user: { id: u.id }, scope: { project: { id: p.id } }, links: { membership: `${http.base}/v3/groups/${gid}/users/${u.id}` } });
  const direct = await http.get(`/v3/role_assignments?group.id=${gid}`, { token: admin });
  t.same(direct.body.role_assignments.map((a: { group: { id: string }; role: { id: string } }) => [a.group.id, a.role.id]), [[gid, member]], 'group.id=');
  keystoneError(t, await http.get(`/v3/role_assignments?effective&group.id=${gid}`, { token: admin }), 400, 'effective with group.id is Keystone’s 400');
  t.equal((await http.delete(`/v3/groups/${gid}/users/${u.id}`, { token: admin })).status, 204);
  keystoneError(t, await http.get('/v3/auth/projects', { token: gus.token }), 401, 'leaving the group takes the role from its tokens');
  t.equal((await http.delete(`/v3/groups/${gid}`, { token: admin })).status, 204);
  keystoneError(t, await http.get(`/v3/groups/${gid}`, { token: admin }), 404, 'gone');
});

t.test('roles: CRUD, implied roles in tokens, assignments with names', async (t) => {
  const made = await http.post('/v3/roles', { token: admin, body: { role: { name: 'auditor', description: 'reads audits' } } });
  t.equal(made.status, 201);
  t.match(made.body.role, { name: 'auditor', domain_id: null, description: 'reads audits' });
  const auditor = made.body.role.id;
  keystoneError(t, await http.post('/v3/roles', { token: admin, body: { role: { name: 'auditor' } } }), 409, 'a taken name');
  const watcher = (await http.post('/v3/roles', { token: admin, body: { role: { name: 'watcher' } } })).body.role.id;
  const implied = await http.put(`/v3/roles/${auditor}/implies/${watcher}`, { token: admin });
  t.equal(implied.status, 201);
  t.match(implied.body.role_inference, { prior_role: { id: auditor, name: 'auditor' }, implies: { id: watcher, name: 'watcher' } });
  keystoneError(t, await http.put(`/v3/roles/${watcher}/implies/${auditor}`, { token: admin }), 409, 'a cycle');
  const inferences = await http.get('/v3/role_inferences', { token: admin });
  const names = inferences.body.role_inferences.map((r: { prior_role: { name: string }; implies: { name: string }[] }) => `${r.prior_role.name}>${r.implies.map((i) => i.name).join(',')}`).sort();
  t.same(names, ['admin>manager', 'auditor>watcher', 'manager>member', 'member>reader'], 'the bootstrap chain and the new one');

  const p = (await http.post('/v3/projects', { token: admin, body: { project: { name: 'audit' } } })).body.project;
  const u = (await http.post('/v3/users', { token: admin, body: { user: { name: 'ann', password: 'ann-password' } } })).body.user;
  t.equal((await http.put(`/v3/projects/${p.id}/users/${u.id}/roles/${auditor}`, { token: admin })).status, 204);
  const ann = await tokenOf(auth(password({ id: u.id }, 'ann-password'), { project: { id: p.id } }));
  t.same(roleNames(ann.a), ['auditor', 'watcher'], 'the token lists the implied role');
  keystoneError(t, await http.get('/v3/role_assignments', { token: ann.token }), 403, 'members cannot list assignments');

  const named = await http.get(`/v3/role_assignments?user.id=${u.id}&include_names`, { token: admin });
  t.same(named.body.role_assignments, [{
    role: { id: auditor, name: 'auditor' },
    user: { id: u.id, name: 'ann', domain: { id: 'default', name: 'Default' } },
    scope: { project: { id: p.id, name: 'audit', domain: { id: 'default', name: 'Default' } } },
    links: { assignment: `${http.base}/v3/projects/${p.id}/users/${u.id}/roles/${auditor}` },
  }], 'include_names');
  t.equal((await http.get(`/v3/role_assignments?scope.project.id=${p.id}&role.id=${auditor}`, { token: admin })).body.role_assignments.length, 1, 'scope.project.id and role.id');
  t.equal((await http.get(`/v3/role_assignments?scope.project.id=${p.id}&role.id=${watcher}`, { token: admin })).body.role_assignments.length, 0, 'the implied role is not assigned');
  t.equal((await http.get(`/v3/role_assignments?scope.project.id=${p.id}&role.id=${watcher}&effective`, { token: admin })).body.role_assignments.length, 1, 'but effective');

  t.equal((await http.delete(`/v3/roles/${watcher}/implies/nope`, { token: admin })).status, 404);
  t.equal((await http.delete(`/v3/roles/${auditor}`, { token: admin })).status, 204);
  keystoneError(t, await http.get('/v3/auth/projects', { token: ann.token }), 401, 'deleting the role revokes what it granted');
  t.same((await http.get(`/v3/role_assignments?user.id=${u.id}`, { token: admin })).body.role_assignments, [], 'with its assignments');
});

t.test('regions, services and endpoints make the catalog', async (t) => {
  const builtIn = await http.get('/v3/services', { token: admin });
  t.same(builtIn.body.services.map((s: { type: string }) => s.type).sort(), ['compute', 'identity', 'image', 'network'], 'seeded at bootstrap');
  const computeEps = await http.get(`/v3/endpoints?service_id=${builtIn.body.services.find((s: { type: string }) => s.type === 'compute').id}`, { token: admin });
  t.same(computeEps.body.endpoints.map((e: { url: string }) => e.url), [`${http.base}/v2.1`, `${http.base}/v2.1`, `${http.base}/v2.1`], 'at this API’s base');

  t.equal((await http.post('/v3/regions', { token: admin, body: { region: { id: 'RegionTwo', description: 'the other one' } } })).status, 201);
  keystoneError(t, await http.post('/v3/regions', { token: admin, body: { region: { id: 'RegionTwo' } } }), 409, 'a taken region id');
  keystoneError(t, await http.post('/v3/regions', { token: admin, body: { region: { id: 'R3', parent_region_id: 'nowhere' } } }), 400, 'an unknown parent');
  const svc = await http.post('/v3/services', { token: admin, body: { service: { type: 'object-store', name: 'swift', description: 'objects' } } });
  t.equal(svc.status, 201);
  t.match(svc.body.service, { type: 'object-store', name: 'swift', enabled: true });
  keystoneError(t, await http.post('/v3/endpoints', { token: admin, body: { endpoint: { service_id: svc.body.service.id, interface: 'public', url: 'http://swift.example/v1', region_id: 'Nowhere' } } }), 400, 'an unknown region');
  keystoneError(t, await http.post('/v3/endpoints', { token: admin, body: { endpoint: { service_id: svc.body.service.id, interface: 'sideways', url: 'http://x' } } }), 400, 'an unknown interface');
  const ep = await http.post('/v3/endpoints', { token: admin, body: { endpoint: { service_id: svc.body.service.id, interface: 'public', url: 'http://swift.example/v1', region: 'RegionTwo' } } });
  t.equal(ep.status, 201);
  t.match(ep.body.endpoint, { interface: 'public', url: 'http://swift.example/v1', region_id: 'RegionTwo', region: 'RegionTwo', enabled: true });
  const member = await http.member(admin, 'cat-proj', 'cat', 'member');
  keystoneError(t, await http.post('/v3/services', { token: member.token, body: { service: { type: 'x' } } }), 403, 'members cannot add services');
  const cat = await http.get('/v3/auth/catalog', { token: member.token });
  const swift = cat.body.catalog.find((s: { type: string }) => s.type === 'object-store');
  t.match(swift, { name: 'swift', endpoints: [{ interface: 'public', region_id: 'RegionTwo', url: 'http://swift.example/v1' }] }, 'the new endpoint is in the catalog');
  const fresh = await tokenOf(auth(password({ name: 'cat', domain: { id: 'default' } }, member.password), { project: { name: 'cat-proj', domain: { id: 'default' } } }));
  t.ok(fresh.a.body.token.catalog.some((s: { type: string }) => s.type === 'object-store'), 'and in new tokens');
  keystoneError(t, await http.delete('/v3/regions/RegionTwo', { token: admin }), 409, 'a region with endpoints stays');
  t.equal((await http.patch(`/v3/services/${svc.body.service.id}`, { token: admin, body: { service: { enabled: false } } })).status, 200);
  t.notOk((await http.get('/v3/auth/catalog', { token: member.token })).body.catalog.some((s: { type: string }) => s.type === 'object-store'), 'a disabled service leaves the catalog');
  t.equal((await http.delete(`/v3/services/${svc.body.service.id}`, { token: admin })).status, 204);
  t.same((await http.get(`/v3/endpoints?service_id=${svc.body.service.id}`, { token: admin })).body.endpoints, [], 'its endpoints went with it');
  t.equal((await http.delete('/v3/regions/RegionTwo', { token: admin })).status, 204);
});

t.test('application credentials: secret once, restricted roles, no minting more, revoked on delete', async (t) => {
  const m = await http.member(admin, 'ac-proj', 'acu', 'member');
  const reader = await roleId('reader');
  const made = await http.post(`/v3/users/${m.userId}/application_credentials`, { token: m.token, body: { application_credential: { name: 'ci', roles: [{ name: 'reader' }] } } });
  t.equal(made.status, 201);
  t.match(made.body.application_credential, { name: 'ci', user_id: m.userId, project_id: m.projectId, unrestricted: false, expires_at: null, roles: [{ id: reader, name: 'reader' }] });
  t.type(made.body.application_credential.secret, 'string');
  const id = made.body.application_credential.id;
  const secret = made.body.application_credential.secret;
  t.notOk('secret' in (await http.get(`/v3/users/${m.userId}/application_credentials/${id}`, { token: m.token })).body.application_credential, 'the secret is shown only once');
  keystoneError(t, await http.post(`/v3/users/${m.userId}/application_credentials`, { token: m.token, body: { application_credential: { name: 'ci' } } }), 409, 'a taken name');
  keystoneError(t, await http.post(`/v3/users/${m.userId}/application_credentials`, { token: m.token, body: { application_credential: { name: 'up', roles: [{ name: 'admin' }] } } }), 404, 'a role the user lacks');
  keystoneError(t, await http.post(`/v3/users/${m.userId}/application_credentials`, { token: m.token, body: { application_credential: { name: 'old', expires_at: '2001-01-01T00:00:00Z' } } }), 400, 'an expiry in the past');
  keystoneError(t, await http.post(`/v3/users/${m.userId}/application_credentials`, { token: admin, body: { application_credential: { name: 'x' } } }), 403, 'not for another user, even by an admin');

  const byId = await tokenOf(auth({ methods: ['application_credential'], application_credential: { id, secret } }));
  t.equal(byId.a.status, 201);
  t.same(roleNames(byId.a), ['reader'], 'only the credential’s roles');
  t.same(byId.a.body.token.methods, ['application_credential']);
  t.match(byId.a.body.token, { project: { id: m.projectId }, application_credential: { id, name: 'ci', restricted: true } });
  const byName = await tokenOf(auth({ methods: ['application_credential'], application_credential: { name: 'ci', user: { name: 'acu', domain: { name: 'Default' } }, secret } }));
  t.equal(byName.a.status, 201, 'by name and user');
  keystoneError(t, (await tokenOf(auth({ methods: ['application_credential'], application_credential: { id, secret: 'wrong' } }))).a, 401, 'a wrong secret');
  t.equal((await http.post('/v2.1/servers', { token: byId.token, body: { server: { name: 's', flavorRef: '1', imageRef: 'x' } } })).status, 403, 'Nova sees a reader: no servers');
  keystoneError(t, await http.post(`/v3/users/${m.userId}/application_credentials`, { token: byId.token, body: { application_credential: { name: 'more' } } }), 403, 'a restricted credential cannot mint more');
  const child = await tokenOf(auth({ methods: ['token'], token: { id: byId.token } }));
  t.same(roleNames(child.a), ['reader'], 'a token from its token stays restricted');

  t.equal((await http.delete(`/v3/users/${m.userId}/application_credentials/${id}`, { token: m.token })).status, 204);
  keystoneError(t, await http.get('/v3/auth/projects', { token: byId.token }), 401, 'deleting it revokes its tokens');
  keystoneError(t, await http.get('/v3/auth/projects', { token: child.token }), 401, 'and their children');
  keystoneError(t, (await tokenOf(auth({ methods: ['application_credential'], application_credential: { id, secret } }))).a, 401, 'and it no longer authenticates');
  t.same((await http.get(`/v3/users/${m.userId}/application_credentials`, { token: m.token })).body.application_credentials, []);
});

t.test('system scope: the bootstrap admin has it; /v3/auth/system and /v3/auth/domains', async (t) => {
  const sys = await tokenOf(auth(password({ name: 'admin', domain: { id: 'default' } }, ADMIN_PASSWORD), { system: { all: true } }));
  t.equal(sys.a.status, 201);
  t.same(sys.a.body.token.system, { all: true });
  t.notOk('project' in sys.a.body.token);
  t.ok(roleNames(sys.a).includes('admin'));
  t.equal((await http.get('/v3/domains', { token: sys.token })).status, 200, 'a system admin administers identity');
  t.same((await http.get('/v3/auth/system', { token: admin })).body.system, [{ all: true }]);
  const m = await http.member(admin, 'sys-proj', 'sysu', 'member');
  t.same((await http.get('/v3/auth/system', { token: m.token })).body.system, [], 'a member has no system role');
  keystoneError(t, (await tokenOf(auth(password({ name: 'sysu', domain: { id: 'default' } }, m.password), { system: { all: true } }))).a, 401, 'so no system token');
  t.same((await http.get('/v3/auth/domains', { token: m.token })).body.domains, []);
  const dom = (await http.post('/v3/domains', { token: admin, body: { domain: { name: 'west' } } })).body.domain;
  t.equal((await http.put(`/v3/domains/${dom.id}/users/${m.userId}/roles/${await roleId('reader')}`, { token: admin })).status, 204);
  t.same((await http.get('/v3/auth/domains', { token: m.token })).body.domains.map((d: { name: string }) => d.name), ['west'], 'a domain role shows the domain');
  const sysAssignments = await http.get('/v3/role_assignments?scope.system=all', { token: admin });
  t.ok(sysAssignments.body.role_assignments.some((a: { scope: { system?: { all: boolean } } }) => a.scope.system?.all === true), 'scope.system=all');
  keystoneError(t, (await tokenOf(auth(password({ name: 'admin', domain: { id: 'default' } }, ADMIN_PASSWORD), { system: { all: false } }))).a, 400, 'system scope names all');
});

t.test('hostile input: Keystone’s 400s and 404s, never a 5xx', async (t) => {
  keystoneError(t, await http.get('/v3/role_assignments?scope.system=some', { token: admin }), 400, 'scope.system is all or nothing');
  keystoneError(t, (await tokenOf(auth({ methods: ['application_credential'], application_credential: { secret: 's' } }))).a, 400, 'an application credential names its id or its name and user');
  keystoneError(t, (await tokenOf(auth(password({ name: 'admin', domain: {} }, ADMIN_PASSWORD)))).a, 400, 'a domain names its id or name');
  keystoneError(t, await http.post('/v3/groups', { token: admin, body: { group: { name: 'x'.repeat(65) } } }), 400, 'an overlong name');
  keystoneError(t, await http.post('/v3/regions', { token: admin, body: { region: { id: 'a/b' } } }), 400, 'a region id with a slash');
  keystoneError(t, await http.post('/v3/endpoints', { token: admin, body: { endpoint: { service_id: 'nope', interface: 'public', url: 'http://x' } } }), 400, 'an unknown service');
  keystoneError(t, await http.put('/v3/projects/nope/groups/nope/roles/nope', { token: admin }), 404, 'a grant on nothing');
  keystoneError(t, await http.put(`/v3/system/users/nope/roles/${await roleId('reader')}`, { token: admin }), 404, 'a system grant to nobody');
  keystoneError(t, await http.patch('/v3/roles/nope', { token: admin, body: { role: { name: 'y' } } }), 404, 'an unknown role');
  keystoneError(t, await http.post('/v3/users/nope/application_credentials', { token: admin, body: { application_credential: { name: 'x', roles: 'all' } } }), 400, 'roles is a list');
  t.same(http.seen.filter((s) => s.status >= 500), [], 'no answer in this file was a 5xx');
});
