/**
 * Every failure is a 4xx fault body of the right name and code, never a 5xx, and a refused request
 * leaves nothing behind: malformed JSON, wrong media types, oversized bodies, unknown paths and
 * methods, schema violations, invalid ids, microversions, wrong states, quotas, unknown actions.
 */
import t, { type Test } from 'tap';
import { Instance } from '../../runtime/db/entities/index.js';
import { fault, startApiCluster, type Answer } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t);
const image = (await cluster.client.listImages())[0]!;

function isFault(t: Test, a: Answer, name: string, code: number, message?: RegExp): void {
  const f = fault(a);
  t.equal(a.status, code, `status ${code}`);
  t.equal(f?.name, name, `fault ${name}`);
  t.equal(f?.code, code, 'code in the body');
  if (message) t.match(f?.message, message);
  t.equal(a.headers.get('content-type')?.split(';')[0], 'application/json');
}

const liveInstances = () => cluster.orm!.em.fork().count(Instance, { deletedAt: null });

t.test('malformed and mistyped bodies are 400 badRequest', async (t) => {
  const cases: [string, string][] = [
    ['{', 'truncated JSON'],
    ['{"server": }', 'invalid JSON'],
    ['', 'empty body with a JSON content type'],
    ['[]', 'an array instead of an object'],
    ['"server"', 'a string'],
    ['null', 'null'],
    ['{"__proto__": {"admin": true}}', 'prototype poisoning'],
  ];
  for (const [raw, what] of cases) {
    const a = await http.post('/v2.1/servers', { token: admin, raw, headers: { 'Content-Type': 'application/json' } });
    isFault(t, a, 'badRequest', 400);
    t.pass(what);
  }
  const wrongTypes = [
    { server: { name: 42, flavorRef: '1', imageRef: image.id } },
    { server: { name: 'x', flavorRef: '1', imageRef: image.id, metadata: { k: 1 } } },
    { server: { name: 'x', flavorRef: '1', imageRef: image.id, min_count: -1 } },
    { server: { name: 'x', flavorRef: '1', imageRef: image.id, max_count: 1_000_000 } },
    { server: { name: 'x', flavorRef: '1', imageRef: image.id, min_count: 'lots' } },
    { server: { name: '', flavorRef: '1', imageRef: image.id } },
    { server: { name: 'x'.repeat(256), flavorRef: '1', imageRef: image.id } },
    { server: { flavorRef: '1', imageRef: image.id } },
    { server: { name: 'x', flavorRef: '1', imageRef: image.id, shoe_size: 9 } },
    { server: { name: 'x', flavorRef: '1', imageRef: image.id }, extra: true },
    { server: { name: 'x', flavorRef: '1', imageRef: image.id, min_count: 3, max_count: 2 } },
  ];
  for (const body of wrongTypes) isFault(t, await http.post('/v2.1/servers', { token: admin, body }), 'badRequest', 400);
  const unknown = await http.post('/v2.1/servers', { token: admin, body: wrongTypes[8] });
  t.match(fault(unknown)?.message, /Additional properties are not allowed \('shoe_size' was unexpected\)/);
  t.equal(await liveInstances(), 0, 'nothing was created');
});

t.test('unsupported features are refused by name, not dropped', async (t) => {
  const base = { name: 'x', flavorRef: '1', imageRef: image.id };
  const refused = [
    { personality: [{ path: '/etc/motd', contents: 'IyEvYmluL3NoCg==' }] },
    { block_device_mapping_v2: [{ boot_index: 0, uuid: image.id, source_type: 'image', destination_type: 'volume' }] },
    { imageRef: '' },
  ];
  for (const extra of refused) {
    const a = await http.post('/v2.1/servers', { token: admin, body: { server: { ...base, ...extra } } });
    isFault(t, a, 'badRequest', 400, /not supported by novact/);
  }
  t.equal(await liveInstances(), 0);
});

t.test('references that do not resolve are 400 at create, 404 on paths', async (t) => {
  isFault(t, await http.post('/v2.1/servers', { token: admin, body: { server: { name: 'x', flavorRef: '999', imageRef: image.id } } }), 'badRequest', 400, /Flavor 999/);
  isFault(t, await http.post('/v2.1/servers', { token: admin, body: { server: { name: 'x', flavorRef: '1', imageRef: 'not-a-uuid' } } }), 'badRequest', 400, /Image/);
  isFault(t, await http.post('/v2.1/servers', { token: admin, body: { server: { name: 'x', flavorRef: '1', imageRef: '00000000-0000-4000-8000-000000000000' } } }), 'badRequest', 400);
  isFault(t, await http.post('/v2.1/servers', { token: admin, body: { server: { name: 'x', flavorRef: '1', imageRef: image.id, key_name: 'nokey' } } }), 'badRequest', 400, /key_name/);
  isFault(t, await http.post('/v2.1/servers', { token: admin, body: { server: { name: 'x', flavorRef: '1', imageRef: image.id, networks: [{ uuid: '8f5f7a3e-3a44-4a4b-9d3b-5c2a1f3e4d5c' }] } } }), 'badRequest', 400, /Network 8f5f7a3e-3a44-4a4b-9d3b-5c2a1f3e4d5c could not be found/);
  isFault(t, await http.post('/v2.1/servers', { token: admin, body: { server: { name: 'x', flavorRef: '1', imageRef: image.id, security_groups: [{ name: 'web' }] } } }), 'badRequest', 400, /Security group web not found/);
  for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000', 'a.b', 'a%20b', 'x'.repeat(2000)]) {
    isFault(t, await http.get(`/v2.1/servers/${id}`, { token: admin }), 'itemNotFound', 404);
  }
  isFault(t, await http.get('/v2.1/flavors/nope', { token: admin }), 'itemNotFound', 404);
  isFault(t, await http.get('/image/v2/images/nope', { token: admin }), 'itemNotFound', 404);
  isFault(t, await http.get('/v2.1/os-keypairs/nope', { token: admin }), 'itemNotFound', 404);
  t.equal(await liveInstances(), 0);
});

t.test('media types: 415 badMediaType for anything but JSON where JSON is expected', async (t) => {
  isFault(t, await http.post('/v2.1/servers', { token: admin, raw: 'name=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 'badMediaType', 415);
  isFault(t, await http.post('/v2.1/servers', { token: admin, raw: 'hello', headers: { 'Content-Type': 'text/plain' } }), 'badMediaType', 415);
  isFault(t, await http.post('/v2.1/servers', { token: admin, raw: Buffer.from([1, 2, 3]), headers: { 'Content-Type': 'application/octet-stream' } }), 'badMediaType', 415);
  const img = await http.post('/image/v2/images', { token: admin, body: { name: 'mt', disk_format: 'raw', container_format: 'bare' } });
  isFault(t, await http.patch(`/image/v2/images/${img.body.id}`, { token: admin, body: [{ op: 'replace', path: '/name', value: 'y' }] }), 'badMediaType', 415);
  isFault(t, await http.put(`/image/v2/images/${img.body.id}/file`, { token: admin, body: { data: 'x' } }), 'badMediaType', 415);
});

t.test('an oversized body is 413 overLimit and creates nothing', async (t) => {
  const huge = { server: { name: 'x', flavorRef: '1', imageRef: image.id, metadata: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'v'.repeat(100)])) } };
  const a = await http.post('/v2.1/servers', { token: admin, body: huge });
  isFault(t, a, 'overLimit', 413, /too large/);
  t.equal(await liveInstances(), 0);
});

t.test('unknown paths are 404, wrong methods 405 with Allow', async (t) => {
  isFault(t, await http.get('/v2.1/nothing-here', { token: admin }), 'itemNotFound', 404);
  isFault(t, await http.get('/nothing', { token: admin }), 'itemNotFound', 404);
  const m = await http.delete('/v2.1/flavors', { token: admin });
  isFault(t, m, 'badMethod', 405);
  t.match(m.headers.get('allow'), /GET/);
  t.match(m.headers.get('allow'), /POST/);
  isFault(t, await http.call('PATCH', '/v2.1/servers/00000000-0000-4000-8000-000000000000', { token: admin, body: {} }), 'badMethod', 405);
  const keystone = await http.delete('/v3', { token: admin });
  t.equal(keystone.status, 405);
  t.equal(keystone.body.error.code, 405, 'identity paths answer in Keystone’s format');
  isFault(t, await http.get('/v2.1/servers/%E0%A4%A', { token: admin }), 'badRequest', 400);
});

t.test('microversions: malformed is 400, out of range 406, and responses echo the version', async (t) => {
  const ok = await http.get('/v2.1/flavors', { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.47' } });
  t.equal(ok.status, 200);
  t.equal(ok.headers.get('openstack-api-version'), 'compute 2.47');
  t.equal(ok.headers.get('x-openstack-nova-api-version'), '2.47');
  t.match(ok.headers.get('vary'), /OpenStack-API-Version/);
  const legacy = await http.get('/v2.1/flavors', { token: admin, headers: { 'X-OpenStack-Nova-API-Version': '2.10' } });
  t.equal(legacy.headers.get('openstack-api-version'), 'compute 2.10');
  const latest = await http.get('/v2.1/flavors', { token: admin, headers: { 'OpenStack-API-Version': 'compute latest' } });
  t.equal(latest.headers.get('x-openstack-nova-api-version'), '2.90');
  const none = await http.get('/v2.1/flavors', { token: admin });
  t.equal(none.headers.get('x-openstack-nova-api-version'), '2.1', 'the default is 2.1');
  isFault(t, await http.get('/v2.1/flavors', { token: admin, headers: { 'OpenStack-API-Version': 'compute two' } }), 'badRequest', 400, /invalid format/);
  isFault(t, await http.get('/v2.1/flavors', { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.999' } }), 'computeFault', 406, /not supported/);
  isFault(t, await http.get('/v2.1/flavors', { token: admin, headers: { 'OpenStack-API-Version': 'compute 3.0' } }), 'computeFault', 406);
  isFault(t, await http.get('/v2.1/flavors', { token: admin, headers: { 'X-OpenStack-Nova-API-Version': '2.0' } }), 'computeFault', 406);
});

t.test('server actions: unknown 400, unimplemented 501, malformed 400, wrong state 409', async (t) => {
  const created = await http.post('/v2.1/servers', { token: admin, body: { server: { name: 'act', flavorRef: '1', imageRef: image.id } } });
  t.equal(created.status, 202);
  const id = created.body.server.id;
  await cluster.client.waitForServer(id, (s) => s.status === 'ACTIVE' && s.taskState === null);
  const path = `/v2.1/servers/${id}/action`;
  isFault(t, await http.post(path, { token: admin, body: { frobnicate: null } }), 'badRequest', 400, /There is no such action: frobnicate/);
  isFault(t, await http.post(path, { token: admin, body: { 'os-getRDPConsole': { type: 'rdp-html5' } } }), 'notImplemented', 501);
  isFault(t, await http.post(path, { token: admin, body: { reboot: { type: 'SIDEWAYS' } } }), 'badRequest', 400);
  isFault(t, await http.post(path, { token: admin, body: { reboot: null } }), 'badRequest', 400);
  isFault(t, await http.post(path, { token: admin, body: {} }), 'badRequest', 400);
  isFault(t, await http.post(path, { token: admin, body: { 'os-stop': null, 'os-start': null } }), 'badRequest', 400);
  isFault(t, await http.post(path, { token: admin, body: { 'os-start': null } }), 'conflictingRequest', 409, /Cannot 'start' instance .* while it is in vm_state active/);
  isFault(t, await http.post('/v2.1/servers/00000000-0000-4000-8000-000000000000/action', { token: admin, body: { 'os-stop': null } }), 'itemNotFound', 404);
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: admin })).status, 204);
  await cluster.client.waitForServer(id, (s) => s.status === 'DELETED');
});

t.test('quota: a build beyond it is 403 and nothing is created; a limit below usage is 400', async (t) => {
  const { projectId, token } = await http.member(admin, 'small', 'smalluser', 'member');
  t.equal((await http.put(`/v2.1/os-quota-sets/${projectId}`, { token: admin, body: { quota_set: { instances: 1, cores: 1 } } })).status, 200);
  const first = await http.post('/v2.1/servers', { token, body: { server: { name: 'q1', flavorRef: '1', imageRef: image.id } } });
  t.equal(first.status, 202);
  const second = await http.post('/v2.1/servers', { token, body: { server: { name: 'q2', flavorRef: '1', imageRef: image.id } } });
  isFault(t, second, 'forbidden', 403, /Quota exceeded for instances: Requested 1, but already used 1 of 1 instances/);
  const two = await http.post('/v2.1/servers', { token, body: { server: { name: 'q3', flavorRef: '3', imageRef: image.id, min_count: 1 } } });
  isFault(t, two, 'forbidden', 403);
  t.equal(await cluster.orm!.em.fork().count(Instance, { projectId, deletedAt: null }), 1, 'only the first build exists');
  const below = await http.put(`/v2.1/os-quota-sets/${projectId}`, { token: admin, body: { quota_set: { instances: 0 } } });
  isFault(t, below, 'badRequest', 400, /must be greater than or equal to already used/);
  t.equal((await http.put(`/v2.1/os-quota-sets/${projectId}`, { token: admin, body: { quota_set: { instances: 0, force: true } } })).status, 200, 'force overrides');
  isFault(t, await http.put(`/v2.1/os-quota-sets/${projectId}`, { token: admin, body: { quota_set: { instances: -2 } } }), 'badRequest', 400);
  isFault(t, await http.put(`/v2.1/os-quota-sets/${projectId}`, { token: admin, body: { quota_set: { widgets: 3 } } }), 'badRequest', 400);
  const meta = await http.put(`/v2.1/os-quota-sets/${projectId}`, { token: admin, body: { quota_set: { metadata_items: 1, instances: 5, cores: 5 } } });
  t.equal(meta.status, 200);
  const tooMuchMeta = await http.post('/v2.1/servers', { token, body: { server: { name: 'm', flavorRef: '1', imageRef: image.id, metadata: { a: '1', b: '2' } } } });
  isFault(t, tooMuchMeta, 'forbidden', 403, /metadata_items/);
  await http.delete(`/v2.1/servers/${first.body.server.id}`, { token });
  await cluster.client.waitForServer(first.body.server.id, (s) => s.status === 'DELETED');
});

t.test('listing parameters: bad limits and markers are 400', async (t) => {
  isFault(t, await http.get('/v2.1/servers?limit=-1', { token: admin }), 'badRequest', 400);
  isFault(t, await http.get('/v2.1/servers?limit=ten', { token: admin }), 'badRequest', 400);
  isFault(t, await http.get('/v2.1/servers?marker=00000000-0000-4000-8000-000000000000', { token: admin }), 'badRequest', 400, /marker/);
  isFault(t, await http.get('/v2.1/servers/detail?changes-since=yesterday', { token: admin }), 'badRequest', 400);
  isFault(t, await http.get('/v2.1/servers/detail?name=(', { token: admin }), 'badRequest', 400, /regular expression/);
  isFault(t, await http.get('/v2.1/servers?sort_key=name', { token: admin }), 'badRequest', 400);
  isFault(t, await http.get('/image/v2/images?limit=x', { token: admin }), 'badRequest', 400);
  isFault(t, await http.get('/image/v2/images?sort_key=colour', { token: admin }), 'badRequest', 400);
  isFault(t, await http.get('/v2.1/flavors?minRam=lots', { token: admin }), 'badRequest', 400);
});

t.test('conflicts are 409: duplicate flavors, key pairs and images', async (t) => {
  t.equal((await http.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'dup', ram: 64, vcpus: 1, disk: 0, id: 'dup-1' } } })).status, 200);
  isFault(t, await http.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'dup', ram: 64, vcpus: 1, disk: 0 } } }), 'conflictingRequest', 409, /name dup/);
  isFault(t, await http.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'dup2', ram: 64, vcpus: 1, disk: 0, id: 'dup-1' } } }), 'conflictingRequest', 409, /ID dup-1/);
  isFault(t, await http.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'neg', ram: -1, vcpus: 1, disk: 0 } } }), 'badRequest', 400);
  isFault(t, await http.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'big', ram: 2 ** 40, vcpus: 1, disk: 0 } } }), 'badRequest', 400);
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test';
  t.equal((await http.post('/v2.1/os-keypairs', { token: admin, body: { keypair: { name: 'k', public_key: key } } })).status, 200);
  isFault(t, await http.post('/v2.1/os-keypairs', { token: admin, body: { keypair: { name: 'k', public_key: key } } }), 'conflictingRequest', 409);
  isFault(t, await http.post('/v2.1/os-keypairs', { token: admin, body: { keypair: { name: 'bad', public_key: 'ssh-rsa not-base64!' } } }), 'badRequest', 400);
  isFault(t, await http.post('/v2.1/os-keypairs', { token: admin, body: { keypair: { name: 'b/ad', public_key: key } } }), 'badRequest', 400);
  const id = '3b2d5c7e-1f00-4c3a-9a5e-000000000001';
  t.equal((await http.post('/image/v2/images', { token: admin, body: { id, name: 'i' } })).status, 201);
  isFault(t, await http.post('/image/v2/images', { token: admin, body: { id, name: 'i' } }), 'conflictingRequest', 409);
});

t.test('image errors: read-only 403, bad formats 400, bad patches 400/409, wrong status 409', async (t) => {
  isFault(t, await http.post('/image/v2/images', { token: admin, body: { name: 'x', status: 'active' } }), 'forbidden', 403, /read-only/);
  isFault(t, await http.post('/image/v2/images', { token: admin, body: { name: 'x', os_glance_secret: 'y' } }), 'forbidden', 403, /reserved/);
  isFault(t, await http.post('/image/v2/images', { token: admin, body: { name: 'x', disk_format: 'floppy' } }), 'badRequest', 400);
  isFault(t, await http.post('/image/v2/images', { token: admin, body: { name: 'x', container_format: 'crate' } }), 'badRequest', 400, /container_format/);
  // Glance v2 lets an ari disk sit in an ami container (v1's matching rule is gone); Tempest makes such pairs.
  t.equal((await http.post('/image/v2/images', { token: admin, body: { name: 'mixed', container_format: 'ami', disk_format: 'ari' } })).status, 201);
  isFault(t, await http.post('/image/v2/images', { token: admin, body: { name: 'x', hw_cpu_cores: 4 } }), 'badRequest', 400);
  isFault(t, await http.post('/image/v2/images', { token: admin, body: { name: 'x', min_ram: -5 } }), 'badRequest', 400);
  const img = (await http.post('/image/v2/images', { token: admin, body: { name: 'p' } })).body;
  const patch = (body: unknown) => http.patch(`/image/v2/images/${img.id}`, { token: admin, body, headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } });
  isFault(t, await patch({ op: 'replace' }), 'badRequest', 400);
  isFault(t, await patch([{ op: 'move', path: '/name', from: '/x' }]), 'badRequest', 400);
  isFault(t, await patch([{ op: 'replace', path: '/size', value: 3 }]), 'forbidden', 403);
  isFault(t, await patch([{ op: 'remove', path: '/name' }]), 'forbidden', 403);
  isFault(t, await patch([{ op: 'remove', path: '/nope' }]), 'conflictingRequest', 409);
  isFault(t, await patch([{ op: 'add', path: '/a/b', value: 'x' }]), 'badRequest', 400);
  isFault(t, await http.put(`/image/v2/images/${img.id}/file`, { token: admin, raw: Buffer.from('data'), headers: { 'Content-Type': 'application/octet-stream' } }), 'badRequest', 400, /disk_format, container_format must be set/);
  isFault(t, await http.post(`/image/v2/images/${img.id}/actions/deactivate`, { token: admin }), 'forbidden', 403, /queued/);
  t.equal((await http.get(`/image/v2/images/${img.id}`, { token: admin })).body.status, 'queued', 'the failed upload left it queued');
  const ro = await patch([{ op: 'replace', path: '/protected', value: true }]);
  t.equal(ro.status, 200);
  isFault(t, await http.delete(`/image/v2/images/${img.id}`, { token: admin }), 'forbidden', 403, /protected/);
});

t.test('no request in this file was answered with a 5xx', async (t) => {
  t.equal((await http.call('HEAD', '/v2.1/flavors', { token: admin })).status, 200, 'HEAD works');
  t.ok(http.seen.length > 100, `${http.seen.length} requests made`);
  t.same(http.seen.filter((s) => s.status >= 500 && s.status !== 501), [], 'none failed on the server side (501 is the deliberate notImplemented)');
});
