/**
 * Servers on networks, through the compute API: a boot with a network gets a port bound to its
 * host and shows its address and MAC in `addresses`; `auto` picks the project's only network and
 * is a 409 when there are several; a user's port is kept (unbound) when its server is deleted, a
 * port the build made is deleted with it; a floating IP shows among the addresses; a build whose
 * network has no address left fails cleanly, releasing its claim and leaving no port behind.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { NetCreate, NetGet, NetList, NetRouterInterface, NetUpdate } from '../../protocols/catalog/network.js';
import type { RequestDef } from '../../protocols/catalog/define.js';
import { Subjects } from '../../protocols/subjects.js';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { startApiCluster } from '../harness/api-http.js';
import { until } from '../harness/poll.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 2 });
const alice = await http.member(admin, 'project-n', 'alice', 'member');
const nc = await connect({ servers: cluster.natsUrl, name: 'test' });
t.teardown(() => nc.drain());
const bus = new Bridge(nc, systemClock, createLogger('silent'), 10_000, new Subjects());
const as = { projectId: alice.projectId, isAdmin: false };
const root = { projectId: 'admin', isAdmin: true };
const ask = <D extends RequestDef>(def: D, kind: string, body: Record<string, unknown>) =>
  bus.call(def, [kind], body as never, { timeoutMs: 10_000, idempotencyKey: randomUUID() }) as Promise<Record<string, any>>;
const make = async (kind: string, by: object, attrs: Record<string, unknown>) => (await ask(NetCreate, kind, { by, attrs })).item as Record<string, any>;

const imageId = ((await http.get('/v2.1/images', { token: admin })).body.images[0]).id as string;
const settled = (id: string, status: string) => cluster.client.waitForServer(id, (s) => s.status === status && s.taskState === null, 30_000);
async function boot(server: Record<string, unknown>): Promise<string> {
  const r = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'vm', flavorRef: '1', imageRef: imageId, ...server } } });
  if (r.status !== 202) throw new Error(`boot: ${r.status} ${r.text}`);
  return r.body.server.id as string;
}
const show = async (id: string) => (await http.get(`/v2.1/servers/${id}`, { token: alice.token })).body.server;
const portsOf = async (deviceId: string) => (await ask(NetList, 'port', { by: as, query: { device_id: deviceId } })).items;

const net = await make('network', as, { name: 'private' });
// DNS servers and a host route ride to the host in the guest spec (for network_data.json): the host verb's schema takes them.
const subnet = await make('subnet', as, {
  network_id: net.id, ip_version: 4, cidr: '10.20.0.0/24', dns_nameservers: ['10.20.0.53'],
  host_routes: [{ destination: '192.168.77.0/24', nexthop: '10.20.0.254' }],
});

t.test('a boot with no networks named gets the only network (auto): address, MAC, bound port', async (t) => {
  const id = await boot({});
  await settled(id, 'ACTIVE');
  const s = await show(id);
  const addrs = s.addresses.private;
  t.equal(addrs?.length, 1, 'one address on "private"');
  t.match(addrs[0], { version: 4, addr: /^10\.20\.0\.\d+$/, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': /^fa:16:3e(:[0-9a-f]{2}){3}$/ });
  const [port] = await portsOf(id);
  t.equal(port.device_owner, 'compute:nova');
  t.equal(port.status, 'ACTIVE');
  const bound = (await ask(NetGet, 'port', { by: root, id: port.id })).item;
  t.equal(bound['binding:host_id'], (await http.get(`/v2.1/servers/${id}`, { token: admin })).body.server['OS-EXT-SRV-ATTR:host'], 'bound to the server\'s host');
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 204);
  await cluster.client.waitForServer(id, (x) => x.status === 'DELETED', 30_000).catch(() => undefined);
  await t.resolveMatch(until(async () => (await portsOf(id)).length === 0, 20_000), true, 'the made port is gone with the server');
});

t.test('a user port is kept, unbound, after its server is deleted; a floating IP shows', async (t) => {
  const ext = await make('network', root, { name: 'public', 'router:external': true });
  await make('subnet', root, { network_id: ext.id, ip_version: 4, cidr: '172.24.4.0/24' });
  const router = await make('router', as, { name: 'r', external_gateway_info: { network_id: ext.id } });
  await ask(NetRouterInterface, 'router', { by: as, id: router.id, action: 'add', subnetId: subnet.id });
  const mine = await make('port', as, { network_id: net.id, name: 'mine' });
  const id = await boot({ networks: [{ port: mine.id }] });
  await settled(id, 'ACTIVE');
  const fip = await make('floatingip', as, { floating_network_id: ext.id });
  await ask(NetUpdate, 'floatingip', { by: as, id: fip.id, attrs: { port_id: mine.id } });
  const addrs = (await show(id)).addresses.private;
  t.same(addrs.map((a: any) => a['OS-EXT-IPS:type']), ['fixed', 'floating']);
  t.equal(addrs[1].addr, fip.floating_ip_address);
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 204);
  await t.resolveMatch(until(async () => (await ask(NetGet, 'port', { by: as, id: mine.id })).item.device_id === '', 20_000), true, 'unbound');
  const kept = (await ask(NetGet, 'port', { by: as, id: mine.id })).item;
  t.same([kept.status, kept.fixed_ips.length], ['DOWN', 1], 'kept with its address');
});

t.test('networks: Nova\'s refusals', async (t) => {
  await make('network', as, { name: 'second' });
  const ambiguous = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'x', flavorRef: '1', imageRef: imageId } } });
  t.equal(ambiguous.status, 409, 'two networks and none named: NetworkAmbiguous');
  const unknown = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'x', flavorRef: '1', imageRef: imageId, networks: [{ uuid: randomUUID() }] } } });
  t.equal(unknown.status, 400);
  t.match(unknown.body.badRequest.message, /Network .* could not be found/);
  const none = await boot({ networks: 'none' });
  await settled(none, 'ACTIVE');
  t.same((await show(none)).addresses, {}, 'networks none: no addresses');
});

t.test('a network with no address left: the build fails cleanly, no port stays', async (t) => {
  const tiny = await make('network', as, { name: 'tiny' });
  await make('subnet', as, { network_id: tiny.id, ip_version: 4, cidr: '10.30.0.0/30' });
  const first = await boot({ networks: [{ uuid: tiny.id }] });
  await settled(first, 'ACTIVE');
  const second = await boot({ networks: [{ uuid: tiny.id }] });
  await settled(second, 'ERROR');
  const f = (await http.get(`/v2.1/servers/${second}`, { token: admin })).body.server.fault;
  t.match(f?.message ?? '', /No more IP addresses/, 'the fault says why (to an admin)');
  t.equal((await portsOf(second)).length, 0, 'no port left for the failed build');
  const held = await cluster.orm!.em.fork().getConnection().execute('select count(*)::int as n from allocations where consumer = ?', [second]);
  t.equal(held[0]!.n, 0, 'its claim is released');
});

t.test('security groups: at boot, on the server, in its view; interfaces attached and detached; ip filter', async (t) => {
  const web = await make('security_group', as, { name: 'web' });
  const only = await make('network', as, { name: 'sg-net' });
  await make('subnet', as, { network_id: only.id, ip_version: 4, cidr: '10.40.0.0/24' });
  const id = await boot({ networks: [{ uuid: only.id }], security_groups: [{ name: 'web' }] });
  await settled(id, 'ACTIVE');
  t.same((await show(id)).security_groups, [{ name: 'web' }], 'the build\'s port has the asked group');
  const unknown = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'x', flavorRef: '1', imageRef: imageId, networks: [{ uuid: only.id }], security_groups: [{ name: 'nope' }] } } });
  t.equal(unknown.status, 400);
  const action = (body: Record<string, unknown>) => http.post(`/v2.1/servers/${id}/action`, { token: alice.token, body });
  t.equal((await action({ addSecurityGroup: { name: 'default' } })).status, 202);
  t.same((await show(id)).security_groups.map((g: any) => g.name).sort(), ['default', 'web']);
  t.equal((await action({ addSecurityGroup: { name: 'web' } })).status, 400, 'already there');
  t.equal((await action({ removeSecurityGroup: { name: 'web' } })).status, 202);
  const listed = (await http.get(`/v2.1/servers/${id}/os-security-groups`, { token: alice.token })).body.security_groups;
  t.same(listed.map((g: any) => g.name), ['default']);
  t.equal((await action({ addSecurityGroup: { name: 'missing' } })).status, 404);
  t.not(web.id, undefined);

  const attached = await http.post(`/v2.1/servers/${id}/os-interface`, { token: alice.token, body: { interfaceAttachment: { net_id: net.id } } });
  t.equal(attached.status, 200);
  const att = attached.body.interfaceAttachment;
  t.match(att, { net_id: net.id, mac_addr: /^fa:16:3e/, port_state: 'ACTIVE', fixed_ips: [{ subnet_id: subnet.id, ip_address: /^10\.20\.0\./ }] });
  const list = (await http.get(`/v2.1/servers/${id}/os-interface`, { token: alice.token })).body.interfaceAttachments;
  t.equal(list.length, 2, 'two NICs');
  t.same(Object.keys((await show(id)).addresses).sort(), ['private', 'sg-net']);
  const ip = att.fixed_ips[0].ip_address as string;
  const byIp = (await http.get(`/v2.1/servers?ip=${encodeURIComponent(`^${ip.replace(/\./g, '\\.')}$`)}`, { token: alice.token })).body.servers;
  t.same(byIp.map((s: any) => s.id), [id], 'the ip filter finds the server by its address');
  t.same((await http.get('/v2.1/servers?ip=^192\\.0\\.2\\.', { token: alice.token })).body.servers, [], 'and nothing else');
  t.equal((await http.get(`/v2.1/servers?ip=${encodeURIComponent('^([0-9a-f:.]+)+z$')}`, { token: alice.token })).status, 400, 'a pattern that could backtrack exponentially is refused');
  const ips = await http.get(`/v2.1/servers/${id}/ips`, { token: alice.token });
  t.equal(ips.status, 200);
  t.same(ips.body.addresses.private, [{ version: 4, addr: ip }], '/ips: version and addr only, per network');
  t.same(Object.keys(ips.body.addresses).sort(), ['private', 'sg-net']);
  const one = await http.get(`/v2.1/servers/${id}/ips/private`, { token: alice.token });
  t.same(one.body, { private: [{ version: 4, addr: ip }] }, '/ips/{label}: that network alone');
  const other = await http.get(`/v2.1/servers/${id}/ips/elsewhere`, { token: alice.token });
  t.equal(other.status, 404, 'a network the server is not on');
  t.match(other.body.itemNotFound.message, /not a member of specified network/);
  t.equal((await http.get(`/v2.1/servers/${id}/ips`, { token: admin })).status, 200, 'an admin sees it too');
  const stranger = await http.member(admin, 'project-other', 'mallory', 'member');
  t.equal((await http.get(`/v2.1/servers/${id}/ips`, { token: stranger.token })).status, 404, "another project's server is not found");
  t.equal((await http.delete(`/v2.1/servers/${id}/os-interface/${att.port_id}`, { token: alice.token })).status, 202);
  t.equal((await http.get(`/v2.1/servers/${id}/os-interface`, { token: alice.token })).body.interfaceAttachments.length, 1, 'detached');
  t.equal((await http.get(`/v2.1/servers/${id}/os-interface/${att.port_id}`, { token: alice.token })).status, 404);
  t.equal((await action({ removeSecurityGroup: { name: 'default' } })).status, 202);
  t.notOk('security_groups' in (await show(id)), 'a server left without groups has no security_groups key, as in Nova');
});

t.test('the create answer names the groups asked for', async (t) => {
  const r = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'g', flavorRef: '1', imageRef: imageId, networks: [{ uuid: net.id }], security_groups: [{ name: 'web' }, { name: 'default' }] } } });
  t.equal(r.status, 202);
  t.same(r.body.server.security_groups, [{ name: 'web' }, { name: 'default' }]);
  await settled(r.body.server.id, 'ACTIVE');
  t.equal((await http.delete(`/v2.1/servers/${r.body.server.id}`, { token: alice.token })).status, 204);
});

t.test('ports follow their server: a cold migration binds them on the new host, a revert takes them back', async (t) => {
  const id = await boot({ networks: [{ uuid: net.id }] });
  await settled(id, 'ACTIVE');
  const hostOf = async () => (await http.get(`/v2.1/servers/${id}`, { token: admin })).body.server['OS-EXT-SRV-ATTR:host'] as string;
  const bindingOf = async () => {
    const [port] = await portsOf(id);
    return (await ask(NetGet, 'port', { by: root, id: port.id })).item['binding:host_id'] as string;
  };
  const source = await hostOf();
  t.equal(await bindingOf(), source);
  const act = (body: unknown) => http.post(`/v2.1/servers/${id}/action`, { token: admin, body });
  t.equal((await act({ migrate: null })).status, 202);
  await settled(id, 'VERIFY_RESIZE');
  const dest = await hostOf();
  t.not(dest, source, 'moved');
  t.equal(await bindingOf(), dest, 'the port is bound on the destination');
  t.equal((await act({ revertResize: null })).status, 202);
  await settled(id, 'ACTIVE');
  t.equal(await hostOf(), source);
  t.equal(await bindingOf(), source, 'a revert binds it on the source again');
  t.same((await show(id)).addresses.private.length, 1, 'the same one address throughout');
});
