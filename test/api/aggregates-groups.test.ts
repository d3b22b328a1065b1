/**
 * Host aggregates with availability zones and server groups over HTTP (the scheduler's catalog
 * behind them), and that the scheduler honours what the API set up: a zone places a server on its
 * hosts, an anti-affinity group spreads its members.
 */
import t from 'tap';
import { startApiCluster } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 3 });
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'groups-a', 'gina', 'member');
const v = (n: number) => ({ 'OpenStack-API-Version': `compute 2.${n}` });

t.test('aggregates: create with a zone, add hosts, metadata, show, list, errors, delete', async (t) => {
  const created = await http.post('/v2.1/os-aggregates', { token: admin, headers: v(41), body: { aggregate: { name: 'rack-1', availability_zone: 'az-east' } } });
  t.equal(created.status, 200);
  const agg = created.body.aggregate;
  t.equal(agg.availability_zone, 'az-east');
  t.match(agg.uuid, /^[0-9a-f-]{36}$/, 'uuid from 2.41');
  t.equal((await http.post('/v2.1/os-aggregates', { token: admin, body: { aggregate: { name: 'rack-1' } } })).status, 409);
  const act = (body: unknown) => http.post(`/v2.1/os-aggregates/${agg.id}/action`, { token: admin, body });
  t.same((await act({ add_host: { host: 'compute-1' } })).body.aggregate.hosts, ['compute-1']);
  t.equal((await act({ add_host: { host: 'compute-1' } })).status, 409, 'already a member');
  t.equal((await act({ add_host: { host: 'no-such-host' } })).status, 404);
  t.equal((await act({ frobnicate: {} })).status, 400);
  const meta = await act({ set_metadata: { metadata: { ssd: 'true' } } });
  t.same(meta.body.aggregate.metadata, { availability_zone: 'az-east', ssd: 'true' });
  t.same((await act({ set_metadata: { metadata: { ssd: null } } })).body.aggregate.metadata, { availability_zone: 'az-east' }, 'null removes a key');
  t.equal((await http.get(`/v2.1/os-aggregates/${agg.id}`, { token: admin })).body.aggregate.name, 'rack-1');
  // PUT renames and rezones (Nova's update); a taken name is a 409, an empty body a 400.
  const other = (await http.post('/v2.1/os-aggregates', { token: admin, body: { aggregate: { name: 'rack-9' } } })).body.aggregate;
  const put = (id: number, aggregate: unknown) => http.put(`/v2.1/os-aggregates/${id}`, { token: admin, body: { aggregate } });
  t.equal((await put(agg.id, { name: 'rack-9' })).status, 409, 'a name another aggregate has');
  t.equal((await put(agg.id, {})).status, 400, 'nothing to update');
  const renamed = await put(agg.id, { name: 'rack-1b', availability_zone: 'az-west' });
  t.equal(renamed.status, 200);
  t.same([renamed.body.aggregate.name, renamed.body.aggregate.availability_zone], ['rack-1b', 'az-west']);
  t.equal((await http.get(`/v2.1/os-aggregates/${agg.id}`, { token: admin })).body.aggregate.name, 'rack-1b', 'kept');
  t.equal((await put(agg.id, { name: 'rack-1' })).status, 200);
  t.equal((await put(agg.id, { availability_zone: 'az-east' })).body.aggregate.availability_zone, 'az-east');
  t.equal((await http.delete(`/v2.1/os-aggregates/${other.id}`, { token: admin })).status, 200);
  t.equal((await http.get('/v2.1/os-aggregates', { token: admin })).body.aggregates.length, 1);
  t.equal((await http.get('/v2.1/os-aggregates', { token: alice.token })).status, 403, 'an admin’s business');
  t.equal((await http.get('/v2.1/os-aggregates/999', { token: admin })).status, 404);
  t.equal((await http.get('/v2.1/os-aggregates/abc', { token: admin })).status, 404);

  const zones = await http.get('/v2.1/os-availability-zone', { token: alice.token });
  t.same(zones.body.availabilityZoneInfo.map((z: { zoneName: string }) => z.zoneName), ['az-east', 'nova'], 'the zone appears, the other hosts stay in nova');
  const services = await http.get('/v2.1/os-services', { token: admin });
  t.equal(services.body.services.find((s: { host: string }) => s.host === 'compute-1').zone, 'az-east');

  const s = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'east', flavorRef: '1', imageRef: image.id, availability_zone: 'az-east' } } });
  t.equal(s.status, 202);
  const placed = await cluster.client.waitForServer(s.body.server.id, (x) => x.status !== 'BUILD');
  t.equal(placed.host, 'compute-1', 'the zone’s only host took it');
  await http.delete(`/v2.1/servers/${s.body.server.id}`, { token: alice.token });
  await cluster.client.waitForServer(s.body.server.id, (x) => x.status === 'DELETED');

  t.equal((await http.delete(`/v2.1/os-aggregates/${agg.id}`, { token: admin })).status, 400, 'not while it has hosts');
  t.equal((await act({ remove_host: { host: 'compute-1' } })).status, 200);
  t.equal((await http.delete(`/v2.1/os-aggregates/${agg.id}`, { token: admin })).status, 200);
  t.equal((await http.get(`/v2.1/os-aggregates/${agg.id}`, { token: admin })).status, 404);
});

t.test('server groups: policies by microversion, members, isolation, quota', async (t) => {
  const old = await http.post('/v2.1/os-server-groups', { token: alice.token, body: { server_group: { name: 'spread', policies: ['anti-affinity'] } } });
  t.equal(old.status, 200);
  t.same(old.body.server_group.policies, ['anti-affinity'], '`policies` before 2.64');
  t.notOk('project_id' in old.body.server_group);
  t.equal((await http.post('/v2.1/os-server-groups', { token: alice.token, body: { server_group: { name: 'x', policies: ['soft-affinity'] } } })).status, 400, 'soft policies need 2.15');
  t.equal((await http.post('/v2.1/os-server-groups', { token: alice.token, headers: v(64), body: { server_group: { name: 'x', policies: ['affinity'] } } })).status, 400, '`policy` from 2.64');
  const modern = await http.post('/v2.1/os-server-groups', { token: alice.token, headers: v(64), body: { server_group: { name: 'two-per-host', policy: 'anti-affinity', rules: { max_server_per_host: 2 } } } });
  t.same(modern.body.server_group.rules, { max_server_per_host: 2 });
  t.equal(modern.body.server_group.project_id, alice.projectId);

  const group = old.body.server_group.id;
  const ids: string[] = [];
  for (const name of ['g1', 'g2', 'g3']) {
    const r = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name, flavorRef: '1', imageRef: image.id }, 'os:scheduler_hints': { group } } });
    t.equal(r.status, 202);
    ids.push(r.body.server.id);
  }
  const placed = await Promise.all(ids.map((id) => cluster.client.waitForServer(id, (x) => x.status !== 'BUILD')));
  t.equal(new Set(placed.map((p) => p.host)).size, 3, 'anti-affinity: three hosts for three members');
  const shown = await http.get(`/v2.1/os-server-groups/${group}`, { token: alice.token });
  t.same([...shown.body.server_group.members].sort(), [...ids].sort());

  const bob = await http.member(admin, 'groups-b', 'gabe', 'member');
  t.equal((await http.get(`/v2.1/os-server-groups/${group}`, { token: bob.token })).status, 404, 'another project’s group is not there');
  t.equal((await http.get('/v2.1/os-server-groups', { token: bob.token })).body.server_groups.length, 0);
  t.equal((await http.get('/v2.1/os-server-groups?all_projects=True', { token: bob.token })).status, 403);
  t.ok((await http.get('/v2.1/os-server-groups?all_projects=True', { token: admin })).body.server_groups.length >= 2);
  const bad = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'x', flavorRef: '1', imageRef: image.id }, 'os:scheduler_hints': { group: '00000000-0000-4000-8000-000000000000' } } });
  t.equal(bad.status, 400, 'a build into a missing group is refused');

  await http.put(`/v2.1/os-quota-sets/${bob.projectId}`, { token: admin, body: { quota_set: { server_groups: 1 } } });
  t.equal((await http.post('/v2.1/os-server-groups', { token: bob.token, body: { server_group: { name: 'one', policies: ['affinity'] } } })).status, 200);
  const over = await http.post('/v2.1/os-server-groups', { token: bob.token, body: { server_group: { name: 'two', policies: ['affinity'] } } });
  t.equal(over.status, 403);
  t.match(over.body.forbidden.message, /too many server groups/);
  t.equal((await http.delete(`/v2.1/os-server-groups/${modern.body.server_group.id}`, { token: alice.token })).status, 204);
  t.equal((await http.get(`/v2.1/os-server-groups/${modern.body.server_group.id}`, { token: alice.token })).status, 404);
});
