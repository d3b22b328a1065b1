/**
 * Networking v2.0 end to end (the api role and the network role of a full cluster): Neutron's
 * bodies, status codes and fault types for networks, subnets, ports, security groups and rules,
 * routers and floating IPs; tenancy (another project's resources are 404s, shared and external
 * networks are seen), admin-only attributes, filters, `fields`, paging links, tags, quotas and
 * availability zones. The REST layer alone (every route, every body check) is
 * network-rest-stub.test.ts's; this file needs the network role.
 */
import t from 'tap';
import { startApiCluster, type Answer } from '../harness/api-http.js';

const { http, admin } = await startApiCluster(t, { hosts: 1 });
const alice = await http.member(admin, 'net-alice', 'alice', 'member');
const bob = await http.member(admin, 'net-bob', 'bob', 'member');
const V2 = '/networking/v2.0';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAC = /^fa:16:3e(:[0-9a-f]{2}){3}$/;
const type = (a: Answer) => a.body?.NeutronError?.type as string | undefined;

/** Creates one resource and answers its view (throws unless Neutron's 201). */
async function make(token: string, path: string, kind: string, attrs: Record<string, unknown>): Promise<any> {
  const a = await http.post(`${V2}/${path}`, { token, body: { [kind]: attrs } });
  if (a.status !== 201) throw new Error(`create ${kind}: ${a.status} ${a.text}`);
  return a.body[kind];
}

t.test('networks: create, show, list, update, delete, as Neutron shows them', async (t) => {
  const created = await http.post(`${V2}/networks`, { token: alice.token, body: { network: { name: 'net-a' } } });
  t.equal(created.status, 201);
  const net = created.body.network;
  t.match(net, {
    id: UUID, name: 'net-a', status: 'ACTIVE', admin_state_up: true, shared: false, 'router:external': false,
    mtu: 1500, subnets: [], project_id: alice.projectId, tenant_id: alice.projectId, tags: [], description: '',
    port_security_enabled: true, availability_zones: ['nova'],
  });
  t.type(net.revision_number, 'number');
  t.type(net.created_at, 'string');
  t.notOk('provider:network_type' in net, 'provider attributes are an admin’s to see');
  const shown = await http.get(`${V2}/networks/${net.id}`, { token: alice.token });
  t.same(shown.body.network, net);
  const listed = await http.get(`${V2}/networks?name=net-a`, { token: alice.token });
  t.same(listed.body.networks.map((n: { id: string }) => n.id), [net.id]);
  const fields = await http.get(`${V2}/networks/${net.id}?fields=name&fields=mtu`, { token: alice.token });
  t.same(fields.body, { network: { name: 'net-a', mtu: 1500 } });
  const renamed = await http.put(`${V2}/networks/${net.id}`, { token: alice.token, body: { network: { name: 'net-a2' } } });
  t.equal(renamed.status, 200);
  t.equal(renamed.body.network.name, 'net-a2');
  t.ok(renamed.body.network.revision_number > net.revision_number, 'the revision moves');
  const del = await http.delete(`${V2}/networks/${net.id}`, { token: alice.token });
  t.equal(del.status, 204);
  const gone = await http.get(`${V2}/networks/${net.id}`, { token: alice.token });
  t.equal(gone.status, 404);
  t.same(gone.body, { NeutronError: { type: 'NetworkNotFound', message: `Network ${net.id} could not be found.`, detail: '' } });
});

t.test('attribute checks: unknown, read-only, admin-only and invalid attributes', async (t) => {
  const unknown = await http.post(`${V2}/networks`, { token: alice.token, body: { network: { name: 'x', bogus: 1 } } });
  t.equal(unknown.status, 400);
  t.match(unknown.body.NeutronError.message, /Unrecognized attribute\(s\) 'bogus'/);
  const readOnly = await http.post(`${V2}/networks`, { token: alice.token, body: { network: { status: 'DOWN' } } });
  t.equal(readOnly.status, 400);
  const shared = await http.post(`${V2}/networks`, { token: alice.token, body: { network: { name: 'x', shared: true } } });
  t.equal(shared.status, 403);
  t.equal(type(shared), 'PolicyNotAuthorized');
  const mtu = await http.post(`${V2}/networks`, { token: alice.token, body: { network: { mtu: 'big' } } });
  t.equal(mtu.status, 400);
  const provider = await http.post(`${V2}/networks`, { token: admin, body: { network: { name: 'flat-x', 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' } } });
  t.equal(provider.status, 201, 'an admin sets provider attributes');
  t.match(provider.body.network, { 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': null });
  await http.delete(`${V2}/networks/${provider.body.network.id}`, { token: admin });
});

t.test('tenancy: another project’s network is a 404; a shared one is seen but not changed', async (t) => {
  const mine = await make(alice.token, 'networks', 'network', { name: 'alice-only' });
  const seen = await http.get(`${V2}/networks/${mine.id}`, { token: bob.token });
  t.equal(seen.status, 404);
  t.equal(type(seen), 'NetworkNotFound');
  t.notOk((await http.get(`${V2}/networks`, { token: bob.token })).body.networks.some((n: { id: string }) => n.id === mine.id), 'not listed');
  t.equal((await http.delete(`${V2}/networks/${mine.id}`, { token: bob.token })).status, 404);
  t.ok((await http.get(`${V2}/networks?id=${mine.id}`, { token: admin })).body.networks.length === 1, 'an admin sees every project’s');
  const shared = await make(admin, 'networks', 'network', { name: 'shared-net', shared: true });
  t.equal((await http.get(`${V2}/networks/${shared.id}`, { token: bob.token })).status, 200);
  const change = await http.put(`${V2}/networks/${shared.id}`, { token: bob.token, body: { network: { name: 'mine now' } } });
  t.ok(change.status === 403 || change.status === 404, `not bob’s to change (${change.status})`);
});

t.test('subnets: the gateway and pool Neutron derives; the network lists them', async (t) => {
  const net = await make(alice.token, 'networks', 'network', { name: 'with-subnet' });
  const created = await http.post(`${V2}/subnets`, { token: alice.token, body: { subnet: { network_id: net.id, ip_version: 4, cidr: '10.1.0.0/24', name: 's1' } } });
  t.equal(created.status, 201);
  t.match(created.body.subnet, {
    id: UUID, network_id: net.id, ip_version: 4, cidr: '10.1.0.0/24', gateway_ip: '10.1.0.1', enable_dhcp: true,
    allocation_pools: [{ start: '10.1.0.2', end: '10.1.0.254' }], dns_nameservers: [], host_routes: [], project_id: alice.projectId,
  });
  t.same((await http.get(`${V2}/networks/${net.id}`, { token: alice.token })).body.network.subnets, [created.body.subnet.id]);
  const v6 = await http.post(`${V2}/subnets`, { token: alice.token, body: { subnet: { network_id: net.id, ip_version: 6, cidr: 'fd00:1::/64' } } });
  t.equal(v6.status, 201);
  // Neutron's default IPv6 gateway is the subnet-router anycast address (the network's own).
  t.equal(v6.body.subnet.gateway_ip, 'fd00:1::');
  const noCidr = await http.post(`${V2}/subnets`, { token: alice.token, body: { subnet: { network_id: net.id, ip_version: 4 } } });
  t.equal(noCidr.status, 400);
  const otherNet = await http.post(`${V2}/subnets`, { token: bob.token, body: { subnet: { network_id: net.id, ip_version: 4, cidr: '10.2.0.0/24' } } });
  t.equal(otherNet.status, 404, 'not on another project’s network');
});

t.test('ports: an address and a MAC each; a taken address is a 409; a network in use is kept', async (t) => {
  const net = await make(alice.token, 'networks', 'network', { name: 'ported' });
  const subnet = await make(alice.token, 'subnets', 'subnet', { network_id: net.id, ip_version: 4, cidr: '10.3.0.0/24' });
  const port = await make(alice.token, 'ports', 'port', { network_id: net.id, name: 'p1' });
  t.match(port, { id: UUID, network_id: net.id, name: 'p1', mac_address: MAC, admin_state_up: true, device_id: '', device_owner: '', project_id: alice.projectId });
  t.equal(port.fixed_ips.length, 1);
  t.equal(port.fixed_ips[0].subnet_id, subnet.id);
  t.match(port.fixed_ips[0].ip_address, /^10\.3\.0\.\d+$/);
  t.equal(port.security_groups.length, 1, 'in the project’s default group');
  const fixed = await make(alice.token, 'ports', 'port', { network_id: net.id, fixed_ips: [{ ip_address: '10.3.0.50' }] });
  t.same(fixed.fixed_ips, [{ subnet_id: subnet.id, ip_address: '10.3.0.50' }]);
  const taken = await http.post(`${V2}/ports`, { token: alice.token, body: { port: { network_id: net.id, fixed_ips: [{ ip_address: '10.3.0.50' }] } } });
  t.equal(taken.status, 409);
  t.equal(type(taken), 'IpAddressAlreadyAllocated');
  const byIp = await http.get(`${V2}/ports?fixed_ips=ip_address%3D10.3.0.50`, { token: alice.token });
  t.same(byIp.body.ports.map((p: { id: string }) => p.id), [fixed.id]);
  const inUse = await http.delete(`${V2}/networks/${net.id}`, { token: alice.token });
  t.equal(inUse.status, 409);
  t.equal(type(inUse), 'NetworkInUse');
  for (const p of [port, fixed]) t.equal((await http.delete(`${V2}/ports/${p.id}`, { token: alice.token })).status, 204);
  const again = await make(alice.token, 'ports', 'port', { network_id: net.id, fixed_ips: [{ ip_address: '10.3.0.50' }] });
  t.equal(again.fixed_ips[0].ip_address, '10.3.0.50', 'a released address is free again');
  await http.delete(`${V2}/ports/${again.id}`, { token: alice.token });
  t.equal((await http.delete(`${V2}/networks/${net.id}`, { token: alice.token })).status, 204, 'then the network goes, its subnet with it');
  t.equal((await http.get(`${V2}/subnets/${subnet.id}`, { token: alice.token })).status, 404);
});

t.test('bulk create: all made, in order; one bad item makes none', async (t) => {
  const made = await http.post(`${V2}/networks`, { token: alice.token, body: { networks: [{ name: 'bulk-1' }, { name: 'bulk-2' }] } });
  t.equal(made.status, 201);
  t.same(made.body.networks.map((n: { name: string }) => n.name), ['bulk-1', 'bulk-2']);
  const before = (await http.get(`${V2}/networks`, { token: alice.token })).body.networks.length;
  const bad = await http.post(`${V2}/networks`, { token: alice.token, body: { networks: [{ name: 'bulk-3' }, { name: 'bulk-4', mtu: -1 }] } });
  t.equal(bad.status, 400);
  t.equal((await http.get(`${V2}/networks`, { token: alice.token })).body.networks.length, before, 'the first was not kept');
});

t.test('security groups: the default group, rules, a duplicate rule is a 409', async (t) => {
  const groups = (await http.get(`${V2}/security-groups`, { token: bob.token })).body.security_groups;
  const def = groups.find((g: { name: string }) => g.name === 'default');
  t.ok(def, 'every project has its default group');
  t.same(def.security_group_rules.map((r: { direction: string; ethertype: string }) => `${r.direction}/${r.ethertype}`).sort(), ['egress/IPv4', 'egress/IPv6', 'ingress/IPv4', 'ingress/IPv6'], 'Neutron’s default rules');
  const web = await make(bob.token, 'security-groups', 'security_group', { name: 'web', description: 'web servers' });
  t.match(web, { id: UUID, name: 'web', description: 'web servers', project_id: bob.projectId, stateful: true });
  t.same(web.security_group_rules.map((r: { direction: string }) => r.direction), ['egress', 'egress'], 'a new group lets everything out');
  const rule = await make(bob.token, 'security-group-rules', 'security_group_rule', { security_group_id: web.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' });
  t.match(rule, { id: UUID, security_group_id: web.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', remote_group_id: null });
  const dup = await http.post(`${V2}/security-group-rules`, { token: bob.token, body: { security_group_rule: { security_group_id: web.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' } } });
  t.equal(dup.status, 409);
  t.equal(type(dup), 'SecurityGroupRuleExists');
  const badRange = await http.post(`${V2}/security-group-rules`, { token: bob.token, body: { security_group_rule: { security_group_id: web.id, direction: 'ingress', protocol: 'tcp', port_range_min: 30, port_range_max: 20 } } });
  t.equal(badRange.status, 400);
  t.ok((await http.get(`${V2}/security-groups/${web.id}`, { token: bob.token })).body.security_group.security_group_rules.some((r: { id: string }) => r.id === rule.id));
  t.equal((await http.delete(`${V2}/security-group-rules/${rule.id}`, { token: bob.token })).status, 204);
  t.equal((await http.delete(`${V2}/security-groups/${web.id}`, { token: bob.token })).status, 204);
  t.equal(type(await http.get(`${V2}/security-groups/${web.id}`, { token: bob.token })), 'SecurityGroupNotFound');
});

t.test('routers and floating IPs: gateway, interface, associate, disassociate', async (t) => {
  const ext = await make(admin, 'networks', 'network', { name: 'public', 'router:external': true });
  const extSubnet = await make(admin, 'subnets', 'subnet', { network_id: ext.id, ip_version: 4, cidr: '172.24.4.0/24' });
  t.equal((await http.get(`${V2}/networks/${ext.id}`, { token: alice.token })).status, 200, 'an external network is seen by all');
  const net = await make(alice.token, 'networks', 'network', { name: 'private' });
  const subnet = await make(alice.token, 'subnets', 'subnet', { network_id: net.id, ip_version: 4, cidr: '10.4.0.0/24' });
  const router = await make(alice.token, 'routers', 'router', { name: 'r1', external_gateway_info: { network_id: ext.id } });
  t.match(router, { id: UUID, name: 'r1', status: 'ACTIVE', admin_state_up: true, project_id: alice.projectId });
  t.equal(router.external_gateway_info.network_id, ext.id);
  const iface = await http.put(`${V2}/routers/${router.id}/add_router_interface`, { token: alice.token, body: { subnet_id: subnet.id } });
  t.equal(iface.status, 200);
  t.match(iface.body, { id: router.id, subnet_id: subnet.id, port_id: UUID, network_id: net.id, project_id: alice.projectId });
  const gwPort = (await http.get(`${V2}/ports/${iface.body.port_id}`, { token: alice.token })).body.port;
  t.match(gwPort, { device_id: router.id, device_owner: 'network:router_interface', fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.4.0.1' }] });
  const port = await make(alice.token, 'ports', 'port', { network_id: net.id });
  const fip = await make(alice.token, 'floatingips', 'floatingip', { floating_network_id: ext.id });
  t.match(fip, { id: UUID, floating_network_id: ext.id, port_id: null, fixed_ip_address: null, router_id: null, project_id: alice.projectId });
  t.match(fip.floating_ip_address, /^172\.24\.4\.\d+$/);
  const assoc = await http.put(`${V2}/floatingips/${fip.id}`, { token: alice.token, body: { floatingip: { port_id: port.id } } });
  t.equal(assoc.status, 200);
  t.match(assoc.body.floatingip, { port_id: port.id, fixed_ip_address: port.fixed_ips[0].ip_address, router_id: router.id });
  const byPort = await http.get(`${V2}/floatingips?port_id=${port.id}`, { token: alice.token });
  t.same(byPort.body.floatingips.map((f: { id: string }) => f.id), [fip.id]);
  const inUse = await http.put(`${V2}/routers/${router.id}/remove_router_interface`, { token: alice.token, body: { subnet_id: subnet.id } });
  t.equal(inUse.status, 409, 'the interface a floating IP needs stays');
  t.equal(type(inUse), 'RouterInterfaceInUseByFloatingIP');
  const dis = await http.put(`${V2}/floatingips/${fip.id}`, { token: alice.token, body: { floatingip: { port_id: null } } });
  t.match(dis.body.floatingip, { port_id: null, fixed_ip_address: null, router_id: null });
  t.equal((await http.delete(`${V2}/floatingips/${fip.id}`, { token: alice.token })).status, 204);
  const removed = await http.put(`${V2}/routers/${router.id}/remove_router_interface`, { token: alice.token, body: { subnet_id: subnet.id } });
  t.equal(removed.status, 200);
  t.equal((await http.get(`${V2}/ports/${iface.body.port_id}`, { token: alice.token })).status, 404, 'its port is gone with it');
  const notExternal = await http.post(`${V2}/floatingips`, { token: alice.token, body: { floatingip: { floating_network_id: net.id } } });
  t.equal(notExternal.status, 400, 'floating IPs come from external networks only');
  t.ok(extSubnet.id);
});

t.test('paging: limit, the links Neutron gives, following them', async (t) => {
  const ids: string[] = [];
  for (const name of ['page-a', 'page-b', 'page-c']) {
    const n = await make(bob.token, 'networks', 'network', { name });
    await http.put(`${V2}/networks/${n.id}/tags/paged`, { token: bob.token });
    ids.push(n.id);
  }
  const first = await http.get(`${V2}/networks?tags=paged&limit=2&sort_key=name`, { token: bob.token });
  t.same(first.body.networks.map((n: { name: string }) => n.name), ['page-a', 'page-b']);
  const next = first.body.networks_links.find((l: { rel: string }) => l.rel === 'next');
  t.ok(next, 'a next link');
  const nextUrl = new URL(next.href);
  t.equal(nextUrl.searchParams.get('marker'), ids[1]);
  const second = await http.get(`${nextUrl.pathname}${nextUrl.search}`, { token: bob.token });
  t.same(second.body.networks.map((n: { name: string }) => n.name), ['page-c']);
  t.notOk((second.body.networks_links ?? []).some((l: { rel: string }) => l.rel === 'next'), 'the last page has no next');
  const prev = second.body.networks_links.find((l: { rel: string }) => l.rel === 'previous');
  const prevUrl = new URL(prev.href);
  t.equal(prevUrl.searchParams.get('page_reverse'), 'True');
  const back = await http.get(`${prevUrl.pathname}${prevUrl.search}`, { token: bob.token });
  t.same(back.body.networks.map((n: { name: string }) => n.name), ['page-a', 'page-b']);
  const filter = await http.get(`${V2}/networks?bogus_filter=1`, { token: bob.token });
  t.equal(filter.status, 400, 'filter validation');
});

t.test('tags: replace, add, check, filter, remove', async (t) => {
  const n = await make(bob.token, 'networks', 'network', { name: 'tagged' });
  const url = `${V2}/networks/${n.id}/tags`;
  const put = await http.put(url, { token: bob.token, body: { tags: ['red', 'blue'] } });
  t.equal(put.status, 200);
  t.same([...put.body.tags].sort(), ['blue', 'red']);
  t.equal((await http.put(`${url}/green`, { token: bob.token })).status, 201);
  t.equal((await http.get(`${url}/green`, { token: bob.token })).status, 204);
  const missing = await http.get(`${url}/yellow`, { token: bob.token });
  t.equal(missing.status, 404);
  t.equal(type(missing), 'TagNotFound');
  t.same([...(await http.get(url, { token: bob.token })).body.tags].sort(), ['blue', 'green', 'red']);
  t.same((await http.get(`${V2}/networks?tags=red,green`, { token: bob.token })).body.networks.map((x: { id: string }) => x.id), [n.id]);
  t.equal((await http.delete(`${url}/red`, { token: bob.token })).status, 204);
  t.equal((await http.get(`${V2}/networks?tags=red`, { token: bob.token })).body.networks.length, 0);
  t.equal((await http.delete(url, { token: bob.token })).status, 204);
  t.same((await http.get(`${V2}/networks/${n.id}`, { token: bob.token })).body.network.tags, []);
  t.equal((await http.get(`${V2}/networks/${n.id}/tags`, { token: alice.token })).status, 404, 'another project’s');
});

t.test('quotas: read, set by an admin, enforced with OverQuota, details, reset', async (t) => {
  const carol = await http.member(admin, 'net-carol', 'carol', 'member');
  const read = await http.get(`${V2}/quotas/${carol.projectId}`, { token: carol.token });
  t.equal(read.status, 200);
  t.match(read.body.quota, { network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, security_group: 10, security_group_rule: 100 });
  const set = await http.put(`${V2}/quotas/${carol.projectId}`, { token: admin, body: { quota: { network: 1 } } });
  t.equal(set.status, 200);
  t.equal(set.body.quota.network, 1);
  t.equal((await http.put(`${V2}/quotas/${carol.projectId}`, { token: carol.token, body: { quota: { network: 50 } } })).status, 403, 'not a member’s to raise');
  await make(carol.token, 'networks', 'network', { name: 'only-one' });
  const over = await http.post(`${V2}/networks`, { token: carol.token, body: { network: { name: 'one-too-many' } } });
  t.equal(over.status, 409);
  t.equal(type(over), 'OverQuota');
  const details = await http.get(`${V2}/quotas/${carol.projectId}/details`, { token: carol.token });
  t.match(details.body.quota.network, { limit: 1, used: 1, reserved: 0 });
  const defaults = await http.get(`${V2}/quotas/${carol.projectId}/default`, { token: carol.token });
  t.equal(defaults.body.quota.network, 100);
  t.ok((await http.get(`${V2}/quotas`, { token: admin })).body.quotas.some((q: { project_id: string }) => q.project_id === carol.projectId), 'listed with its own limits');
  t.equal((await http.delete(`${V2}/quotas/${carol.projectId}`, { token: admin })).status, 204);
  t.equal((await http.get(`${V2}/quotas/${carol.projectId}`, { token: carol.token })).body.quota.network, 100, 'back to the default');
  const unknown = await http.put(`${V2}/quotas/${carol.projectId}`, { token: admin, body: { quota: { gadgets: 3 } } });
  t.equal(unknown.status, 400);
});

t.test('availability zones and extensions', async (t) => {
  const zones = await http.get(`${V2}/availability_zones`, { token: alice.token });
  t.equal(zones.status, 200);
  t.ok(zones.body.availability_zones.some((z: { name: string; resource: string; state: string }) => z.name === 'nova' && z.resource === 'network' && z.state === 'available'));
  const byResource = await http.get(`${V2}/availability_zones?resource=router`, { token: alice.token });
  t.ok(byResource.body.availability_zones.every((z: { resource: string }) => z.resource === 'router'));
  const ext = await http.get(`${V2}/extensions`, { token: alice.token });
  t.ok(ext.body.extensions.some((e: { alias: string }) => e.alias === 'router'));
});
