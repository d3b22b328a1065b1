/**
 * The real `openstack` CLI (Debian's python3-openstackclient, scripts/setup.sh) driving Networking
 * v2.0 through the catalog's `network` entry: networks, subnets, ports, security groups and rules,
 * an external network with a router gateway and interface, a floating IP associated with a port,
 * and `availability zone list` showing compute and network zones side by side. Each command's
 * `-f json` output is checked. Needs the network role in the cluster.
 */
import t from 'tap';
import { startApiCluster } from '../harness/api-http.js';
import { openstackCli } from '../harness/openstack-cli.js';

const { cluster } = await startApiCluster(t, { hosts: 1 });
const { osc, json, ok } = openstackCli(t, cluster.apiUrl!);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

t.test('network create / list / show / delete', async (t) => {
  const created = await json(t, ['network', 'create', 'cli-tmp']);
  t.match(created, { name: 'cli-tmp', status: 'ACTIVE', id: UUID, mtu: 1500, subnets: [], 'router:external': false });
  const [list, shown] = await Promise.all([json(t, ['network', 'list']), json(t, ['network', 'show', 'cli-tmp'])]);
  t.ok(list.some((n: { Name: string; ID: string }) => n.Name === 'cli-tmp' && n.ID === created.id), 'listed');
  t.equal(shown.id, created.id);
  t.equal(shown.project_id, created.project_id);
  await ok(t, ['network', 'delete', 'cli-tmp']);
  t.notOk((await json(t, ['network', 'list'])).some((n: { Name: string }) => n.Name === 'cli-tmp'), 'gone after delete');
  const missing = await osc(['network', 'show', 'cli-tmp']);
  t.not(missing.code, 0, 'show of a deleted network fails');
});

// One topology for the rest: a private network and subnet, a port, a security group with a rule,
// an external network, a router between them, and a floating IP on the port.
const ids: Record<string, string> = {};

t.test('subnet create --network --subnet-range; port create --network', async (t) => {
  const net = await json(t, ['network', 'create', 'cli-net']);
  ids.net = net.id;
  const subnet = await json(t, ['subnet', 'create', '--network', 'cli-net', '--subnet-range', '10.0.0.0/24', 'cli-subnet']);
  t.match(subnet, { name: 'cli-subnet', network_id: net.id, cidr: '10.0.0.0/24', ip_version: 4, gateway_ip: '10.0.0.1', enable_dhcp: true });
  t.match(JSON.stringify(subnet.allocation_pools), /10\.0\.0\.2.*10\.0\.0\.254/, 'the pool Neutron derives');
  ids.subnet = subnet.id;
  t.same((await json(t, ['network', 'show', 'cli-net'])).subnets, [subnet.id], 'the network lists its subnet');
  const port = await json(t, ['port', 'create', '--network', 'cli-net', 'cli-port']);
  t.match(port, { name: 'cli-port', network_id: net.id, id: UUID });
  t.match(port.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  t.equal(port.fixed_ips.length, 1);
  t.match(port.fixed_ips[0], { subnet_id: subnet.id, ip_address: /^10\.0\.0\.\d+$/ });
  ids.port = port.id;
  ids.portIp = port.fixed_ips[0].ip_address;
  const ports = await json(t, ['port', 'list', '--network', 'cli-net']);
  t.ok(ports.some((p: { ID: string; 'MAC Address': string }) => p.ID === port.id && p['MAC Address'] === port.mac_address), 'port list shows it with its MAC');
});

t.test('security group create / list; security group rule create --protocol tcp --dst-port 22', async (t) => {
  const sg = await json(t, ['security', 'group', 'create', 'cli-sg']);
  t.match(sg, { name: 'cli-sg', id: UUID });
  t.same(sg.rules.map((r: { direction: string }) => r.direction), ['egress', 'egress'], 'a new group lets everything out');
  const rule = await json(t, ['security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', 'cli-sg']);
  t.match(rule, { security_group_id: sg.id, direction: 'ingress', ether_type: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' });
  const list = await json(t, ['security', 'group', 'list']);
  const names = list.map((g: { Name: string }) => g.Name);
  t.ok(names.includes('cli-sg'), 'listed with its name');
  t.ok(names.includes('default'), 'beside the project’s default group');
  const shown = await json(t, ['security', 'group', 'show', 'cli-sg']);
  t.ok(shown.rules.some((r: { id: string }) => r.id === rule.id), 'the group shows its new rule');
});

t.test('router create; router set --external-gateway; router add subnet', async (t) => {
  const pub = await json(t, ['network', 'create', '--external', 'cli-public']);
  t.equal(pub['router:external'], true);
  ids.public = pub.id;
  await json(t, ['subnet', 'create', '--network', 'cli-public', '--subnet-range', '172.24.4.0/24', '--no-dhcp', 'cli-public-subnet']);
  const router = await json(t, ['router', 'create', 'cli-router']);
  t.match(router, { name: 'cli-router', status: 'ACTIVE', id: UUID });
  ids.router = router.id;
  await ok(t, ['router', 'set', '--external-gateway', 'cli-public', 'cli-router']);
  t.equal((await json(t, ['router', 'show', 'cli-router'])).external_gateway_info.network_id, pub.id);
  await ok(t, ['router', 'add', 'subnet', 'cli-router', 'cli-subnet']);
  const shown = await json(t, ['router', 'show', 'cli-router']);
  t.ok(shown.interfaces_info.some((i: { subnet_id: string; ip_address: string }) => i.subnet_id === ids.subnet && i.ip_address === '10.0.0.1'), 'the interface holds the subnet’s gateway');
});

t.test('floating ip create <external network>; floating ip set --port', async (t) => {
  const fip = await json(t, ['floating', 'ip', 'create', 'cli-public']);
  t.match(fip, { floating_network_id: ids.public, port_id: null, id: UUID });
  t.match(fip.floating_ip_address, /^172\.24\.4\.\d+$/);
  ids.fip = fip.id;
  await ok(t, ['floating', 'ip', 'set', '--port', 'cli-port', fip.id]);
  const shown = await json(t, ['floating', 'ip', 'show', fip.id]);
  t.match(shown, { port_id: ids.port, fixed_ip_address: ids.portIp, router_id: ids.router });
  const list = await json(t, ['floating', 'ip', 'list']);
  t.ok(list.some((f: { ID: string; Port: string }) => f.ID === fip.id && f.Port === ids.port), 'listed on its port');
});

t.test('availability zone list: compute and network zones', async (t) => {
  const all = await json(t, ['availability', 'zone', 'list', '--long']);
  t.ok(all.some((z: Record<string, string>) => z['Zone Name'] === 'nova' && z['Service Name'] === 'nova-compute'), 'the compute zone with its host');
  t.ok(all.some((z: Record<string, string>) => z['Zone Name'] === 'nova' && z['Zone Resource'] === 'network' && z['Zone Status'] === 'available'), 'the network zone');
  const network = await json(t, ['availability', 'zone', 'list', '--network']);
  t.ok(network.length > 0 && network.every((z: Record<string, string>) => z['Zone Status'] === 'available'), 'network zones alone');
});

t.test('server create --network; server add security group; server add floating ip; server list --ip', async (t) => {
  const server = await json(t, ['server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros-0.6.2', '--network', 'cli-net', '--wait', 'cli-vm']);
  t.equal(server.status, 'ACTIVE');
  t.match(JSON.stringify(server.addresses), /cli-net.*10\.0\.0\.\d+/, 'created with an address on cli-net');
  await ok(t, ['server', 'add', 'security', 'group', 'cli-vm', 'cli-sg']);
  const groups = (await json(t, ['server', 'show', 'cli-vm'])).security_groups;
  t.match(JSON.stringify(groups), /cli-sg/, 'the server shows the added group');
  const fip = await json(t, ['floating', 'ip', 'create', 'cli-public']);
  await ok(t, ['server', 'add', 'floating', 'ip', 'cli-vm', fip.floating_ip_address]);
  const shown = await json(t, ['server', 'show', 'cli-vm']);
  t.match(JSON.stringify(shown.addresses), new RegExp(fip.floating_ip_address.replace(/\./g, '\\.')), 'the floating IP among its addresses');
  const fixed = (await json(t, ['port', 'list', '--server', 'cli-vm']))[0]['Fixed IP Addresses'];
  t.ok(fixed, 'port list --server shows its port');
  const byIp = await json(t, ['server', 'list', '--ip', '10.0.0.']);
  t.ok(byIp.some((x: { Name: string }) => x.Name === 'cli-vm'), 'server list --ip finds it');
  await ok(t, ['server', 'remove', 'floating', 'ip', 'cli-vm', fip.floating_ip_address]);
  await ok(t, ['floating', 'ip', 'delete', fip.id]);
  await ok(t, ['server', 'delete', '--wait', 'cli-vm']);
});

t.test('taking the topology down again', async (t) => {
  await ok(t, ['floating', 'ip', 'delete', ids.fip!]);
  await ok(t, ['router', 'remove', 'subnet', 'cli-router', 'cli-subnet']);
  await ok(t, ['router', 'delete', 'cli-router']);
  await ok(t, ['port', 'delete', 'cli-port']);
  await ok(t, ['security', 'group', 'delete', 'cli-sg']);
  await ok(t, ['network', 'delete', 'cli-net']);
  const names = (await json(t, ['network', 'list'])).map((n: { Name: string }) => n.Name);
  t.notOk(names.includes('cli-net'), 'the private network is gone');
  t.ok(names.includes('cli-public'), 'the external one stays');
});
