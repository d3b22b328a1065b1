/**
 * Quota classes (`os-quota-class-sets`): the `default` class is what projects without limits of
 * their own get (their quota set, `/defaults`, `/limits` and the boot check all follow it), a
 * project's own limit still wins, other class names are kept and change nothing; keys by
 * microversion; admins only.
 */
import t from 'tap';
import { fault, startApiCluster } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1 });
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'qc-a', 'alice', 'member');
const bob = await http.member(admin, 'qc-b', 'bob', 'member');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
const put = (id: string, body: Record<string, unknown>, version = '2.57', token = admin) =>
  http.put(`/v2.1/os-quota-class-sets/${id}`, { token, headers: mv(version), body: { quota_class_set: body } });

t.test('the default class: shown with the configured defaults, then changed for every project without its own limit', async (t) => {
  const shown = await http.get('/v2.1/os-quota-class-sets/default', { token: admin, headers: mv('2.57') });
  t.equal(shown.status, 200);
  t.same(shown.body.quota_class_set, {
    id: 'default', instances: 10, cores: 20, ram: 51200, key_pairs: 100, metadata_items: 128, server_groups: 10, server_group_members: 10,
  });
  const changed = await put('default', { instances: 1 });
  t.equal(changed.status, 200, changed.text);
  t.equal(changed.body.quota_class_set.instances, 1);
  t.notOk('id' in changed.body.quota_class_set, "the update's answer has no id, as Nova's");
  t.equal((await http.get(`/v2.1/os-quota-sets/${alice.projectId}`, { token: alice.token })).body.quota_set.instances, 1, "a project's quota set follows it");
  t.equal((await http.get(`/v2.1/os-quota-sets/${alice.projectId}/defaults`, { token: alice.token })).body.quota_set.instances, 1, 'so do the defaults');
  t.equal((await http.get('/v2.1/limits', { token: alice.token })).body.limits.absolute.maxTotalInstances, 1, 'and the limits');

  const boot = (token: string, name: string) => http.post('/v2.1/servers', { token, body: { server: { name, flavorRef: '1', imageRef: image.id, networks: 'none' } } });
  const first = await boot(alice.token, 'one');
  t.equal(first.status, 202);
  const second = await boot(alice.token, 'two');
  t.equal(second.status, 403, 'the class limit is enforced at boot');
  t.match(fault(second)?.message, /Quota exceeded for instances/);

  t.equal((await http.put(`/v2.1/os-quota-sets/${bob.projectId}`, { token: admin, body: { quota_set: { instances: 5 } } })).status, 200);
  t.equal((await http.get(`/v2.1/os-quota-sets/${bob.projectId}`, { token: bob.token })).body.quota_set.instances, 5, "a project's own limit wins over the class");
  t.equal((await put('default', { instances: 10 })).status, 200);
  t.equal((await http.delete(`/v2.1/servers/${first.body.server.id}`, { token: alice.token })).status, 204);
});

t.test('another class is kept and shown, and applies to nobody', async (t) => {
  t.equal((await put('gold', { cores: 100 })).status, 200);
  t.equal((await http.get('/v2.1/os-quota-class-sets/gold', { token: admin })).body.quota_class_set.cores, 100);
  t.equal((await http.get(`/v2.1/os-quota-sets/${alice.projectId}`, { token: alice.token })).body.quota_set.cores, 20);
});

t.test('keys by microversion, hostile bodies, members', async (t) => {
  const old = (await http.get('/v2.1/os-quota-class-sets/default', { token: admin })).body.quota_class_set;
  t.match(old, { fixed_ips: -1, floating_ips: 10, security_groups: 10, security_group_rules: 20, injected_files: 5 }, 'before 2.50: the nova-network keys');
  t.notOk('server_groups' in old, 'and no server groups');
  const v250 = (await http.get('/v2.1/os-quota-class-sets/default', { token: admin, headers: mv('2.50') })).body.quota_class_set;
  t.ok('server_groups' in v250 && 'injected_files' in v250 && !('floating_ips' in v250), '2.50: server groups in, network out');
  t.equal((await put('default', { floating_ips: 3 }, '2.1')).status, 200, 'a legacy key is accepted before 2.50');
  t.equal((await put('default', { floating_ips: 3 }, '2.50')).status, 400, 'and refused from 2.50');
  t.equal((await put('default', { injected_files: 3 }, '2.57')).status, 400, 'file injection is gone at 2.57');
  t.equal((await put('default', { instances: -2 })).status, 400);
  t.equal((await put('default', { instances: 'many' })).status, 400);
  t.equal((await put('default', { bogus: 1 })).status, 400);
  t.equal((await http.put('/v2.1/os-quota-class-sets/default', { token: admin, body: {} })).status, 400);
  t.equal((await put('default', { instances: 50 }, '2.57', alice.token)).status, 403, 'members may not change a class');
  t.equal((await http.get('/v2.1/os-quota-class-sets/default', { token: alice.token })).status, 403, 'nor read one');
});
