/**
 * Tenants cannot reach each other through the scheduler, and quotas hold under concurrency (review
 * M1, L4): scheduler hints naming another project's server group or instance are refused (400, as
 * Nova answers an unknown group), never joined; `server_group_members` is enforced at build (403);
 * key pair and server group quotas cannot be raced past; a key pair is generated only for a create
 * that can succeed.
 */
import t from 'tap';
import { generateRsaKeyPair } from '../../actors/api/compute/keypair-keys.js';
import { fault, startApiCluster, waitForServer } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t);
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'acme', 'alice', 'member');
const bob = await http.member(admin, 'beta', 'bob', 'member');
const MV = { 'OpenStack-API-Version': 'compute 2.64' };

const boot = (token: string, name: string, hints?: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  http.post('/v2.1/servers', { token, body: { server: { name, flavorRef: '1', imageRef: image.id, ...extra }, ...(hints ? { 'os:scheduler_hints': hints } : {}) } });
const group = async (token: string, name: string, policy = 'anti-affinity') =>
  (await http.post('/v2.1/os-server-groups', { token, headers: MV, body: { server_group: { name, policy } } })).body.server_group;
const members = async (id: string) => (await http.get(`/v2.1/os-server-groups/${id}`, { token: admin, headers: MV })).body.server_group.members as string[];

const bobs = (await boot(bob.token, 'bob-1')).body.server;
await waitForServer(cluster, bobs.id, (s) => s.status === 'ACTIVE');
const bobsGroup = await group(bob.token, 'bob-anti');

t.test("a hint naming another project's server group is refused, and the group is not joined", async (t) => {
  const a = await boot(alice.token, 'intruder', { group: bobsGroup.id });
  t.equal(a.status, 400);
  t.equal(fault(a)?.name, 'badRequest');
  t.match(fault(a)?.message, new RegExp(`Instance group ${bobsGroup.id} could not be found`));
  const unknown = await boot(alice.token, 'lost', { group: '00000000-0000-4000-8000-000000000000' });
  t.equal(fault(unknown)?.message.replace(/[0-9a-f-]{36}/, 'ID'), fault(a)?.message.replace(/[0-9a-f-]{36}/, 'ID'), 'exactly as an unknown group');
  t.same(await members(bobsGroup.id), [], "bob's group has no member of alice's");
  t.same((await http.get('/v2.1/servers', { token: alice.token })).body.servers, [], 'nothing was built');
});

t.test("same_host / different_host naming another project's instance are refused", async (t) => {
  for (const hint of ['same_host', 'different_host']) {
    for (const value of [bobs.id, [bobs.id], bobs.id.toUpperCase()]) {
      const a = await boot(alice.token, 'neighbour', { [hint]: value });
      t.equal(a.status, 400, `${hint}: ${JSON.stringify(value)}`);
      t.match(fault(a)?.message, /could not be found/);
      t.notMatch(a.text, /compute-/, 'no host is revealed');
    }
    t.equal((await boot(alice.token, 'ghost', { [hint]: '00000000-0000-4000-8000-000000000000' })).status, 400, `${hint}: an unknown instance too`);
  }
  t.same((await http.get('/v2.1/servers', { token: alice.token })).body.servers, [], 'nothing was built');
});

t.test('own objects in hints work; admins may name any project\'s', async (t) => {
  const mine = await group(alice.token, 'alice-anti');
  const a = await boot(alice.token, 'member-1', { group: mine.id });
  t.equal(a.status, 202);
  await waitForServer(cluster, a.body.server.id, (s) => s.status === 'ACTIVE');
  t.same(await members(mine.id), [a.body.server.id], 'joined her own group');
  const near = await boot(alice.token, 'near', { same_host: a.body.server.id });
  t.equal(near.status, 202, 'same_host with her own server');
  await waitForServer(cluster, near.body.server.id, (s) => s.status === 'ACTIVE');
  const adminNear = await boot(admin, 'admin-near', { same_host: bobs.id });
  t.equal(adminNear.status, 202, 'an admin is exempt');
  await waitForServer(cluster, adminNear.body.server.id, (s) => s.status !== 'BUILD');
  for (const s of [a.body.server.id, near.body.server.id, adminNear.body.server.id]) await http.delete(`/v2.1/servers/${s}`, { token: admin });
  for (const s of [a.body.server.id, near.body.server.id, adminNear.body.server.id]) await waitForServer(cluster, s, (x) => x.status === 'DELETED');
});

t.test('server_group_members is enforced at build (403, as Nova)', async (t) => {
  t.equal((await http.put(`/v2.1/os-quota-sets/${alice.projectId}`, { token: admin, body: { quota_set: { server_group_members: 1 } } })).status, 200);
  const g = await group(alice.token, 'small', 'soft-anti-affinity');
  const two = await boot(alice.token, 'pair', { group: g.id }, { min_count: 2, max_count: 2 });
  t.equal(two.status, 403, 'two servers into a group of at most one');
  t.match(fault(two)?.message, /too many servers in group/);
  const first = await boot(alice.token, 'only', { group: g.id });
  t.equal(first.status, 202);
  await waitForServer(cluster, first.body.server.id, (s) => s.status === 'ACTIVE');
  t.equal((await members(g.id)).length, 1);
  const second = await boot(alice.token, 'one-too-many', { group: g.id });
  t.equal(second.status, 403, 'the group is full');
  t.equal(fault(second)?.name, 'forbidden');
  t.equal((await members(g.id)).length, 1, 'still one member');
  await http.delete(`/v2.1/servers/${first.body.server.id}`, { token: alice.token });
  await waitForServer(cluster, first.body.server.id, (s) => s.status === 'DELETED');
  await http.delete(`/v2.1/os-quota-sets/${alice.projectId}`, { token: admin });
});

t.test('the key pair quota cannot be raced past, nor a name taken twice', async (t) => {
  t.equal((await http.put(`/v2.1/os-quota-sets/${bob.projectId}`, { token: admin, body: { quota_set: { key_pairs: 3 } } })).status, 200);
  const { publicKey } = await generateRsaKeyPair();
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    http.post('/v2.1/os-keypairs', { token: bob.token, body: { keypair: { name: `k${i}`, public_key: publicKey.line } } })));
  t.equal(answers.filter((a) => a.status === 200).length, 3, 'exactly the quota succeeded');
  t.ok(answers.filter((a) => a.status !== 200).every((a) => a.status === 403 && fault(a)?.name === 'forbidden'), 'the rest are 403');
  t.equal((await http.get('/v2.1/os-keypairs', { token: bob.token })).body.keypairs.length, 3, 'and three are stored');
  const same = await Promise.all(Array.from({ length: 6 }, () =>
    http.post('/v2.1/os-keypairs', { token: alice.token, body: { keypair: { name: 'same', public_key: publicKey.line } } })));
  t.equal(same.filter((a) => a.status === 200).length, 1, 'one create of a name wins');
  t.ok(same.filter((a) => a.status !== 200).every((a) => a.status === 409), 'the others are 409, not 500');
});

t.test('a key pair is generated only for a create that can succeed (no RSA work for a taken name)', async (t) => {
  const cpu = process.cpuUsage();
  for (let i = 0; i < 10; i++) {
    const a = await http.post('/v2.1/os-keypairs', { token: alice.token, body: { keypair: { name: 'same' } } });
    t.equal(a.status, 409, 'the name is taken');
    t.notOk(a.body.keypair, 'no private key handed out');
  }
  const used = process.cpuUsage(cpu);
  // An RSA-2048 generation costs ~100-1000 ms of CPU here; ten refusals cost a few tens of ms.
  t.ok((used.user + used.system) / 1000 < 1_000, `ten refusals took ${((used.user + used.system) / 1000).toFixed(0)} ms of CPU`);
});

t.test('the server group quota cannot be raced past', async (t) => {
  t.equal((await http.put(`/v2.1/os-quota-sets/${bob.projectId}`, { token: admin, body: { quota_set: { server_groups: 3 } } })).status, 200);
  // bob already has one group.
  const answers = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    http.post('/v2.1/os-server-groups', { token: bob.token, headers: MV, body: { server_group: { name: `g${i}`, policy: 'affinity' } } })));
  t.equal(answers.filter((a) => a.status === 200).length, 2, 'exactly the room left');
  t.ok(answers.filter((a) => a.status !== 200).every((a) => a.status === 403), 'the rest are 403');
  const listed = (await http.get('/v2.1/os-server-groups', { token: bob.token, headers: MV })).body.server_groups;
  t.equal(listed.length, 3, 'three groups exist');
});
