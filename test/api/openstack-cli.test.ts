/**
 * The real `openstack` CLI (Debian's python3-openstackclient, installed by scripts/setup.sh) driving
 * a running cluster through the REST API: Keystone password auth and the catalog, then compute
 * (servers, flavors, key pairs, server groups, aggregates, hypervisors with their uptime, services, quotas, limits) and
 * image commands, each checked in its JSON output. Waits between commands follow the instance's own
 * events (no sleeps); the CLI's `--wait` polling is used once, for `server create`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startApiCluster } from '../harness/api-http.js';
import { openstackCli } from '../harness/openstack-cli.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 2 });
const { osc, json, ok, dir } = openstackCli(t, cluster.apiUrl!);

const settled = (id: string, status: string) =>
  cluster.client.waitForServer(id, (s) => s.status === status && s.taskState === null);

t.test('token issue: Keystone password auth, project scope', async (t) => {
  const tok = await json(t, ['token', 'issue']);
  t.match(tok.id, /^[A-Za-z0-9_-]{40,}$/);
  const project = (await http.get('/v3/projects?name=admin', { token: admin })).body.projects[0];
  t.equal(tok.project_id, project.id);
  const wrong = await osc(['token', 'issue'], { name: 'admin', password: 'wrong', project: 'admin' });
  t.not(wrong.code, 0, 'a wrong password fails');
  t.match(wrong.stderr, /401|authenticat/i);
});

t.test('project create, user create, role add: the new member gets a token for the project', async (t) => {
  const [project, user] = await Promise.all([
    json(t, ['project', 'create', 'cli-project']),
    json(t, ['user', 'create', '--password', 'cli-password', 'cli-user']),
  ]);
  t.equal(project.name, 'cli-project');
  t.equal(user.name, 'cli-user');
  await ok(t, ['role', 'add', '--user', 'cli-user', '--project', 'cli-project', 'member']);
  const tok = await json(t, ['token', 'issue'], { name: 'cli-user', password: 'cli-password', project: 'cli-project' });
  t.equal(tok.project_id, project.id);
  t.equal(tok.user_id, user.id);
});

t.test('flavor list / create / show', async (t) => {
  const [list, created] = await Promise.all([
    json(t, ['flavor', 'list']),
    json(t, ['flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', '--property', 'hw:cpu_policy=shared', 'cli.tiny']),
  ]);
  // Listed while the create runs: the defaults are there, cli.tiny may or may not be yet.
  const names = list.map((f: { Name: string }) => f.Name);
  t.same(names.filter((n: string) => n.startsWith('m1.')), ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge']);
  t.equal(created.name, 'cli.tiny');
  t.equal(created.ram, 256);
  const shown = await json(t, ['flavor', 'show', 'cli.tiny']);
  t.equal(shown.vcpus, 1);
  t.equal(shown.disk, 1);
  t.same(shown.properties, { 'hw:cpu_policy': 'shared' }, 'extra specs set by --property');
});

t.test('image create --file / list / show / delete', async (t) => {
  const file = join(dir, 'disk.raw');
  const data = Buffer.alloc(700_000, 7);
  writeFileSync(file, data);
  const created = await json(t, ['image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', 'cli-img']);
  t.equal(created.name, 'cli-img');
  const [list, shown] = await Promise.all([json(t, ['image', 'list']), json(t, ['image', 'show', 'cli-img'])]);
  t.ok(list.some((i: { Name: string; Status: string }) => i.Name === 'cli-img' && i.Status === 'active'), 'listed active');
  t.equal(shown.status, 'active');
  t.equal(shown.size, data.length);
  t.equal(shown.checksum, (await import('node:crypto')).createHash('md5').update(data).digest('hex'));
  await ok(t, ['image', 'delete', 'cli-img']);
  t.notOk((await json(t, ['image', 'list'])).some((i: { Name: string }) => i.Name === 'cli-img'), 'gone after delete');
});

t.test('keypair create / list', async (t) => {
  const pub = join(dir, 'id.pub');
  writeFileSync(pub, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl cli@test\n');
  const created = await json(t, ['keypair', 'create', '--public-key', pub, 'cli-key']);
  t.equal(created.name, 'cli-key');
  t.match(created.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  const generated = await osc(['keypair', 'create', 'cli-generated']);
  t.equal(generated.code, 0);
  t.match(generated.stdout, /BEGIN RSA PRIVATE KEY/, 'a generated key pair prints its private key');
  const list = await json(t, ['keypair', 'list']);
  t.same(list.map((k: { Name: string }) => k.Name).sort(), ['cli-generated', 'cli-key']);
});

t.test('server create --wait / list / show / stop / start / reboot / delete', async (t) => {
  const created = await json(t, ['server', 'create', '--flavor', 'cli.tiny', '--image', 'cirros-0.6.2', '--key-name', 'cli-key', '--wait', 'cli-vm']);
  t.equal(created.status, 'ACTIVE', 'create --wait returns once ACTIVE');
  const id = created.id as string;
  const [list, shown] = await Promise.all([json(t, ['server', 'list']), json(t, ['server', 'show', 'cli-vm'])]);
  t.same(list.map((s: { Name: string; Status: string }) => [s.Name, s.Status]), [['cli-vm', 'ACTIVE']]);
  t.equal(shown.id, id);
  t.equal(shown.flavor, `cli.tiny (${shown.flavor.match(/\((.*)\)/)[1]})`);
  t.match(shown['OS-EXT-SRV-ATTR:host'], /^compute-\d$/);
  await ok(t, ['server', 'stop', 'cli-vm']);
  await settled(id, 'SHUTOFF');
  t.equal((await json(t, ['server', 'show', 'cli-vm'])).status, 'SHUTOFF');
  await ok(t, ['server', 'start', 'cli-vm']);
  await settled(id, 'ACTIVE');
  await ok(t, ['server', 'reboot', '--hard', 'cli-vm']);
  await settled(id, 'ACTIVE');
  await ok(t, ['server', 'reboot', 'cli-vm']);
  await settled(id, 'ACTIVE');
  const actions = (await http.get(`/v2.1/servers/${id}/os-instance-actions`, { token: admin })).body.instanceActions.map((a: { action: string }) => a.action);
  t.same(actions, ['reboot', 'reboot', 'start', 'stop', 'create'], 'every command left its instance action');
  await ok(t, ['server', 'delete', 'cli-vm']);
  await cluster.client.waitForServer(id, (s) => s.status === 'DELETED');
  t.same(await json(t, ['server', 'list']), []);
});

t.test('server group create, aggregate create / add host', async (t) => {
  const [group, aggregate] = await Promise.all([
    json(t, ['server', 'group', 'create', '--policy', 'anti-affinity', 'cli-group']),
    json(t, ['aggregate', 'create', '--zone', 'cli-zone', 'cli-agg']),
  ]);
  t.equal(group.name, 'cli-group');
  t.equal(group.policy, 'anti-affinity');
  t.equal(aggregate.availability_zone, 'cli-zone');
  const added = await json(t, ['aggregate', 'add', 'host', 'cli-agg', 'compute-1']);
  t.same(added.hosts, ['compute-1']);
  const zones = (await http.get('/v2.1/os-availability-zone', { token: admin })).body.availabilityZoneInfo.map((z: { zoneName: string }) => z.zoneName);
  t.same(zones, ['cli-zone', 'nova'], 'the new zone is live');
});

t.test('hypervisor list, compute service list, quota show, limits show --absolute', async (t) => {
  const [hypervisors, services, quota, limits] = await Promise.all([
    json(t, ['hypervisor', 'list']),
    json(t, ['compute', 'service', 'list']),
    json(t, ['quota', 'show']),
    json(t, ['limits', 'show', '--absolute']),
  ]);
  t.same(hypervisors.map((h: { 'Hypervisor Hostname': string }) => h['Hypervisor Hostname']).sort(), ['compute-1', 'compute-2']);
  t.ok(hypervisors.every((h: { State: string }) => h.State === 'up'));
  t.same(services.map((s: { Binary: string; Host: string; State: string }) => [s.Binary, s.Host, s.State]), [
    ['nova-compute', 'compute-1', 'up'], ['nova-compute', 'compute-2', 'up'],
  ]);
  t.equal(quota.instances, 10);
  t.equal(quota.cores, 20);
  t.equal(quota.ram, 51200);
  const byName = Object.fromEntries(limits.map((l: { Name: string; Value: number }) => [l.Name, l.Value]));
  t.equal(byName.maxTotalInstances, 10);
  t.equal(byName.totalInstancesUsed, 0);
});

t.test('hypervisor show: the record, its aggregates and the uptime line split as the CLI reads it', async (t) => {
  const shown = await json(t, ['hypervisor', 'show', 'compute-1']);
  const api = (await http.get('/v2.1/os-hypervisors/detail', { token: admin })).body.hypervisors
    .find((h: { hypervisor_hostname: string }) => h.hypervisor_hostname === 'compute-1');
  t.equal(shown.hypervisor_hostname, 'compute-1');
  t.equal(shown.service_host, 'compute-1');
  t.equal(shown.id, api.id);
  for (const k of ['vcpus', 'memory_mb', 'local_gb', 'hypervisor_type', 'hypervisor_version', 'disk_available_least']) t.equal(shown[k], api[k], k);
  t.same(shown.cpu_info, { arch: 'x86_64' }, 'cpu_info parsed from its 2.1 string');
  t.same(shown.aggregates, ['cli-agg'], 'the aggregate compute-1 was added to');
  // From GET /os-hypervisors/{id}/uptime: ` hh:mm:ss up <uptime>, <n> users,  load average: a, b, c`.
  t.match(shown.host_time, /^\d\d:\d\d:\d\d$/);
  t.match(shown.uptime, /^(\d+ days?, )?(\d+ min|\d+:\d\d)$/);
  t.equal(shown.users, '0');
  t.equal(shown.load_average, '0.00, 0.00, 0.00');
});
