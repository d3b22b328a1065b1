/**
 * Server tags (2.26) over HTTP: Nova's status codes (replace all 200, add 201 with Location or 204,
 * show 204/404, deletes 204/404), its limits (50 tags, 1–60 characters, no `/` or `,`: 400), its
 * state guard (409 outside active/paused/suspended/stopped), tags in views from 2.26 and at create
 * from 2.52, and the list filters `tags`, `tags-any`, `not-tags`, `not-tags-any`.
 */
import t from 'tap';
import { fault, startApiCluster } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1 });
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'tags-a', 'alice', 'member');
const bob = await http.member(admin, 'tags-b', 'bob', 'member');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
const V26 = mv('2.26');

const boot = async (token: string, name: string, extra: Record<string, unknown> = {}, version = '2.52') => {
  const r = await http.post('/v2.1/servers', { token, headers: mv(version), body: { server: { name, flavorRef: '1', imageRef: image.id, ...extra } } });
  if (r.status !== 202) throw new Error(`boot ${name}: ${r.status} ${r.text}`);
  return r.body.server.id as string;
};
const settled = (id: string) => cluster.client.waitForServer(id, (s) => s.status !== 'BUILD' && s.taskState === null, 30_000);
const tagsOf = async (id: string) => (await http.get(`/v2.1/servers/${id}/tags`, { token: alice.token, headers: V26 })).body.tags as string[];

const id = await boot(alice.token, 'tagged');
await settled(id);
const base = `/v2.1/servers/${id}/tags`;

t.test('below 2.26 the tags paths do not exist and views have no tags', async (t) => {
  const a = await http.get(base, { token: alice.token, headers: mv('2.25') });
  t.equal(a.status, 404);
  t.equal(fault(a)?.name, 'itemNotFound');
  t.notOk('tags' in (await http.get(`/v2.1/servers/${id}`, { token: alice.token, headers: mv('2.25') })).body.server);
});

t.test('replace all, add, show, delete one, delete all', async (t) => {
  const put = await http.put(base, { token: alice.token, headers: V26, body: { tags: ['web', 'prod', 'web'] } });
  t.equal(put.status, 200);
  t.same(put.body, { tags: ['web', 'prod'] }, 'duplicates collapse');
  t.same(await tagsOf(id), ['web', 'prod']);

  const added = await http.put(`${base}/blue`, { token: alice.token, headers: { ...V26, 'Content-Type': 'application/json' } });
  t.equal(added.status, 201);
  t.equal(added.headers.get('location'), `${cluster.apiUrl}${base}/blue`);
  t.equal(added.text, '');
  const again = await http.put(`${base}/blue`, { token: alice.token, headers: V26 });
  t.equal(again.status, 204, 'a tag already there is a 204');

  t.equal((await http.get(`${base}/blue`, { token: alice.token, headers: V26 })).status, 204);
  const missing = await http.get(`${base}/green`, { token: alice.token, headers: V26 });
  t.equal(missing.status, 404);
  t.equal(fault(missing)?.name, 'itemNotFound');

  const shown = (await http.get(`/v2.1/servers/${id}`, { token: alice.token, headers: V26 })).body.server;
  t.same(shown.tags, ['web', 'prod', 'blue'], 'the server view shows them from 2.26');

  t.equal((await http.delete(`${base}/prod`, { token: alice.token, headers: { ...V26, 'Content-Type': 'application/json' } })).status, 204);
  t.equal((await http.delete(`${base}/prod`, { token: alice.token, headers: V26 })).status, 404, 'deleting a missing tag is a 404');
  t.same(await tagsOf(id), ['web', 'blue']);

  t.equal((await http.delete(base, { token: alice.token, headers: { ...V26, 'Content-Type': 'application/json' } })).status, 204);
  t.same(await tagsOf(id), []);
});

t.test('Nova’s limits: 50 tags, 1–60 characters, no / or ,', async (t) => {
  const fifty = Array.from({ length: 50 }, (_, i) => `t${i}`);
  t.equal((await http.put(base, { token: alice.token, headers: V26, body: { tags: [...fifty, 'one-more'] } })).status, 400, '51 in one replace');
  t.equal((await http.put(base, { token: alice.token, headers: V26, body: { tags: fifty } })).status, 200);
  const over = await http.put(`${base}/one-more`, { token: alice.token, headers: V26 });
  t.equal(over.status, 400);
  t.match(fault(over)?.message, /per-server limit 50/);
  t.equal((await tagsOf(id)).length, 50, 'nothing was added');

  for (const bad of [['a,b'], ['x'.repeat(61)], [''], [42]]) {
    t.equal((await http.put(base, { token: alice.token, headers: V26, body: { tags: bad } })).status, 400, `refused: ${JSON.stringify(bad)}`);
  }
  t.equal((await http.delete(base, { token: alice.token, headers: V26 })).status, 204);
  const comma = await http.put(`${base}/a,b`, { token: alice.token, headers: V26 });
  t.equal(comma.status, 400);
  t.match(fault(comma)?.message, /is invalid/);
  t.equal((await http.put(`${base}/${'y'.repeat(61)}`, { token: alice.token, headers: V26 })).status, 400);
});

t.test('another project’s server is a 404; a reader cannot change tags', async (t) => {
  t.equal((await http.get(base, { token: bob.token, headers: V26 })).status, 404);
  t.equal((await http.put(`${base}/mine`, { token: bob.token, headers: V26 })).status, 404);
  const rita = await http.member(admin, 'tags-a', 'rita', 'reader');
  t.equal((await http.put(`${base}/x`, { token: rita.token, headers: V26 })).status, 403);
  t.equal((await http.get(base, { token: rita.token, headers: V26 })).status, 200);
});

t.test('tags at create from 2.52 (400 before), and the list filters', async (t) => {
  const early = await http.post('/v2.1/servers', { token: alice.token, headers: mv('2.51'), body: { server: { name: 'x', flavorRef: '1', imageRef: image.id, tags: ['a'] } } });
  t.equal(early.status, 400, 'tags at create need 2.52');
  const ab = await boot(alice.token, 'ab', { tags: ['a', 'b'] });
  const bc = await boot(alice.token, 'bc', { tags: ['b', 'c'] });
  const none = await boot(alice.token, 'none');
  await Promise.all([ab, bc, none].map(settled));
  t.same(await tagsOf(ab), ['a', 'b']);
  const names = async (q: string) =>
    ((await http.get(`/v2.1/servers?${q}`, { token: alice.token, headers: V26 })).body.servers as { name: string }[]).map((s) => s.name).filter((n) => n !== 'tagged').sort();
  t.same(await names('tags=a,b'), ['ab'], 'tags: all of');
  t.same(await names('tags=b'), ['ab', 'bc']);
  t.same(await names('tags-any=a,c'), ['ab', 'bc'], 'tags-any: any of');
  t.same(await names('not-tags=a,b'), ['bc', 'none'], 'not-tags: not all of');
  t.same(await names('not-tags-any=a,c'), ['none'], 'not-tags-any: none of');
  t.same(await names('tags=b&not-tags-any=c'), ['ab'], 'filters combine');
});

t.test('outside active, paused, suspended and stopped a tag change is a 409', async (t) => {
  // A flavor no host can hold: the build ends in ERROR (quota raised so the API lets it through).
  await http.put(`/v2.1/os-quota-sets/${alice.projectId}`, { token: admin, body: { quota_set: { cores: -1, ram: -1 } } });
  const f = await http.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'huge', ram: 1_000_000_000, vcpus: 4000, disk: 1, id: 'huge' } } });
  t.equal(f.status, 200);
  const doomed = await boot(alice.token, 'doomed', { flavorRef: 'huge' });
  await cluster.client.waitForServer(doomed, (s) => s.status === 'ERROR', 30_000);
  const p = `/v2.1/servers/${doomed}/tags`;
  for (const [method, path, body] of [['PUT', `${p}/x`, undefined], ['PUT', p, { tags: ['x'] }], ['DELETE', `${p}/x`, undefined], ['DELETE', p, undefined]] as const) {
    const a = await http.call(method, path, { token: alice.token, headers: V26, ...(body ? { body } : {}) });
    t.equal(a.status, 409, `${method} ${path.slice(p.length) || '/tags'}`);
    t.equal(fault(a)?.name, 'conflictingRequest');
    t.match(fault(a)?.message, /vm_state error/);
  }
  t.equal((await http.get(p, { token: alice.token, headers: V26 })).status, 200, 'reading is allowed in any state');
  // Stopped is one of the allowed states.
  t.equal((await http.post(`/v2.1/servers/${id}/action`, { token: alice.token, body: { 'os-stop': null } })).status, 202);
  await cluster.client.waitForServer(id, (s) => s.status === 'SHUTOFF' && s.taskState === null, 30_000);
  t.equal((await http.put(`${base}/while-stopped`, { token: alice.token, headers: V26 })).status, 201);
});
