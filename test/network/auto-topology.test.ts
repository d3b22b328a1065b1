/**
 * Nova's get-me-a-network with the cloud configured for it: a project with no network boots with
 * `networks: auto` onto a network made for it (a subnet from the supernet, a router to the default
 * external network); Neutron's `auto-allocated-topology` answers that network; another project
 * gets the next prefix; the topology cannot be deleted while a server uses it.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { NetCreate, NetList } from '../../protocols/catalog/network.js';
import { Subjects } from '../../protocols/subjects.js';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { startApiCluster } from '../harness/api-http.js';
import { until } from '../harness/poll.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1, network: { autoAllocate: { supernet: '10.128.0.0/16', prefixLength: 24 } } });
const nc = await connect({ servers: cluster.natsUrl, name: 'test' });
t.teardown(() => nc.drain());
const bus = new Bridge(nc, systemClock, createLogger('silent'), 10_000, new Subjects());
const root = { projectId: 'admin', isAdmin: true };
const ext = (await bus.call(NetCreate, ['network'], { by: root, attrs: { name: 'public', 'router:external': true, is_default: true } }, { timeoutMs: 10_000, idempotencyKey: randomUUID() })).item as { id: string };
await bus.call(NetCreate, ['subnet'], { by: root, attrs: { network_id: ext.id, ip_version: 4, cidr: '203.0.113.0/24' } }, { timeoutMs: 10_000, idempotencyKey: randomUUID() });
const imageId = (await http.get('/v2.1/images', { token: admin })).body.images[0].id as string;
const mv = { 'OpenStack-API-Version': 'compute 2.37' };
const N = '/networking/v2.0';

t.test('a project with no network boots onto one made for it', async (t) => {
  const alice = await http.member(admin, 'project-auto-a', 'alice', 'member');
  const r = await http.post('/v2.1/servers', { token: alice.token, headers: mv, body: { server: { name: 'a', flavorRef: '1', imageRef: imageId, networks: 'auto' } } });
  t.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  await cluster.client.waitForServer(id, (s) => s.status === 'ACTIVE' && s.taskState === null, 30_000);
  const addrs = (await http.get(`/v2.1/servers/${id}`, { token: alice.token })).body.server.addresses;
  t.match(addrs.auto_allocated_network?.[0]?.addr, /^10\.128\.0\.\d+$/, 'an address of the first prefix');
  const topo = await http.get(`${N}/auto-allocated-topology/${alice.projectId}`, { token: alice.token });
  t.equal(topo.status, 200);
  const nets = (await http.get(`${N}/networks?name=auto_allocated_network`, { token: alice.token })).body.networks;
  t.equal(nets.length, 1);
  t.equal(topo.body.auto_allocated_topology.id, nets[0].id, 'the topology is that network');
  const routers = (await http.get(`${N}/routers`, { token: alice.token })).body.routers;
  t.equal(routers[0]?.external_gateway_info?.network_id, ext.id, 'a router to the default external network');
  const busy = await http.delete(`${N}/auto-allocated-topology/${alice.projectId}`, { token: alice.token });
  t.equal(busy.status, 409, 'in use: not deleted');
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 204);
  t.ok(await until(async () => (await bus.call(NetList, ['port'], { by: root, query: { device_id: id } }, { timeoutMs: 10_000 })).items.length === 0, 20_000), 'the server\'s port is gone');
  t.equal((await http.delete(`${N}/auto-allocated-topology/${alice.projectId}`, { token: alice.token })).status, 204);
  t.same((await http.get(`${N}/networks?name=auto_allocated_network`, { token: alice.token })).body.networks, [], 'the network is gone');
  t.same((await http.get(`${N}/routers`, { token: alice.token })).body.routers, [], 'and its router');
});

t.test('another project gets the next prefix; no one reads another project\'s topology', async (t) => {
  const bob = await http.member(admin, 'project-auto-b', 'bob', 'member');
  const carol = await http.member(admin, 'project-auto-c', 'carol', 'member');
  const b = await http.get(`${N}/auto-allocated-topology/${bob.projectId}`, { token: bob.token });
  const c = await http.get(`${N}/auto-allocated-topology/${carol.projectId}`, { token: carol.token });
  t.equal(b.status, 200);
  t.equal(c.status, 200);
  const subnetOf = async (token: string) => (await http.get(`${N}/subnets`, { token })).body.subnets[0].cidr;
  t.not(await subnetOf(bob.token), await subnetOf(carol.token), 'distinct prefixes');
  t.equal((await http.get(`${N}/auto-allocated-topology/${carol.projectId}`, { token: bob.token })).status, 403);
});
