/**
 * `novact status` against a running cluster (embedded NATS, the client user): every role with its
 * replicas, hosts up/down, instances by state, the newest faults; and the summary's rules on made-up
 * replies (a role with no replica, the worst health of a role's replicas, no conductor answer).
 */
import t from 'tap';
import type { ServiceReplica } from '../../cluster/client.js';
import { statusText, summarise, type StatusSummary } from '../../cli/status.js';
import { cliFixture } from './run-novact.js';

const { cluster, imageName, novact } = await cliFixture(t);

t.test('a running cluster: roles and replicas, hosts, instances by state, recent faults', async (t) => {
  const image = (await cluster.client.listImages()).find((i) => i.name === imageName)!;
  const ok = await cluster.client.createServer({ name: 'st-1', flavorRef: 'm1.tiny', imageRef: image.id });
  await cluster.client.waitForServer(ok.id, (s) => s.status === 'ACTIVE' && s.taskState === null);
  const bad = await cluster.client.createServer({ name: 'st-2', flavorRef: 'm1.tiny', imageRef: image.id, availabilityZone: 'nowhere' });
  await cluster.client.waitForServer(bad.id, (s) => s.status === 'ERROR');

  const r = await novact(['status', '--json']);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  const s = JSON.parse(r.stdout) as StatusSummary;
  t.same(s.roles.map((x) => [x.role, x.replicas, x.health]), [
    ['conductor', 1, 'ok'], ['scheduler', 1, 'ok'], ['compute', 1, 'ok'], ['image', 1, 'ok'], ['network', 1, 'ok'], ['api', 1, 'ok'],
  ], 'every role, one replica each, ok');
  t.ok(s.replicas.every((x) => x.pid === String(process.pid)), 'each replica says where it runs (this process)');
  t.ok(s.roles.find((x) => x.role === 'conductor')!.requests >= 2, 'requests served are summed per role');
  t.match(s.cluster!.hosts, { total: 2, up: 2, down: 0 });
  const count = (vm: string) => s.cluster!.instances.find((i) => i.vmState === vm && i.taskState === null)?.count;
  t.equal(count('active'), 1);
  t.equal(count('error'), 1);
  t.match(s.cluster!.builds, { active: 1, error: 1 });
  t.equal(s.cluster!.recentFaults[0]?.uuid, bad.id);

  const text = await novact(['status']);
  t.equal(text.code, 0);
  t.match(text.stdout, /roles:\n\+-+/);
  t.match(text.stdout, /\| conductor +\| 1 +\| ok /);
  t.match(text.stdout, /hosts: 2 \(2 up, 0 down; 0 disabled, 0 forced down\)/);
  t.match(text.stdout, /instances: 2\n/);
  t.match(text.stdout, new RegExp(`recent faults:\\n[^]*${bad.id}[^]*No valid host`));
});

const replica = (name: string, id: string, data?: Record<string, unknown>): ServiceReplica => ({
  name, id, version: '0.1.0', started: '2026-01-01T00:00:00.000Z', metadata: { role: name.replace('novact-', ''), hostname: 'h', pid: '1' },
  endpoints: [{ name: 'e', subject: 'novact.x', num_requests: 3, num_errors: 1, last_error: '', processing_time: 10, ...(data ? { data } : {}) }],
});

t.test('the summary: absent roles, the worst health of a role, role faults, no conductor', async (t) => {
  const s = summarise([
    replica('novact-scheduler', 'a', { health: 'ok' }),
    replica('novact-scheduler', 'b', { health: 'degraded', lastError: '/scheduler: boom' }),
    replica('novact-network', 'n'),
  ], null, 'no service answers novact.conductor.status');
  const role = (r: string) => s.roles.find((x) => x.role === r)!;
  t.same([role('scheduler').replicas, role('scheduler').health, role('scheduler').requests, role('scheduler').errors], [2, 'degraded', 6, 2]);
  t.equal(role('conductor').health, 'absent', 'a core role nobody runs is shown as absent');
  t.equal(role('network').replicas, 1, 'a role this CLI does not know is shown too');
  const text = statusText(s);
  t.match(text, /conductor: no answer \(no service answers novact\.conductor\.status\)/);
  t.match(text, /role faults:\n[^]*\| scheduler \| b +\| degraded \| \/scheduler: boom \|/);
});
