/**
 * The Networking REST layer alone: the api role with a stand-in for the network role that records
 * every NATS request it gets (subject, caller, idempotency key, body) and answers what each test
 * scripts. Checks what only this layer decides: routes, status codes, body keys, Neutron's fault
 * bodies, policy, paging links, bulk creates and their rollback, and that each call carries the
 * caller and the HTTP request id. What the role itself answers is test/api/network-rest.test.ts's.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { NetworkVerbs } from '../../protocols/catalog/network.js';
import { ConflictError } from '../../protocols/errors.js';
import { notFoundOf } from '../../protocols/network/errors.js';
import type { IncomingRequest } from '../../runtime/nats/bridge.js';
import { ADMIN_PASSWORD, Http, TEST_PASSWORD_HASH, type Answer } from '../harness/api-http.js';
import { startTestCluster } from '../harness/cluster.js';

// The api role only: the stand-in below is the only network role on this bus.
const { cluster } = await startTestCluster(t, { roles: ['api'], api: { adminPassword: ADMIN_PASSWORD, passwordHash: TEST_PASSWORD_HASH } });
const http = new Http(cluster.apiUrl!);
const base = `${cluster.apiUrl}/networking`;
const admin = await http.token('admin', ADMIN_PASSWORD, 'admin');
const member = await http.member(admin, 'net-project', 'net-member', 'member');
const reader = await http.member(admin, 'net-project', 'net-reader', 'reader');

interface Seen {
  kind: string;
  verb: string;
  key: string | undefined;
  body: any;
}
const seen: Seen[] = [];
type Script = (s: Seen) => unknown;

const DEFAULTS: Record<string, Script> = {
  create: (s) => ({ item: { id: randomUUID(), ...s.body.attrs } }),
  update: (s) => ({ item: { id: s.body.id, ...s.body.attrs } }),
  get: (s) => ({ item: { id: s.body.id } }),
  list: () => ({ items: [] }),
  delete: () => ({}),
  tags: (s) => ({ tags: s.body.tags ?? ['t1'] }),
  interface: (s) => ({ id: s.body.id, subnet_id: s.body.subnetId ?? null, port_id: s.body.portId ?? null }),
  quota: (s) => (s.body.action === 'list' ? { quotas: [] } : { quota: { network: 100, project_id: s.body.id } }),
  zones: () => ({ items: [{ name: 'nova', resource: 'network', state: 'available' }] }),
};
let script: Script | undefined;

cluster.client.bridge.serveFamily(cluster.subjects.networkAll, NetworkVerbs, (req: IncomingRequest) => {
  const s: Seen = { kind: req.subject.split('.').at(-2)!, verb: req.verb, key: req.envelope.idempotencyKey, body: req.envelope.body };
  seen.push(s);
  return (script ?? DEFAULTS[s.verb]!)(s);
});
// The subscription is on the server before the first request is sent.
await cluster.client.bridge.nc.flush();

/** Runs `fn` with the stand-in answering `with` (else its defaults) and answers what the role was asked. */
async function asked<T>(fn: () => Promise<T>, with_?: Script): Promise<{ result: T; calls: Seen[] }> {
  seen.length = 0;
  script = with_;
  try {
    const result = await fn();
    return { result, calls: [...seen] };
  } finally {
    script = undefined;
  }
}

const neutron = (a: Answer) => a.body?.NeutronError as { type: string; message: string; detail: string } | undefined;
const by = { projectId: member.projectId, userId: member.userId, isAdmin: false };

t.test('version discovery: /networking without a token, /networking/v2.0/ with one', async (t) => {
  const root = await http.get('/networking');
  t.equal(root.status, 200);
  t.same(root.body, { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${base}/v2.0/` }] }] });
  t.match(root.headers.get('x-openstack-request-id'), /^req-[0-9a-f-]{36}$/);
  const v2 = await http.get('/networking/v2.0/', { token: member.token });
  t.equal(v2.status, 200);
  t.same(v2.body.resources.map((r: { name: string; collection: string }) => [r.name, r.collection]), [['network', 'networks'], ['subnet', 'subnets'], ['port', 'ports']]);
  t.equal(v2.body.resources[0].links[0].href, `${base}/v2.0/networks`);
  const anonymous = await http.get('/networking/v2.0/networks');
  t.equal(anonymous.status, 401);
  t.equal(neutron(anonymous)?.type, 'HTTPUnauthorized');
});

t.test('Neutron fault bodies for unknown paths, wrong methods and malformed JSON', async (t) => {
  const { result: unknown, calls } = await asked(() => http.get('/networking/v2.0/idonotexist', { token: member.token }));
  t.equal(unknown.status, 404);
  t.same(unknown.body, { NeutronError: { type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' } });
  t.same(calls, [], 'nothing reached the role');
  const patch = await http.patch(`/networking/v2.0/networks/${randomUUID()}`, { token: member.token, body: { network: {} } });
  t.equal(patch.status, 405);
  t.equal(neutron(patch)?.type, 'HTTPMethodNotAllowed');
  t.match(patch.headers.get('allow'), /DELETE.*GET.*PUT/);
  const getAction = await http.get(`/networking/v2.0/routers/${randomUUID()}/add_router_interface`, { token: member.token });
  t.equal(getAction.status, 405, 'a member action is PUT only');
  const bad = await http.post('/networking/v2.0/networks', { token: member.token, raw: '{"network": ', headers: { 'Content-Type': 'application/json' } });
  t.equal(bad.status, 400);
  t.same(bad.body, { NeutronError: { type: 'HTTPBadRequest', message: 'Body contains invalid data', detail: '' } });
  const compute = await http.get('/v2.1/idonotexist', { token: member.token });
  t.ok(compute.body.itemNotFound, 'compute paths keep Nova’s fault body');
});

t.test('create: 201 with the role’s view; the caller and the request id travel with it', async (t) => {
  const { result: a, calls } = await asked(() => http.post('/networking/v2.0/networks', { token: member.token, body: { network: { name: 'n1', shared: true } } }));
  t.equal(a.status, 201);
  t.equal(a.body.network.name, 'n1');
  t.same(calls, [{ kind: 'network', verb: 'create', key: a.headers.get('x-openstack-request-id'), body: { by, attrs: { name: 'n1', shared: true } } }], 'attributes as sent: the role checks them');
  const { result: sg, calls: sgCalls } = await asked(() => http.post('/networking/v2.0/security-groups', { token: member.token, body: { security_group: { name: 'web' } } }));
  t.equal(sg.status, 201);
  t.equal(sg.body.security_group.name, 'web');
  t.equal(sgCalls[0]!.kind, 'security_group', 'the URL segment names the kind');
});

t.test('bulk create: in order, one key each, answered as the collection', async (t) => {
  const { result: a, calls } = await asked(() => http.post('/networking/v2.0/ports', { token: member.token, body: { ports: [{ name: 'p0' }, { port: { name: 'p1' } }] } }));
  t.equal(a.status, 201);
  t.same(a.body.ports.map((p: { name: string }) => p.name), ['p0', 'p1']);
  const rid = a.headers.get('x-openstack-request-id');
  t.same(calls.map((c) => [c.verb, c.key, c.body.attrs.name]), [['create', `${rid}:0`, 'p0'], ['create', `${rid}:1`, 'p1']]);
});

t.test('bulk create is all or nothing: a failure deletes what was made, then is answered', async (t) => {
  let made = 0;
  const { result: a, calls } = await asked(
    () => http.post('/networking/v2.0/networks', { token: member.token, body: { networks: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } }),
    (s) => {
      if (s.verb === 'delete') return {};
      if (++made === 2) throw new ConflictError('Quota exceeded for resources: [\'network\'].', { type: 'OverQuota' });
      return { item: { id: `id-${made}`, name: s.body.attrs.name } };
    },
  );
  t.equal(a.status, 409);
  t.same(a.body, { NeutronError: { type: 'OverQuota', message: 'Quota exceeded for resources: [\'network\'].', detail: '' } });
  const rid = a.headers.get('x-openstack-request-id');
  t.same(calls.map((c) => [c.verb, c.key]), [['create', `${rid}:0`], ['create', `${rid}:1`], ['delete', `${rid}:undo:0`]], 'the third never asked, the first undone');
  t.equal(calls[2]!.body.id, 'id-1');
});

t.test('create and update bodies Neutron refuses never reach the role', async (t) => {
  const cases: [string, unknown, string][] = [
    ['POST', {}, "Unable to find 'network' in request body"],
    ['POST', [1, 2, 3], 'Body contains invalid data'],
    ['POST', { networks: [] }, 'Resources required'],
    ['POST', { network: 'x' }, "Object 'network' contains invalid data"],
    ['PUT', { networks: [{ name: 'x' }] }, 'Bulk operation not supported'],
  ];
  const id = randomUUID();
  for (const [method, body, message] of cases) {
    const { result: a, calls } = await asked(() => http.call(method, method === 'POST' ? '/networking/v2.0/networks' : `/networking/v2.0/networks/${id}`, { token: member.token, body }));
    t.equal(a.status, 400, `${method} ${JSON.stringify(body)}`);
    t.same(neutron(a), { type: 'HTTPBadRequest', message, detail: '' });
    t.same(calls, []);
  }
  const empty = await http.post('/networking/v2.0/networks', { token: member.token });
  t.equal(neutron(empty)?.message, "Unable to find 'network' in request body", 'no body at all');
});

t.test('show, update, delete: status codes, body keys, the role’s typed errors', async (t) => {
  const id = randomUUID();
  const { result: shown, calls } = await asked(() => http.get(`/networking/v2.0/subnets/${id}?fields=id&fields=cidr&name=x`, { token: member.token }));
  t.equal(shown.status, 200);
  t.same(shown.body, { subnet: { id } });
  t.same(calls[0], { kind: 'subnet', verb: 'get', key: undefined, body: { by, id, query: { fields: ['id', 'cidr'] } } }, 'a show passes only `fields`');
  const { result: put, calls: putCalls } = await asked(() => http.put(`/networking/v2.0/routers/${id}`, { token: member.token, body: { router: { name: 'r2' } } }));
  t.equal(put.status, 200);
  t.same(put.body, { router: { id, name: 'r2' } });
  t.same(putCalls[0], { kind: 'router', verb: 'update', key: put.headers.get('x-openstack-request-id'), body: { by, id, attrs: { name: 'r2' } } });
  const { result: del, calls: delCalls } = await asked(() => http.delete(`/networking/v2.0/floatingips/${id}`, { token: member.token }));
  t.equal(del.status, 204);
  t.equal(del.text, '');
  t.same(delCalls[0], { kind: 'floatingip', verb: 'delete', key: del.headers.get('x-openstack-request-id'), body: { by, id } });
  const withBody = await http.delete(`/networking/v2.0/floatingips/${id}`, { token: member.token, body: { floatingip: {} } });
  t.equal(neutron(withBody)?.message, 'Request body is not supported in DELETE.');
  const { result: missing } = await asked(() => http.get(`/networking/v2.0/networks/${id}`, { token: member.token }), (s) => { throw notFoundOf('network', s.body.id); });
  t.equal(missing.status, 404);
  t.same(missing.body, { NeutronError: { type: 'NetworkNotFound', message: `Network ${id} could not be found.`, detail: '' } }, 'the type crosses NATS');
  const long = await http.get(`/networking/v2.0/ports/${'a'.repeat(300)}`, { token: member.token });
  t.equal(neutron(long)?.type, 'PortNotFound', 'an id longer than any is not found');
});

t.test('a role failure is a 500 that tells nothing of its cause', async (t) => {
  const { result: a } = await asked(() => http.get('/networking/v2.0/networks', { token: member.token }), () => { throw new Error('relation "net_rows" does not exist'); });
  t.equal(a.status, 500);
  t.equal(neutron(a)?.type, 'HTTPInternalServerError');
  t.notMatch(a.text, /relation|net_rows/);
  t.equal(a.body.NeutronError.request_id, a.headers.get('x-openstack-request-id'));
});

t.test('list: the query as sent, the collection key, paging links when the role cut the list', async (t) => {
  const items = [{ id: 'p1' }, { id: 'p2' }];
  const { result: a, calls } = await asked(
    () => http.get('/networking/v2.0/ports?network_id=n1&fields=id&fields=name&limit=2&marker=p0', { token: member.token }),
    () => ({ items, next: 'p2', previous: 'p1' }),
  );
  t.equal(a.status, 200);
  t.same(a.body.ports, items);
  t.same(calls[0]!.body, { by, query: { network_id: 'n1', fields: ['id', 'name'], limit: '2', marker: 'p0' } });
  t.same(a.body.ports_links, [
    { rel: 'next', href: `${base}/v2.0/ports?network_id=n1&fields=id&fields=name&limit=2&marker=p2` },
    { rel: 'previous', href: `${base}/v2.0/ports?network_id=n1&fields=id&fields=name&limit=2&marker=p1&page_reverse=True` },
  ]);
  const { result: whole } = await asked(() => http.get('/networking/v2.0/security-group-rules', { token: member.token }), () => ({ items }));
  t.same(whole.body, { security_group_rules: items }, 'no links when the role gave none');
  const huge = await http.get(`/networking/v2.0/ports?name=${'x'.repeat(1100)}`, { token: member.token });
  t.equal(huge.status, 400, 'a value the catalog cannot carry is the client’s 400');
  t.equal(neutron(huge)?.type, 'HTTPBadRequest');
});

t.test('policy: a reader reads; writing is refused as Neutron refuses it', async (t) => {
  const { result: list, calls } = await asked(() => http.get('/networking/v2.0/networks', { token: reader.token }));
  t.equal(list.status, 200);
  t.same(calls[0]!.body.by, { projectId: reader.projectId, userId: reader.userId, isAdmin: false });
  const { result: post, calls: none } = await asked(() => http.post('/networking/v2.0/networks', { token: reader.token, body: { network: { name: 'x' } } }));
  t.equal(post.status, 403);
  t.same(post.body, { NeutronError: { type: 'PolicyNotAuthorized', message: '(rule:create_network) is disallowed by policy', detail: '' } });
  t.same(none, []);
  const del = await http.delete(`/networking/v2.0/ports/${randomUUID()}`, { token: reader.token });
  t.equal(neutron(del)?.message, '(rule:delete_port) is disallowed by policy');
  const { calls: adminCalls } = await asked(() => http.get('/networking/v2.0/networks', { token: admin }));
  t.equal(adminCalls[0]!.body.by.isAdmin, true, 'the role learns who is admin');
});

t.test('tags: list, replace, add, check, remove, clear', async (t) => {
  const id = randomUUID();
  const url = `/networking/v2.0/networks/${id}/tags`;
  const { result: list, calls } = await asked(() => http.get(url, { token: member.token }));
  t.same([list.status, list.body], [200, { tags: ['t1'] }]);
  t.same(calls[0]!.body, { by, id, action: 'list' });
  const { result: put, calls: putCalls } = await asked(() => http.put(url, { token: member.token, body: { tags: ['a', 'b'] } }));
  t.same([put.status, put.body], [200, { tags: ['a', 'b'] }]);
  t.same(putCalls[0], { kind: 'network', verb: 'tags', key: put.headers.get('x-openstack-request-id'), body: { by, id, action: 'set', tags: ['a', 'b'] } });
  const { result: add, calls: addCalls } = await asked(() => http.put(`${url}/red`, { token: member.token }));
  t.same([add.status, add.text], [201, '']);
  t.same(addCalls[0]!.body, { by, id, action: 'add', tags: ['red'] });
  const { result: has } = await asked(() => http.get(`${url}/red`, { token: member.token }), () => ({ tags: ['red'] }));
  t.equal(has.status, 204);
  const { result: hasNot } = await asked(() => http.get(`${url}/blue`, { token: member.token }), () => ({ tags: ['red'] }));
  t.equal(hasNot.status, 404);
  t.same(neutron(hasNot), { type: 'TagNotFound', message: 'Tag blue could not be found.', detail: '' });
  const { result: rm, calls: rmCalls } = await asked(() => http.delete(`${url}/red`, { token: member.token }));
  t.equal(rm.status, 204);
  t.same(rmCalls[0]!.body, { by, id, action: 'remove', tags: ['red'] });
  const { result: clear, calls: clearCalls } = await asked(() => http.delete(url, { token: member.token }));
  t.equal(clear.status, 204);
  t.same(clearCalls[0]!.body, { by, id, action: 'set', tags: [] });
  const { result: bad, calls: badCalls } = await asked(() => http.put(url, { token: member.token, body: { tags: ['a', 'a'] } }));
  t.equal(neutron(bad)?.type, 'InvalidInput');
  t.same(badCalls, []);
  const tooLong = await http.put(`${url}/${'x'.repeat(256)}`, { token: member.token });
  t.equal(neutron(tooLong)?.type, 'InvalidInput');
  t.equal((await http.get(`/networking/v2.0/security-group-rules/${id}/tags`, { token: member.token })).status, 404, 'rules take no tags');
  const sgTags = await asked(() => http.get(`/networking/v2.0/security-groups/${id}/tags`, { token: member.token }));
  t.equal(sgTags.calls[0]!.kind, 'security_group');
});

t.test('router interfaces: add and remove by subnet or port, the role’s answer as is', async (t) => {
  const router = randomUUID();
  const subnet = randomUUID();
  const { result: add, calls } = await asked(() => http.put(`/networking/v2.0/routers/${router}/add_router_interface`, { token: member.token, body: { subnet_id: subnet } }));
  t.equal(add.status, 200);
  t.same(add.body, { id: router, subnet_id: subnet, port_id: null });
  t.same(calls[0], { kind: 'router', verb: 'interface', key: add.headers.get('x-openstack-request-id'), body: { by, id: router, action: 'add', subnetId: subnet } });
  const port = randomUUID();
  const { calls: rmCalls } = await asked(() => http.put(`/networking/v2.0/routers/${router}/remove_router_interface`, { token: member.token, body: { port_id: port, subnet_id: subnet } }));
  t.same(rmCalls[0]!.body, { by, id: router, action: 'remove', subnetId: subnet, portId: port });
  const both = await http.put(`/networking/v2.0/routers/${router}/add_router_interface`, { token: member.token, body: { port_id: port, subnet_id: subnet } });
  t.same(neutron(both), { type: 'BadRequest', message: 'Bad router request: Cannot specify both subnet-id and port-id.', detail: '' });
  const notUuid = await http.put(`/networking/v2.0/routers/${router}/add_router_interface`, { token: member.token, body: { subnet_id: 'abc' } });
  t.equal(neutron(notUuid)?.message, "Bad router request: 'abc' is not a valid UUID.");
});

t.test('extensions: the list, one by alias, an unknown alias', async (t) => {
  const list = await http.get('/networking/v2.0/extensions', { token: reader.token });
  t.equal(list.status, 200);
  const az = list.body.extensions.find((e: { alias: string }) => e.alias === 'availability_zone');
  t.same(az, { name: 'Availability Zone', alias: 'availability_zone', description: 'The availability zone extension.', updated: '2015-01-01T10:00:00-00:00', links: [] });
  const one = await http.get('/networking/v2.0/extensions/security-group', { token: reader.token });
  t.equal(one.body.extension.name, 'security-group');
  // The openstack CLI asks by name first (a 404), then finds it in the list.
  const byName = await http.get('/networking/v2.0/extensions/Availability%20Zone', { token: reader.token });
  t.equal(byName.status, 404);
  t.same(neutron(byName), { type: 'HTTPNotFound', message: 'Extension with alias Availability Zone does not exist', detail: '' });
});

t.test('availability zones: the role’s zones under Neutron’s key', async (t) => {
  const { result: a, calls } = await asked(() => http.get('/networking/v2.0/availability_zones?resource=network', { token: member.token }));
  t.equal(a.status, 200);
  t.same(a.body, { availability_zones: [{ name: 'nova', resource: 'network', state: 'available' }] });
  t.same(calls[0], { kind: 'zone', verb: 'zones', key: undefined, body: { by, query: { resource: 'network' } } });
});

t.test('quotas: admins change them; reads per project; the role’s bodies pass through', async (t) => {
  const project = member.projectId;
  const { result: mine, calls } = await asked(() => http.get(`/networking/v2.0/quotas/${project}`, { token: member.token }));
  t.same([mine.status, mine.body], [200, { quota: { network: 100, project_id: project } }]);
  t.same(calls[0]!.body, { by, action: 'get', id: project });
  for (const [suffix, action] of [['/details', 'details'], ['/default', 'default']]) {
    const { calls: c } = await asked(() => http.get(`/networking/v2.0/quotas/${project}${suffix}`, { token: member.token }));
    t.equal(c[0]!.body.action, action);
  }
  const { result: all, calls: listCalls } = await asked(() => http.get('/networking/v2.0/quotas', { token: admin }));
  t.same([all.status, all.body], [200, { quotas: [] }]);
  t.equal(listCalls[0]!.body.action, 'list');
  const memberList = await http.get('/networking/v2.0/quotas', { token: member.token });
  t.equal(memberList.status, 403);
  t.same(neutron(memberList), { type: 'AdminRequired', message: 'User does not have admin privileges: Only admin can view or configure quota.', detail: '' });
  const { result: set, calls: setCalls } = await asked(() => http.put(`/networking/v2.0/quotas/${project}`, { token: admin, body: { quota: { network: '5', port: 50 } } }));
  t.equal(set.status, 200);
  t.same(setCalls[0], { kind: 'quota', verb: 'quota', key: set.headers.get('x-openstack-request-id'), body: { by: setCalls[0]!.body.by, action: 'set', id: project, limits: { network: 5, port: 50 } } });
  const memberSet = await http.put(`/networking/v2.0/quotas/${project}`, { token: member.token, body: { quota: { network: 5 } } });
  t.equal(neutron(memberSet)?.message, '(rule:update_quota) is disallowed by policy');
  const badValue = await http.put(`/networking/v2.0/quotas/${project}`, { token: admin, body: { quota: { network: -5 } } });
  t.equal(badValue.status, 400);
  const { result: reset, calls: resetCalls } = await asked(() => http.delete(`/networking/v2.0/quotas/${project}`, { token: admin }));
  t.equal(reset.status, 204);
  t.equal(resetCalls[0]!.body.action, 'reset');
});

t.test('Neutron’s `.json` suffix', async (t) => {
  const id = randomUUID();
  const { result: list, calls } = await asked(() => http.get('/networking/v2.0/networks.json?name=a', { token: member.token }));
  t.same([list.status, list.body], [200, { networks: [] }]);
  t.same(calls[0]!.body.query, { name: 'a' });
  const { result: one } = await asked(() => http.get(`/networking/v2.0/ports/${id}.json`, { token: member.token }));
  t.same(one.body, { port: { id } });
});

