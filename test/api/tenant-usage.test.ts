/**
 * `os-simple-tenant-usage`: hours and resource-hours per server over a period, deleted servers
 * included for the time they ran, totals per project; admins list every project (`detailed=1`
 * for the servers), members see only their own; the period's validation; paging from 2.40.
 */
import t from 'tap';
import { startApiCluster, waitForServer } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1 });
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'tu-a', 'alice', 'member');
const bob = await http.member(admin, 'tu-b', 'bob', 'member');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
/** Nova's naive datetime form, to the second. */
const when = (ms: number) => new Date(ms).toISOString().slice(0, 19);

async function boot(token: string, name: string, flavorRef = '1'): Promise<string> {
  const r = await http.post('/v2.1/servers', { token, body: { server: { name, flavorRef, imageRef: image.id, networks: 'none' } } });
  if (r.status !== 202) throw new Error(`boot: ${r.status} ${r.text}`);
  await waitForServer(cluster, r.body.server.id, (s) => s.status === 'ACTIVE');
  return r.body.server.id;
}

const before = Date.now() - 60_000;
const a1 = await boot(alice.token, 'a1');
const a2 = await boot(alice.token, 'a2', '2');
const b1 = await boot(bob.token, 'b1');
if ((await http.delete(`/v2.1/servers/${a2}`, { token: alice.token })).status !== 204) throw new Error('delete a2');
await cluster.client.waitForServer(a2, (s) => s.status === 'DELETED');
const after = Date.now() + 3_600_000;
const window = `start=${when(before)}&end=${when(after)}`;

t.test("a member's own usage: each server's hours, the deleted one's up to its termination", async (t) => {
  const r = await http.get(`/v2.1/os-simple-tenant-usage/${alice.projectId}?${window}`, { token: alice.token });
  t.equal(r.status, 200);
  const u = r.body.tenant_usage;
  t.equal(u.tenant_id, alice.projectId);
  t.equal(u.start, `${when(before)}.000000`);
  const byId = new Map(u.server_usages.map((s: { instance_id: string }) => [s.instance_id, s]));
  t.same([...byId.keys()].sort(), [a1, a2].sort(), 'both servers, the deleted one too');
  const live = byId.get(a1) as Record<string, any>;
  const gone = byId.get(a2) as Record<string, any>;
  t.match(live, { name: 'a1', vcpus: 1, memory_mb: 512, local_gb: 1, flavor: 'm1.tiny', state: 'active', ended_at: null, tenant_id: alice.projectId });
  t.match(gone, { name: 'a2', vcpus: 1, memory_mb: 2048, local_gb: 20, flavor: 'm1.small', state: 'terminated' });
  t.type(gone.ended_at, 'string');
  const liveHours = (after - Date.parse(`${live.started_at}Z`)) / 3_600_000;
  t.ok(Math.abs(live.hours - liveHours) < 0.001, 'a running server counts to the end of the period');
  t.ok(gone.hours < 0.01, 'the deleted one only while it ran');
  t.ok(Math.abs(u.total_hours - (live.hours + gone.hours)) < 1e-9, 'total hours');
  t.ok(Math.abs(u.total_memory_mb_usage - (512 * live.hours + 2048 * gone.hours)) < 1e-6, 'MiB-hours');
  t.ok(Math.abs(u.total_local_gb_usage - (1 * live.hours + 20 * gone.hours)) < 1e-6, 'GiB-hours');
  t.ok(Number.isInteger(live.uptime) && live.uptime >= 0, 'uptime in seconds');
});

t.test('admins list every project; detailed=1 adds the servers', async (t) => {
  const brief = await http.get(`/v2.1/os-simple-tenant-usage?${window}`, { token: admin });
  t.equal(brief.status, 200);
  const tenants = brief.body.tenant_usages.map((x: { tenant_id: string }) => x.tenant_id).sort();
  t.same(tenants, [alice.projectId, bob.projectId].sort());
  t.notOk('server_usages' in brief.body.tenant_usages[0], 'no servers unless detailed');
  const detailed = await http.get(`/v2.1/os-simple-tenant-usage?${window}&detailed=1`, { token: admin });
  const bobs = detailed.body.tenant_usages.find((x: { tenant_id: string }) => x.tenant_id === bob.projectId);
  t.same(bobs.server_usages.map((s: { instance_id: string }) => s.instance_id), [b1]);
  t.equal((await http.get(`/v2.1/os-simple-tenant-usage?${window}`, { token: alice.token })).status, 403, 'members may not list every project');
  t.equal((await http.get(`/v2.1/os-simple-tenant-usage/${bob.projectId}?${window}`, { token: alice.token })).status, 403, "nor see another's");
});

t.test('the period: outside it nothing counts; bad or reversed times are a 400', async (t) => {
  const past = await http.get(`/v2.1/os-simple-tenant-usage/${alice.projectId}?start=2000-01-01T00:00:00&end=2000-01-02T00:00:00`, { token: alice.token });
  t.same(past.body, { tenant_usage: {} }, 'a period with no usage is an empty object, as in Nova');
  t.equal((await http.get(`/v2.1/os-simple-tenant-usage/${alice.projectId}?start=${when(before)}.123456&end=${when(after)}`, { token: alice.token })).status, 200, 'microseconds');
  t.equal((await http.get(`/v2.1/os-simple-tenant-usage/${alice.projectId}?start=2001-01-01%2000:00:00.5&end=${when(after)}`, { token: alice.token })).status, 200, 'a space for the T');
  for (const q of ['start=yesterday', 'start=2001-13-01T00:00:00', `start=${when(after)}&end=${when(before)}`, 'end=2001-01-01T00:00:00']) {
    t.equal((await http.get(`/v2.1/os-simple-tenant-usage/${alice.projectId}?${q}`, { token: alice.token })).status, 400, `${q} is a 400`);
  }
});

t.test('paging from 2.40: limit and marker, a next link while the page is full', async (t) => {
  const first = await http.get(`/v2.1/os-simple-tenant-usage?${window}&detailed=1&limit=2`, { token: admin, headers: mv('2.40') });
  t.equal(first.status, 200);
  const seen = first.body.tenant_usages.flatMap((x: { server_usages: { instance_id: string }[] }) => x.server_usages.map((s) => s.instance_id));
  t.equal(seen.length, 2);
  const next = new URL(first.body.tenant_usages_links[0].href);
  t.equal(next.searchParams.get('marker'), [...seen].sort().at(-1));
  const second = await http.get(`/v2.1/os-simple-tenant-usage${next.search}`, { token: admin, headers: mv('2.40') });
  const rest = second.body.tenant_usages.flatMap((x: { server_usages: { instance_id: string }[] }) => x.server_usages.map((s) => s.instance_id));
  t.same([...seen, ...rest].sort(), [a1, a2, b1].sort(), 'every server once across the pages');
  t.notOk('tenant_usages_links' in second.body, 'no next link after the last page');
  t.notOk('tenant_usages_links' in (await http.get(`/v2.1/os-simple-tenant-usage?${window}&limit=1`, { token: admin })).body, 'no paging before 2.40');
});
