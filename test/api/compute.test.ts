/**
 * Compute v2.1 over HTTP against a running cluster: the server lifecycle, listings with filters and
 * paging, views by microversion, metadata, actions and their records, and project isolation (a
 * member of project A sees a 404 for project B's server; a reader cannot change anything).
 */
import t from 'tap';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { UPTIME_LINE } from '../../hosts/uptime-line.js';
import { startApiCluster } from '../harness/api-http.js';
import { waitFor } from '../harness/poll.js';

// compute-2's driver cannot tell its uptime, as Nova's drivers but libvirt's and z/VM's.
const { cluster, http, admin } = await startApiCluster(t, {
  hosts: [1, 2].map((i) => ({ name: `compute-${i}`, driver: new FakeDriver({ hostname: `compute-${i}`, reportsUptime: i === 1 }) })),
});
const image = (await cluster.client.listImages())[0]!;
const a = await http.member(admin, 'project-a', 'alice', 'member');
const b = await http.member(admin, 'project-b', 'bob', 'member');
const reader = await http.member(admin, 'project-a', 'rita', 'reader');

const boot = async (token: string, name: string, extra: Record<string, unknown> = {}) => {
  const r = await http.post('/v2.1/servers', { token, body: { server: { name, flavorRef: '1', imageRef: image.id, ...extra } } });
  if (r.status !== 202) throw new Error(`boot ${name}: ${r.status} ${r.text}`);
  return r;
};
const active = (id: string) => cluster.client.waitForServer(id, (s) => s.status === 'ACTIVE' && s.taskState === null);

t.test('create answers 202 with id, links, adminPass and Location; the server goes BUILD → ACTIVE', async (t) => {
  const r = await boot(a.token, 'web-1', { metadata: { role: 'web' }, networks: 'none' });
  const s = r.body.server;
  t.match(s.id, /^[0-9a-f-]{36}$/);
  t.ok(s.adminPass, 'adminPass');
  t.same(s.security_groups, [{ name: 'default' }]);
  t.equal(s.links[0].href, `${cluster.apiUrl}/v2.1/servers/${s.id}`);
  t.equal(r.headers.get('location'), s.links[0].href);
  const first = await http.get(`/v2.1/servers/${s.id}`, { token: a.token });
  t.ok(['BUILD', 'ACTIVE'].includes(first.body.server.status));
  await active(s.id);
  const shown = (await http.get(`/v2.1/servers/${s.id}`, { token: a.token })).body.server;
  t.equal(shown.status, 'ACTIVE');
  t.equal(shown['OS-EXT-STS:vm_state'], 'active');
  t.equal(shown['OS-EXT-STS:power_state'], 1);
  t.equal(shown.tenant_id, a.projectId);
  t.equal(shown.user_id, a.userId);
  t.same(shown.metadata, { role: 'web' });
  t.match(shown.hostId, /^[0-9a-f]{56}$/);
  t.same(shown.flavor, { id: '1', links: [{ rel: 'bookmark', href: `${cluster.apiUrl}/flavors/1` }] }, 'a flavor link at 2.1');
  t.notOk('OS-EXT-SRV-ATTR:host' in shown, 'host attributes are an admin’s');
  const asAdmin = (await http.get(`/v2.1/servers/${s.id}`, { token: admin })).body.server;
  t.match(asAdmin['OS-EXT-SRV-ATTR:host'], /^compute-\d$/);
  const v47 = (await http.get(`/v2.1/servers/${s.id}`, { token: a.token, headers: { 'OpenStack-API-Version': 'compute 2.47' } })).body.server;
  t.same(v47.flavor, { vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, original_name: 'm1.tiny', extra_specs: {} }, 'an embedded flavor from 2.47');
  t.equal(v47.locked, false, 'locked from 2.9');
  t.same(v47.tags, [], 'tags from 2.26');
  t.notOk('locked' in shown);
});

t.test('project isolation: another project’s server is a 404 everywhere; all_tenants is an admin’s', async (t) => {
  const mine = (await boot(b.token, 'bob-1')).body.server.id;
  await active(mine);
  for (const [method, path, body] of [
    ['GET', `/v2.1/servers/${mine}`, undefined],
    ['PUT', `/v2.1/servers/${mine}`, { server: { name: 'stolen' } }],
    ['DELETE', `/v2.1/servers/${mine}`, undefined],
    ['POST', `/v2.1/servers/${mine}/action`, { 'os-stop': null }],
    ['GET', `/v2.1/servers/${mine}/metadata`, undefined],
    ['GET', `/v2.1/servers/${mine}/os-instance-actions`, undefined],
  ] as const) {
    const r = await http.call(method, path, { token: a.token, ...(body ? { body } : {}) });
    t.equal(r.status, 404, `${method} ${path} from project A`);
    t.equal(r.body.itemNotFound.message, `Instance ${mine} could not be found.`, 'the same answer as for a missing server');
  }
  const listA = (await http.get('/v2.1/servers', { token: a.token })).body.servers.map((s: { id: string }) => s.id);
  t.notOk(listA.includes(mine), 'A’s listing leaves B’s server out');
  const all = await http.get('/v2.1/servers?all_tenants=1', { token: a.token });
  t.equal(all.status, 403);
  t.match(all.body.forbidden.message, /get_all_tenants/);
  const everything = (await http.get('/v2.1/servers/detail?all_tenants=True', { token: admin })).body.servers.map((s: { id: string }) => s.id);
  t.ok(everything.includes(mine) && everything.length >= 2, 'the admin sees every project');
  const onlyB = (await http.get(`/v2.1/servers/detail?all_tenants=1&project_id=${b.projectId}`, { token: admin })).body.servers;
  t.ok(onlyB.every((s: { tenant_id: string }) => s.tenant_id === b.projectId));
  t.equal((await http.get(`/v2.1/servers/${mine}`, { token: b.token })).status, 200, 'its owner sees it');
});

t.test('a reader reads but cannot change anything (403)', async (t) => {
  const list = await http.get('/v2.1/servers/detail', { token: reader.token });
  t.equal(list.status, 200);
  const someone = list.body.servers[0];
  t.ok(someone, 'the reader sees project A’s servers');
  const attempts = [
    ['POST', '/v2.1/servers', { server: { name: 'r', flavorRef: '1', imageRef: image.id } }],
    ['PUT', `/v2.1/servers/${someone.id}`, { server: { name: 'r' } }],
    ['POST', `/v2.1/servers/${someone.id}/action`, { 'os-stop': null }],
    ['DELETE', `/v2.1/servers/${someone.id}`, undefined],
    ['PUT', `/v2.1/servers/${someone.id}/metadata`, { metadata: {} }],
    ['POST', '/v2.1/os-keypairs', { keypair: { name: 'r' } }],
    ['POST', '/image/v2/images', { name: 'r' }],
  ] as const;
  for (const [method, path, body] of attempts) {
    const r = await http.call(method, path, { token: reader.token, ...(body ? { body } : {}) });
    t.equal(r.status, 403, `${method} ${path}`);
    t.match(r.body.forbidden.message, /^Policy doesn't allow .* to be performed\.$/);
  }
  t.equal((await http.get(`/v2.1/servers/${someone.id}`, { token: reader.token })).body.server.name, someone.name, 'nothing changed');
});

t.test('admin-only calls are 403 for members', async (t) => {
  for (const [method, path, body] of [
    ['GET', '/v2.1/os-hypervisors', undefined],
    ['GET', '/v2.1/os-services', undefined],
    ['POST', '/v2.1/flavors', { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 0 } }],
    ['PUT', `/v2.1/os-quota-sets/${a.projectId}`, { quota_set: { instances: 100 } }],
    ['GET', `/v2.1/os-quota-sets/${b.projectId}`, undefined],
    ['GET', '/v2.1/os-availability-zone/detail', undefined],
  ] as const) {
    t.equal((await http.call(method, path, { token: a.token, ...(body ? { body } : {}) })).status, 403, `${method} ${path}`);
  }
});

t.test('listing: filters, detail, paging with servers_links', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await boot(a.token, `page-${i}`)).body.server.id);
  await Promise.all(ids.map(active));
  const byName = await http.get('/v2.1/servers?name=^page-[0-9]$', { token: a.token });
  t.equal(byName.body.servers.length, 5, 'name is a regular expression');
  t.same(Object.keys(byName.body.servers[0]).sort(), ['id', 'links', 'name']);
  const pageOne = await http.get('/v2.1/servers?name=page&limit=2', { token: a.token });
  t.equal(pageOne.body.servers.length, 2);
  const next = pageOne.body.servers_links[0];
  t.equal(next.rel, 'next');
  const nextUrl = new URL(next.href);
  t.equal(nextUrl.searchParams.get('marker'), pageOne.body.servers[1].id);
  const seen = [...pageOne.body.servers];
  let href: string | undefined = next.href;
  while (href) {
    const page = await http.get(href.slice(cluster.apiUrl!.length), { token: a.token });
    seen.push(...page.body.servers);
    href = page.body.servers_links?.[0]?.href;
  }
  t.equal(seen.length, 5, 'paging visits every server once');
  t.equal(new Set(seen.map((s) => s.id)).size, 5);
  t.same(seen.map((s) => s.name), ['page-4', 'page-3', 'page-2', 'page-1', 'page-0'], 'newest first');
  const shutoff = await http.get('/v2.1/servers/detail?status=SHUTOFF', { token: a.token });
  t.same(shutoff.body.servers, []);
  const act = await http.get('/v2.1/servers/detail?status=ACTIVE&name=page', { token: a.token });
  t.equal(act.body.servers.length, 5);
  t.equal((await http.get('/v2.1/servers/detail?status=NONSENSE', { token: a.token })).body.servers.length, 0, 'an unknown status matches nothing');
  t.equal((await http.get('/v2.1/servers?ip=10.0.0.1', { token: a.token })).body.servers.length, 0, 'no server has an address');
  const hostOf = (await http.get(`/v2.1/servers/${ids[0]}`, { token: admin })).body.server['OS-EXT-SRV-ATTR:host'];
  const onHost = await http.get(`/v2.1/servers/detail?all_tenants=1&host=${hostOf}`, { token: admin });
  t.ok(onHost.body.servers.length >= 1 && onHost.body.servers.every((s: Record<string, string>) => s['OS-EXT-SRV-ATTR:host'] === hostOf));
  const hostIgnored = await http.get(`/v2.1/servers?host=nowhere&name=page`, { token: a.token });
  t.equal(hostIgnored.body.servers.length, 5, 'host is an admin-only filter: ignored for members, as Nova');

  const since = new Date().toISOString();
  t.equal((await http.delete(`/v2.1/servers/${ids[0]}`, { token: a.token })).status, 204);
  await cluster.client.waitForServer(ids[0]!, (s) => s.status === 'DELETED');
  const changed = await http.get(`/v2.1/servers/detail?changes-since=${encodeURIComponent(since)}`, { token: a.token });
  const gone = changed.body.servers.find((s: { id: string }) => s.id === ids[0]);
  t.equal(gone?.status, 'DELETED', 'changes-since includes deleted servers');
  t.equal((await http.get(`/v2.1/servers/${ids[0]}`, { token: a.token })).status, 404);
});

t.test('rename, metadata calls, actions and their records', async (t) => {
  const id = (await boot(a.token, 'meta')).body.server.id;
  await active(id);
  const renamed = await http.put(`/v2.1/servers/${id}`, { token: a.token, body: { server: { name: 'meta-2' } } });
  t.equal(renamed.status, 200);
  t.equal(renamed.body.server.name, 'meta-2');
  // Nova's update answer has no extension attributes before 2.75 (Tempest's schema refuses them).
  t.notOk('OS-EXT-STS:vm_state' in renamed.body.server || 'key_name' in renamed.body.server, 'no extended attributes at 2.1');
  const at75 = await http.put(`/v2.1/servers/${id}`, { token: a.token, body: { server: { name: 'meta-2' } }, headers: { 'OpenStack-API-Version': 'compute 2.75' } });
  t.equal(at75.body.server['OS-EXT-STS:vm_state'], 'active', 'all of them from 2.75');
  const v6 = await http.put(`/v2.1/servers/${id}`, { token: a.token, body: { server: { accessIPv6: '0000:0000:0000:0000:0000:babe:220.12.22.2' } } });
  t.equal(v6.body.server.accessIPv6, '::babe:dc0c:1602', 'IPv6 in its canonical form, as Nova (netaddr) answers it');
  t.equal((await http.put(`/v2.1/servers/${id}`, { token: a.token, body: { server: { accessIPv4: '1.2.3' } } })).status, 400, 'an access address must be one');
  const m = `/v2.1/servers/${id}/metadata`;
  t.same((await http.put(m, { token: a.token, body: { metadata: { a: '1', b: '2' } } })).body, { metadata: { a: '1', b: '2' } });
  t.same((await http.post(m, { token: a.token, body: { metadata: { c: '3' } } })).body, { metadata: { a: '1', b: '2', c: '3' } });
  t.same((await http.get(`${m}/b`, { token: a.token })).body, { meta: { b: '2' } });
  t.same((await http.put(`${m}/b`, { token: a.token, body: { meta: { b: '20' } } })).body, { meta: { b: '20' } });
  t.equal((await http.put(`${m}/b`, { token: a.token, body: { meta: { x: '1' } } })).status, 400, 'URI and body must agree');
  t.equal((await http.delete(`${m}/a`, { token: a.token })).status, 204);
  t.equal((await http.delete(`${m}/a`, { token: a.token })).status, 404);
  t.same((await http.get(m, { token: a.token })).body, { metadata: { b: '20', c: '3' } });
  const tooMany = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
  const over = await http.put(m, { token: a.token, body: { metadata: tooMany } });
  t.equal(over.status, 403, 'more items than metadata_items: 403, as Nova');
  t.match(over.text, /metadata_items/);
  t.same((await http.get(m, { token: a.token })).body, { metadata: { b: '20', c: '3' } }, 'unchanged');

  const act = (body: unknown) => http.post(`/v2.1/servers/${id}/action`, { token: a.token, body });
  const stop = await act({ 'os-stop': null });
  t.equal(stop.status, 202);
  t.equal(stop.text, '', 'an accepted action has no body');
  await cluster.client.waitForServer(id, (s) => s.status === 'SHUTOFF' && s.taskState === null);
  t.equal((await http.get(`/v2.1/servers/${id}`, { token: a.token })).body.server.status, 'SHUTOFF');
  t.equal((await act({ 'os-start': null })).status, 202);
  await active(id);
  t.equal((await act({ reboot: { type: 'HARD' } })).status, 202);
  await active(id);
  const soft = await act({ reboot: { type: 'soft' } });
  t.equal(soft.status, 202);
  await active(id);

  const actions = await http.get(`/v2.1/servers/${id}/os-instance-actions`, { token: a.token });
  t.same(actions.body.instanceActions.map((x: { action: string }) => x.action), ['reboot', 'reboot', 'start', 'stop', 'create']);
  const stopRecord = actions.body.instanceActions.find((x: { action: string }) => x.action === 'stop');
  t.equal(stopRecord.request_id, stop.headers.get('x-openstack-request-id'), 'recorded under the request id the caller saw');
  t.equal(stopRecord.project_id, a.projectId);
  t.equal(stopRecord.user_id, a.userId);
  const one = await http.get(`/v2.1/servers/${id}/os-instance-actions/${stopRecord.request_id}`, { token: a.token, headers: { 'OpenStack-API-Version': 'compute 2.62' } });
  t.equal(one.body.instanceAction.events[0].result, 'Success');
  t.ok(one.body.instanceAction.updated_at, 'updated_at from 2.58');
  t.equal((await http.get(`/v2.1/servers/${id}/os-instance-actions/req-nope`, { token: a.token })).status, 404);
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: a.token })).status, 204);
});

t.test('multi-create with min_count/max_count names the servers <name>-<n>', async (t) => {
  const r = await boot(b.token, 'multi', { min_count: 2, max_count: 2 });
  const mine = await http.get('/v2.1/servers?name=^multi-', { token: b.token });
  t.same(mine.body.servers.map((s: { name: string }) => s.name).sort(), ['multi-1', 'multi-2']);
  t.ok(mine.body.servers.some((s: { id: string }) => s.id === r.body.server.id), 'the answer names the first');
});

t.test('flavors: list, detail, show by microversion, admin create/delete and extra specs', async (t) => {
  const list = await http.get('/v2.1/flavors', { token: a.token });
  t.same(list.body.flavors.map((f: { id: string }) => f.id), ['1', '2', '3', '4', '5'], 'sorted by id');
  const small = await http.get('/v2.1/flavors/detail?minRam=4096', { token: a.token });
  t.same(small.body.flavors.map((f: { name: string }) => f.name), ['m1.medium', 'm1.large', 'm1.xlarge']);
  const paged = await http.get('/v2.1/flavors?limit=2&marker=2', { token: a.token });
  t.same(paged.body.flavors.map((f: { id: string }) => f.id), ['3', '4']);
  const v21 = (await http.get('/v2.1/flavors/1', { token: a.token })).body.flavor;
  t.equal(v21.swap, '');
  t.notOk('extra_specs' in v21);
  const v75 = (await http.get('/v2.1/flavors/1', { token: a.token, headers: { 'OpenStack-API-Version': 'compute 2.75' } })).body.flavor;
  t.equal(v75.swap, 0);
  t.same(v75.extra_specs, {});
  t.equal(v75.description, null);

  const created = await http.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'gpu.small', ram: 1024, vcpus: '2', disk: 10, id: 'gpu-1', 'os-flavor-access:is_public': false } } });
  t.equal(created.status, 200);
  t.equal(created.body.flavor.vcpus, 2);
  t.equal(created.body.flavor['os-flavor-access:is_public'], false);
  t.equal((await http.get('/v2.1/flavors/gpu-1', { token: a.token })).status, 404, 'a private flavor is hidden from members');
  t.notOk((await http.get('/v2.1/flavors?is_public=none', { token: admin })).body.flavors.every((f: { id: string }) => f.id !== 'gpu-1'), 'an admin sees it with is_public=none');
  const specs = await http.post('/v2.1/flavors/gpu-1/os-extra_specs', { token: admin, body: { extra_specs: { 'hw:cpu_policy': 'dedicated', 'trait:GPU': 'required' } } });
  t.same(specs.body, { extra_specs: { 'hw:cpu_policy': 'dedicated', 'trait:GPU': 'required' } });
  t.same((await http.put('/v2.1/flavors/gpu-1/os-extra_specs/hw:cpu_policy', { token: admin, body: { 'hw:cpu_policy': 'shared' } })).body, { 'hw:cpu_policy': 'shared' });
  t.same((await http.get('/v2.1/flavors/gpu-1/os-extra_specs/hw:cpu_policy', { token: admin })).body, { 'hw:cpu_policy': 'shared' });
  t.equal((await http.delete('/v2.1/flavors/gpu-1/os-extra_specs/trait:GPU', { token: admin })).status, 200);
  t.same((await http.get('/v2.1/flavors/gpu-1/os-extra_specs', { token: admin })).body, { extra_specs: { 'hw:cpu_policy': 'shared' } });
  t.equal((await http.delete('/v2.1/flavors/gpu-1/os-extra_specs/trait:GPU', { token: admin })).status, 404);
  t.equal((await http.delete('/v2.1/flavors/gpu-1', { token: admin })).status, 202);
  t.equal((await http.get('/v2.1/flavors/gpu-1', { token: admin })).status, 404);
  const swap = await http.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'swap', ram: 1, vcpus: 1, disk: 0, swap: '512', id: 'swap-1' } } });
  t.same([swap.status, swap.body.flavor?.swap], [200, 512], 'swap in MiB, kept');
  t.equal((await http.get('/v2.1/flavors/swap-1', { token: a.token, headers: { 'OpenStack-API-Version': 'compute 2.75' } })).body.flavor.swap, 512);
  t.equal((await http.delete('/v2.1/flavors/swap-1', { token: admin })).status, 202);
});

t.test('key pairs: import and generate, per user, codes by microversion', async (t) => {
  const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@example';
  const imported = await http.post('/v2.1/os-keypairs', { token: a.token, body: { keypair: { name: 'laptop', public_key: pub } } });
  t.equal(imported.status, 200, '200 at 2.1');
  t.match(imported.body.keypair.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  t.notOk(imported.body.keypair.private_key);
  const v22 = { 'OpenStack-API-Version': 'compute 2.2' };
  const generated = await http.post('/v2.1/os-keypairs', { token: a.token, headers: v22, body: { keypair: { name: 'gen' } } });
  t.equal(generated.status, 201, '201 from 2.2');
  t.match(generated.body.keypair.private_key, /^-----BEGIN RSA PRIVATE KEY-----/);
  t.match(generated.body.keypair.public_key, /^ssh-rsa AAAA/);
  t.equal(generated.body.keypair.type, 'ssh');
  const list = await http.get('/v2.1/os-keypairs', { token: a.token });
  t.same(list.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name), ['gen', 'laptop']);
  t.equal((await http.get('/v2.1/os-keypairs', { token: b.token })).body.keypairs.length, 0, 'key pairs are per user');
  const shown = await http.get('/v2.1/os-keypairs/laptop', { token: a.token });
  t.equal(shown.body.keypair.public_key, pub);
  t.equal(shown.body.keypair.user_id, a.userId);
  t.equal((await http.get(`/v2.1/os-keypairs?user_id=${a.userId}`, { token: b.token, headers: { 'OpenStack-API-Version': 'compute 2.10' } })).status, 403);
  t.equal((await http.get(`/v2.1/os-keypairs?user_id=${a.userId}`, { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.10' } })).body.keypairs.length, 2);
  const booted = await boot(a.token, 'keyed', { key_name: 'laptop' });
  t.equal(booted.status, 202, 'a server may name an existing key pair');
  const keyedId = booted.body.server.id as string;
  t.equal((await http.get(`/v2.1/servers/${keyedId}`, { token: a.token })).body.server.key_name, 'laptop', 'the server shows its key name');
  const byKey = await http.get('/v2.1/servers/detail?key_name=laptop', { token: a.token });
  t.same(byKey.body.servers.map((x: { id: string }) => x.id), [keyedId], 'and is found by it');
  t.equal((await http.get('/v2.1/servers/detail?key_name=other', { token: a.token })).body.servers.length, 0, 'another key name finds nothing');
  t.equal((await http.delete('/v2.1/os-keypairs/gen', { token: a.token, headers: v22 })).status, 204);
  t.equal((await http.delete('/v2.1/os-keypairs/laptop', { token: a.token })).status, 202, '202 at 2.1');
  t.equal((await http.get('/v2.1/os-keypairs/laptop', { token: a.token })).status, 404);
});

t.test('quota sets and limits count what the project holds', async (t) => {
  const q = await http.get(`/v2.1/os-quota-sets/${b.projectId}`, { token: b.token });
  t.equal(q.body.quota_set.id, b.projectId);
  t.equal(q.body.quota_set.instances, 10);
  t.equal(q.body.quota_set.floating_ips, 10, 'network quotas shown before 2.36');
  const q57 = await http.get(`/v2.1/os-quota-sets/${b.projectId}`, { token: b.token, headers: { 'OpenStack-API-Version': 'compute 2.57' } });
  t.notOk('floating_ips' in q57.body.quota_set);
  t.notOk('injected_files' in q57.body.quota_set);
  const detail = await http.get(`/v2.1/os-quota-sets/${b.projectId}/detail`, { token: b.token });
  t.same(detail.body.quota_set.instances, { in_use: 3, limit: 10, reserved: 0 }, 'bob-1 and multi-1/2');
  t.same(detail.body.quota_set.ram, { in_use: 3 * 512, limit: 51200, reserved: 0 });
  const limits = (await http.get('/v2.1/limits', { token: b.token })).body.limits;
  t.same(limits.rate, []);
  t.equal(limits.absolute.totalInstancesUsed, 3);
  t.equal(limits.absolute.totalCoresUsed, 3);
  t.equal(limits.absolute.maxTotalCores, 20);
  t.equal((await http.get(`/v2.1/os-quota-sets/${b.projectId}/defaults`, { token: b.token })).body.quota_set.cores, 20);
  t.equal((await http.put(`/v2.1/os-quota-sets/${b.projectId}`, { token: admin, body: { quota_set: { cores: 40 } } })).body.quota_set.cores, 40);
  t.equal((await http.get('/v2.1/limits', { token: b.token })).body.limits.absolute.maxTotalCores, 40);
  t.equal((await http.delete(`/v2.1/os-quota-sets/${b.projectId}`, { token: admin })).status, 202);
  t.equal((await http.get(`/v2.1/os-quota-sets/${b.projectId}`, { token: b.token })).body.quota_set.cores, 20, 'back to the default');
  t.equal((await http.get(`/v2.1/limits?tenant_id=${a.projectId}`, { token: b.token })).status, 403);
});

t.test('hypervisors, services (disable/enable) and availability zones', async (t) => {
  const hv = await http.get('/v2.1/os-hypervisors/detail', { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.53' } });
  t.equal(hv.body.hypervisors.length, 2);
  const h = hv.body.hypervisors[0];
  t.match(h.id, /^[0-9a-f-]{36}$/, 'UUIDs from 2.53');
  t.equal(h.state, 'up');
  t.equal(h.hypervisor_type, 'fake');
  t.ok(h.vcpus > 0 && 'running_vms' in h, 'usage fields before 2.88');
  const hv88 = await http.get(`/v2.1/os-hypervisors/${h.id}?with_servers=true`, { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.88' } });
  t.notOk('vcpus' in hv88.body.hypervisor, 'gone at 2.88');
  t.ok(Array.isArray(hv88.body.hypervisor.servers));
  const old = await http.get('/v2.1/os-hypervisors', { token: admin });
  t.equal(typeof old.body.hypervisors[0].id, 'number', 'integer ids before 2.53');
  t.equal((await http.get('/v2.1/os-hypervisors/statistics', { token: admin })).body.hypervisor_statistics.count, 2);

  const v = { 'OpenStack-API-Version': 'compute 2.53' };
  const services = await http.get('/v2.1/os-services', { token: admin, headers: v });
  t.same(services.body.services.map((s: { binary: string; state: string }) => [s.binary, s.state]), [['nova-compute', 'up'], ['nova-compute', 'up']]);
  const svc = services.body.services[0];
  const disabled = await http.put(`/v2.1/os-services/${svc.id}`, { token: admin, headers: v, body: { status: 'disabled', disabled_reason: 'maintenance' } });
  t.equal(disabled.body.service.status, 'disabled');
  t.equal(disabled.body.service.disabled_reason, 'maintenance');
  const zoneDetail = await http.get('/v2.1/os-availability-zone/detail', { token: admin });
  const hostState = zoneDetail.body.availabilityZoneInfo[0].hosts[svc.host]['nova-compute'];
  t.equal(hostState.active, false, 'a disabled service is not active in its zone');
  const enabled = await http.put(`/v2.1/os-services/${svc.id}`, { token: admin, headers: v, body: { status: 'enabled' } });
  t.equal(enabled.body.service.status, 'enabled');
  t.equal(enabled.body.service.disabled_reason, null, 'enabling clears the reason');
  const legacy = await http.put('/v2.1/os-services/disable-log-reason', { token: admin, body: { host: svc.host, binary: 'nova-compute', disabled_reason: 'old style' } });
  t.same(legacy.body.service, { host: svc.host, binary: 'nova-compute', status: 'disabled', disabled_reason: 'old style' });
  t.equal((await http.put('/v2.1/os-services/enable', { token: admin, body: { host: svc.host, binary: 'nova-compute' } })).body.service.status, 'enabled');
  t.equal((await http.put('/v2.1/os-services/00000000-0000-4000-8000-000000000000', { token: admin, headers: v, body: { status: 'disabled' } })).status, 404);
  const zones = await http.get('/v2.1/os-availability-zone', { token: a.token });
  t.same(zones.body.availabilityZoneInfo, [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }]);
});

const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

t.test('hypervisor uptime: the host\'s uptime line by microversion, Nova\'s errors, admin only', async (t) => {
  const [old, v53] = await Promise.all([
    http.get('/v2.1/os-hypervisors', { token: admin }),
    http.get('/v2.1/os-hypervisors', { token: admin, headers: mv('2.53') }),
  ]);
  const [int1, int2] = old.body.hypervisors.map((h: { id: number }) => h.id);
  const [uuid1, uuid2] = v53.body.hypervisors.map((h: { id: string }) => h.id);

  const at21 = await http.get(`/v2.1/os-hypervisors/${int1}/uptime`, { token: admin });
  t.equal(at21.status, 200);
  t.same(Object.keys(at21.body.hypervisor).sort(), ['hypervisor_hostname', 'id', 'state', 'status', 'uptime'], 'the brief view plus uptime');
  t.match(at21.body.hypervisor, { id: int1, hypervisor_hostname: 'compute-1', state: 'up', status: 'enabled' });
  t.match(at21.body.hypervisor.uptime, UPTIME_LINE);
  const at287 = await http.get(`/v2.1/os-hypervisors/${uuid1}/uptime`, { token: admin, headers: mv('2.87') });
  t.equal(at287.status, 200);
  t.same(Object.keys(at287.body.hypervisor).sort(), ['hypervisor_hostname', 'id', 'state', 'status', 'uptime']);
  t.equal(at287.body.hypervisor.id, uuid1, 'a UUID from 2.53');
  t.match(at287.body.hypervisor.uptime, UPTIME_LINE);

  const gone = await http.get(`/v2.1/os-hypervisors/${uuid1}/uptime`, { token: admin, headers: mv('2.88') });
  t.equal(gone.status, 404, 'no /uptime from 2.88');
  t.equal(gone.body.itemNotFound.message, 'The resource could not be found.');
  const show88 = await http.get(`/v2.1/os-hypervisors/${uuid1}`, { token: admin, headers: mv('2.88') });
  t.match(show88.body.hypervisor.uptime, UPTIME_LINE, 'uptime in show from 2.88');
  t.same(Object.keys(show88.body.hypervisor).sort(), ['host_ip', 'hypervisor_hostname', 'hypervisor_type', 'hypervisor_version', 'id', 'service', 'state', 'status', 'uptime']);
  t.equal((await http.get(`/v2.1/os-hypervisors/${uuid2}`, { token: admin, headers: mv('2.88') })).body.hypervisor.uptime, null, 'null where the driver cannot tell');
  const detail88 = await http.get('/v2.1/os-hypervisors/detail', { token: admin, headers: mv('2.88') });
  t.same(detail88.body.hypervisors.map((h: { uptime: string | null }) => h.uptime === null), [false, true], 'and in detail');

  const cannot = await http.get(`/v2.1/os-hypervisors/${int2}/uptime`, { token: admin });
  t.equal(cannot.status, 501, 'a driver that cannot tell: HTTPNotImplemented');
  t.equal(cannot.body.notImplemented.message, 'The requested functionality is not supported.');

  for (const [path, v, code, message] of [
    ['/v2.1/os-hypervisors/999999/uptime', '2.1', 404, "Hypervisor with ID '999999' could not be found."],
    [`/v2.1/os-hypervisors/${uuid1}/uptime`, '2.1', 404, `Hypervisor with ID '${uuid1}' could not be found.`],
    ['/v2.1/os-hypervisors/00000000-0000-4000-8000-000000000000/uptime', '2.53', 404, "Hypervisor with ID '00000000-0000-4000-8000-000000000000' could not be found."],
    [`/v2.1/os-hypervisors/${int1}/uptime`, '2.53', 400, `Invalid uuid ${int1}`],
    ['/v2.1/os-hypervisors/999999', '2.1', 404, "Hypervisor with ID '999999' could not be found."],
    ['/v2.1/os-hypervisors/not-a-uuid', '2.88', 400, 'Invalid uuid not-a-uuid'],
  ] as const) {
    const r = await http.get(path, { token: admin, headers: mv(v) });
    t.equal(r.status, code, `${path} at ${v}`);
    t.equal(Object.values(r.body as Record<string, { message: string }>)[0]!.message, message);
  }
  const member = await http.get(`/v2.1/os-hypervisors/${int1}/uptime`, { token: a.token });
  t.equal(member.status, 403, 'a member may not');
  t.match(member.body.forbidden.message, /os_compute_api:os-hypervisors:uptime/);

  // Nova asks only a host whose service is up.
  const svc = (await http.get('/v2.1/os-services?host=compute-1', { token: admin, headers: mv('2.53') })).body.services[0];
  t.equal((await http.put(`/v2.1/os-services/${svc.id}`, { token: admin, headers: mv('2.53'), body: { forced_down: true } })).status, 200);
  const down = await http.get(`/v2.1/os-hypervisors/${int1}/uptime`, { token: admin });
  t.equal(down.status, 400, 'a host that is down');
  t.equal(down.body.badRequest.message, 'Compute service of compute-1 is unavailable at this time.');
  t.equal((await http.put(`/v2.1/os-services/${svc.id}`, { token: admin, headers: mv('2.53'), body: { forced_down: false } })).status, 200);
  t.equal((await http.get(`/v2.1/os-hypervisors/${int1}/uptime`, { token: admin })).status, 200, 'up again');
});

t.test('hypervisor show: every field as Nova has it at 2.1, 2.28 and 2.53, true for the fake host', async (t) => {
  const servers = (await http.get('/v2.1/servers/detail?all_tenants=1', { token: admin })).body.servers as Record<string, unknown>[];
  const on1 = servers.filter((s) => s['OS-EXT-SRV-ATTR:host'] === 'compute-1');
  const int1 = (await http.get('/v2.1/os-hypervisors', { token: admin })).body.hypervisors[0].id;
  let h: any;
  // The record follows the host's reports: wait for the one after the last change here.
  await waitFor('compute-1\'s record to count its guests', async () => {
    await cluster.conductor!.computeNodes.flush();
    h = (await http.get(`/v2.1/os-hypervisors/${int1}`, { token: admin })).body.hypervisor;
    return h.vcpus_used === on1.length && h.running_vms === on1.filter((s) => s.status === 'ACTIVE').length;
  });
  t.same(Object.keys(h).sort(), [
    'cpu_info', 'current_workload', 'disk_available_least', 'free_disk_gb', 'free_ram_mb', 'host_ip', 'hypervisor_hostname',
    'hypervisor_type', 'hypervisor_version', 'id', 'local_gb', 'local_gb_used', 'memory_mb', 'memory_mb_used', 'running_vms',
    'service', 'state', 'status', 'vcpus', 'vcpus_used',
  ], 'Nova\'s fields at 2.1');
  t.match(h, {
    hypervisor_type: 'fake', hypervisor_version: 1000, vcpus: 64, memory_mb: 262144, local_gb: 4096, host_ip: null,
    current_workload: 0, service: { host: 'compute-1', disabled_reason: null },
  });
  t.equal(typeof h.service.id, 'number');
  t.equal(h.cpu_info, JSON.stringify({ arch: 'x86_64' }), 'a JSON string before 2.28');
  t.equal(h.vcpus_used, on1.length, 'm1.tiny guests: one vcpu each');
  t.equal(h.memory_mb_used, on1.length * 512);
  t.equal(h.local_gb_used, on1.length * 1);
  t.equal(h.free_ram_mb, h.memory_mb - h.memory_mb_used);
  t.equal(h.free_disk_gb, h.local_gb - h.local_gb_used);
  t.equal(h.disk_available_least, h.local_gb - h.local_gb_used, 'a fake holds its guests\' disks in full');
  t.equal(h.running_vms, on1.filter((s) => s.status === 'ACTIVE').length);
  const v28 = (await http.get(`/v2.1/os-hypervisors/${int1}`, { token: admin, headers: mv('2.28') })).body.hypervisor;
  t.same(v28.cpu_info, { arch: 'x86_64' }, 'an object from 2.28');
  const v53 = (await http.get('/v2.1/os-hypervisors/detail', { token: admin, headers: mv('2.53') })).body.hypervisors[0];
  t.match(v53.service.id, /^[0-9a-f-]{36}$/, 'the service id a UUID from 2.53');
  t.notOk('uptime' in v53, 'no uptime in the view before 2.88');
  const stats = (await http.get('/v2.1/os-hypervisors/statistics', { token: admin })).body.hypervisor_statistics;
  const all = (await http.get('/v2.1/os-hypervisors/detail', { token: admin })).body.hypervisors as Record<string, number>[];
  for (const k of ['disk_available_least', 'current_workload', 'running_vms', 'vcpus_used']) t.equal(stats[k], all.reduce((n, x) => n + x[k]!, 0), `statistics ${k}: the sum`);
});

t.test('version discovery lists v2.0 first, as Nova, and every listed self link answers', async (t) => {
  const root = await http.get('/');
  t.same(root.body.versions.map((v: { id: string }) => v.id), ['v2.0', 'v2.1']);
  for (const v of root.body.versions) {
    const self = v.links.find((l: { rel: string }) => l.rel === 'self').href as string;
    const doc = await http.get(self.slice(cluster.apiUrl!.length));
    t.equal(doc.status, 200, self);
    t.equal(doc.body.version.id, v.id);
    t.same(doc.body.version.links.filter((l: { rel: string }) => l.rel === 'self'), [{ rel: 'self', href: self }]);
  }
});
