/**
 * Listings larger than one NATS message (C2 at its source, issue 8 point 1, L9): more than 1 MiB of
 * compute-node records, servers with 128 metadata items each, images with large properties and a
 * server with 1,500 action records list completely and in order through the API, with no 5xx and no
 * oversized reply; `with_servers` asks for a page's servers in one query, not one per host; and
 * `DELETE /os-services/{id}` removes a host from the records, the ledger and the scheduler.
 */
import t, { type Test } from 'tap';
import type { CapacityReport } from '../../protocols/resources.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { startApiCluster } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t);
const knex = cluster.orm!.em.getConnection().getKnex();
const image = (await cluster.client.listImages())[0]!;
const MiB = 1024 * 1024;
const v53 = { 'OpenStack-API-Version': 'compute 2.53' };

// Counts every request any role in this process sends, by subject (the "spy on the bridge").
const sent = new Map<string, number>();
const request = Bridge.prototype.request;
Bridge.prototype.request = function (this: Bridge, subject: string, ...rest: unknown[]) {
  sent.set(subject, (sent.get(subject) ?? 0) + 1);
  return (request as (...a: unknown[]) => Promise<unknown>).call(this, subject, ...rest);
} as typeof request;
t.teardown(() => {
  Bridge.prototype.request = request;
});
const count = (verb: string) => sent.get(cluster.subjects.conductor(verb)) ?? 0;

const noFiveHundreds = (t: Test) => t.same(http.seen.filter((s) => s.status >= 500), [], 'no 5xx');

// 3,200 compute-node records of ~650 bytes of JSON each (a 200-char disabled reason): ~2 MB.
const BULK = 3_200;
await knex.raw(
  `insert into compute_nodes (host, node, hypervisor_type, hypervisor_version, cpu_arch, availability_zone, vcpus, memory_mb, local_gb,
     vcpus_used, memory_mb_used, local_gb_used, running_vms, disabled, disabled_reason, forced_down, last_seen_at, created_at, updated_at)
   select 'bulk-' || lpad(i::text, 5, '0'), 'bulk-node-' || lpad(i::text, 5, '0'), 'fake', 1, 'x86_64', null, 8, 16384, 100,
     0, 0, 0, 0, true, repeat('r', 200), false, now() - interval '1 day', now(), now()
   from generate_series(1, ?::int) as i`,
  [BULK],
);
const realHosts = ['compute-1', 'compute-2'];
const allHosts = [...Array.from({ length: BULK }, (_, i) => `bulk-${String(i + 1).padStart(5, '0')}`), ...realHosts];

t.test('os-services, os-hypervisors, host list: every one of 3,202 records (over 1 MiB), in order, once', async (t) => {
  const services = await http.get('/v2.1/os-services', { token: admin, headers: v53 });
  t.equal(services.status, 200);
  t.ok(services.text.length > MiB, `the listing is ${services.text.length} bytes`);
  t.same(services.body.services.map((s: { host: string }) => s.host), allHosts);
  t.ok(count('services') >= 4, 'paged from the conductor');

  const detail = await http.get('/v2.1/os-hypervisors/detail', { token: admin, headers: v53 });
  t.equal(detail.status, 200);
  t.same(detail.body.hypervisors.map((h: { service: { host: string } }) => h.service.host), allHosts);

  // The API's own paging (2.33+) walks the same records without a gap or a repeat.
  const seen: string[] = [];
  let next: string | undefined = '/v2.1/os-hypervisors?limit=700';
  while (next) {
    const page = await http.get(next, { token: admin, headers: v53 });
    t.equal(page.status, 200, next);
    seen.push(...page.body.hypervisors.map((h: { hypervisor_hostname: string }) => h.hypervisor_hostname));
    const link = page.body.hypervisors_links?.[0]?.href as string | undefined;
    next = link === undefined ? undefined : `/v2.1/os-hypervisors${new URL(link).search}`;
  }
  t.same(seen, allHosts.map((h) => (h.startsWith('bulk-') ? h.replace('bulk-', 'bulk-node-') : h)));

  const stats = await http.get('/v2.1/os-hypervisors/statistics', { token: admin });
  t.equal(stats.body.hypervisor_statistics.count, allHosts.length);

  const hosts = await cluster.client.listHosts();
  t.same(hosts.map((h) => h.host), allHosts, '`host list` (the client) pages through');
  noFiveHundreds(t);
});

t.test('availability zones: the summary is computed at the source; the detail pages', async (t) => {
  const before = count('services');
  const zones = await http.get('/v2.1/os-availability-zone', { token: admin });
  t.equal(zones.status, 200);
  t.same(zones.body.availabilityZoneInfo, [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }]);
  t.equal(count('services'), before, 'no service records fetched for the summary');
  t.ok(zones.text.length < 1_000);
  const detail = await http.get('/v2.1/os-availability-zone/detail', { token: admin });
  t.equal(detail.status, 200);
  t.same(Object.keys(detail.body.availabilityZoneInfo[0].hosts).sort(), [...allHosts].sort());
  noFiveHundreds(t);
});

// Twenty servers with 128 metadata items of 255-char keys and values (~66 KB each): ~1.3 MB of listing.
const big = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`${String(i).padStart(3, '0')}${'k'.repeat(252)}`, 'v'.repeat(255)]));
const project = await http.member(admin, 'project-big', 'bigby', 'member');
t.equal((await http.put(`/v2.1/os-quota-sets/${project.projectId}`, { token: admin, body: { quota_set: { instances: 40, cores: 40, ram: 40 * 1024 } } })).status, 200);
const created = await http.post('/v2.1/servers', {
  token: project.token,
  body: { server: { name: 'meta', flavorRef: '1', imageRef: image.id, min_count: 20, max_count: 20, metadata: big } },
});
t.equal(created.status, 202, created.text);
const serverIds = (await cluster.client.listServers({ projectId: project.projectId })).map((s) => s.id);
t.equal(serverIds.length, 20);
await Promise.all(serverIds.map((id) => cluster.client.waitForServer(id, (s) => s.status !== 'BUILD', 30_000)));

t.test('servers with large metadata: complete, newest first, paged like Nova', async (t) => {
  const before = count('query');
  const all = await http.get('/v2.1/servers/detail', { token: project.token });
  t.equal(all.status, 200);
  t.ok(all.text.length > MiB, `the listing is ${all.text.length} bytes`);
  t.same(all.body.servers.map((s: { id: string }) => s.id), serverIds, 'all 20, newest first, once each');
  t.ok(all.body.servers.every((s: { metadata: Record<string, string> }) => Object.keys(s.metadata).length === 128));
  t.ok(count('query') - before >= 2, 'the conductor answered in more than one reply');
  t.notOk('servers_links' in all.body, 'no next link when fewer than the limit');

  const seen: string[] = [];
  let marker: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const page = await http.get(`/v2.1/servers/detail?limit=15${marker ? `&marker=${marker}` : ''}`, { token: project.token });
    t.equal(page.status, 200);
    seen.push(...page.body.servers.map((s: { id: string }) => s.id));
    const next = page.body.servers_links?.[0]?.href as string | undefined;
    if (!next) break;
    t.equal(page.body.servers.length, 15, 'a full page has a next link');
    marker = new URL(next).searchParams.get('marker')!;
  }
  t.same(seen, serverIds);
  const adminAll = await http.get('/v2.1/servers/detail?all_tenants=1', { token: admin });
  t.equal(adminAll.status, 200);
  t.ok(serverIds.every((id) => adminAll.body.servers.some((s: { id: string }) => s.id === id)));
  const viaClient = await cluster.client.listServers({ projectId: project.projectId });
  t.same(viaClient.map((s) => s.id), serverIds, 'the NATS list verb pages too');
  noFiveHundreds(t);
});

t.test('with_servers: one query for the page’s hosts, not one request per host (L9)', async (t) => {
  const queries = count('query');
  const hostQueries = count('host-servers');
  const r = await http.get('/v2.1/os-hypervisors?with_servers=true', { token: admin, headers: v53 });
  t.equal(r.status, 200);
  t.equal(r.body.hypervisors.length, allHosts.length);
  const listed = r.body.hypervisors.flatMap((h: { servers: { uuid: string }[] }) => h.servers.map((s) => s.uuid)).sort();
  t.same(listed, [...serverIds].sort(), 'every server under its hypervisor');
  t.equal(count('query'), queries, 'no per-host server query');
  t.ok(count('host-servers') - hostQueries <= Math.ceil(allHosts.length / 1000), `${count('host-servers') - hostQueries} host-servers requests`);
  noFiveHundreds(t);
});

t.test('images with large properties: every image, in order, with Glance’s next link', async (t) => {
  // Glance's bounds per property (255-character values), 45 KB an image: 30 of them are 1.37 MB.
  const props = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`prop_${i}_`.padEnd(200, 'k'), 'p'.repeat(255)]));
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await http.post('/image/v2/images', { token: project.token, body: { name: `big-${i}`, disk_format: 'qcow2', container_format: 'bare', ...props } });
    t.equal(r.status, 201, r.text);
    ids.push(r.body.id);
  }
  const all = await http.get('/image/v2/images?limit=1000&owner=' + project.projectId, { token: project.token });
  t.equal(all.status, 200);
  t.ok(all.text.length > MiB, `the listing is ${all.text.length} bytes`);
  const order = ((await knex.raw(`select id from images where owner = ? order by created_at desc, id desc`, [project.projectId])).rows as { id: string }[]).map((r) => r.id);
  t.same([...order].sort(), [...ids].sort());
  t.same(all.body.images.map((i: { id: string }) => i.id), order, 'newest first, all 30');
  t.notOk('next' in all.body);
  const first = await http.get(`/image/v2/images?limit=20&owner=${project.projectId}`, { token: project.token });
  t.equal(first.body.images.length, 20);
  t.match(first.body.next, /marker=/);
  const rest = await http.get(`/image${first.body.next}`, { token: project.token });
  t.same([...first.body.images, ...rest.body.images].map((i: { id: string }) => i.id), order);
  t.ok((await cluster.client.listImages()).length >= 31, 'the NATS list verb pages too');
  noFiveHundreds(t);
});

t.test('instance actions: the newest 1000 at most; 2.58 pages with limit and marker', async (t) => {
  const id = serverIds[0]!;
  await knex.raw(
    `insert into instance_actions (instance_uuid, action, request_id, project_id, user_id, start_time, finish_time, result, message)
     select ?::uuid, 'reboot', 'req-' || lpad(i::text, 5, '0'), ?, 'u', now() + i * interval '1 second', null, null, repeat('m', 300)
     from generate_series(1, 1500) as i`,
    [id, project.projectId],
  );
  const list = await http.get(`/v2.1/servers/${id}/os-instance-actions`, { token: project.token });
  t.equal(list.status, 200);
  t.equal(list.body.instanceActions.length, 1000, 'bounded');
  t.equal(list.body.instanceActions[0].request_id, 'req-01500', 'newest first');
  t.equal(list.body.instanceActions[999].request_id, 'req-00501');
  const v58 = { 'OpenStack-API-Version': 'compute 2.58' };
  const p1 = await http.get(`/v2.1/servers/${id}/os-instance-actions?limit=2`, { token: project.token, headers: v58 });
  t.same(p1.body.instanceActions.map((a: { request_id: string }) => a.request_id), ['req-01500', 'req-01499']);
  t.match(p1.body.links[0].href, /marker=req-01499/);
  const p2 = await http.get(`/v2.1/servers/${id}/os-instance-actions?limit=2&marker=req-01499`, { token: project.token, headers: v58 });
  t.same(p2.body.instanceActions.map((a: { request_id: string }) => a.request_id), ['req-01498', 'req-01497']);
  t.equal((await http.get(`/v2.1/servers/${id}/os-instance-actions?marker=nope`, { token: project.token, headers: v58 })).status, 400);
  const one = await http.get(`/v2.1/servers/${id}/os-instance-actions/req-00002`, { token: project.token });
  t.equal(one.body.instanceAction.request_id, 'req-00002', 'an old action is still shown by its id');
  t.equal(one.body.instanceAction.events.length, 1, 'one event per action');
  noFiveHundreds(t);
});

t.test('DELETE /os-services/{id}: 409 while hosting; else the record, the ledger inventory and the scheduler state go', async (t) => {
  const services = (await http.get('/v2.1/os-services?host=compute-1', { token: admin, headers: v53 })).body.services;
  const busy = services[0];
  const hosting = (await cluster.client.listServers({ host: 'compute-1' })).length;
  if (hosting === 0) throw new Error('expected servers on compute-1');
  const refused = await http.delete(`/v2.1/os-services/${busy.id}`, { token: admin, headers: v53 });
  t.equal(refused.status, 409, refused.text);

  // A host known to the conductor, the scheduler and the ledger: one capacity report.
  const report: CapacityReport = {
    host: 'gone-1', node: 'gone-1', hypervisorType: 'fake', hypervisorVersion: 1, cpuArch: 'x86_64', availabilityZone: null,
    vcpus: 4, memoryMb: 8192, diskGb: 40, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0, seq: 1, sentAt: Date.now(),
  };
  // The scheduler emits `report` once the report's inventory is in the ledger.
  const known = new Promise<void>((resolve) => {
    const onReport = (host: string) => {
      if (host !== 'gone-1') return;
      cluster.scheduler!.events.off('report', onReport);
      resolve();
    };
    cluster.scheduler!.events.on('report', onReport);
  });
  cluster.client.bridge.publish(cluster.subjects.report('gone-1', 'capacity'), report);
  await known;
  const inventory = async () => Number((await knex.raw(`select count(*)::int as n from inventories where provider = 'gone-1'`)).rows[0].n);
  t.ok((await inventory()) > 0, 'the ledger has its inventory');
  await cluster.conductor!.computeNodes.flush();
  const gone = (await http.get('/v2.1/os-services?host=gone-1', { token: admin, headers: v53 })).body.services[0];
  t.ok(gone, 'listed');
  t.ok(cluster.scheduler!.states.get('gone-1'), 'in the scheduler');

  const r = await http.delete(`/v2.1/os-services/${gone.id}`, { token: admin, headers: v53 });
  t.equal(r.status, 204, r.text);
  t.equal((await http.get('/v2.1/os-services?host=gone-1', { token: admin, headers: v53 })).body.services.length, 0, 'record gone');
  t.equal(await inventory(), 0, 'inventory gone');
  t.equal(Number((await knex.raw(`select count(*)::int as n from resource_providers where name = 'gone-1'`)).rows[0].n), 0);
  t.notOk(cluster.scheduler!.states.get('gone-1'), 'scheduler state gone');
  t.notOk(cluster.scheduler!.states.all().some((h) => h.host === 'gone-1'), 'out of the decision columns');
  t.equal((await http.delete(`/v2.1/os-services/${gone.id}`, { token: admin, headers: v53 })).status, 404, 'a second delete is a 404');
  const asMember = await http.delete(`/v2.1/os-services/${busy.id}`, { token: project.token, headers: v53 });
  t.equal(asMember.status, 403, 'admin only');

  // The scheduler still decides over the remaining hosts.
  const after = await cluster.client.createServer({ name: 'after-delete', flavorRef: 'm1.tiny', imageRef: image.id });
  const s = await cluster.client.waitForServer(after.id, (x) => x.status !== 'BUILD', 30_000);
  t.equal(s.status, 'ACTIVE');
  noFiveHundreds(t);
});

t.test('the process is alive and answers', async (t) => {
  t.equal((await http.get('/v2.1/os-availability-zone', { token: admin })).status, 200);
});
