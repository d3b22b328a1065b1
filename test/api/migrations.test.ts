/**
 * Migration records over REST, from seeded rows: `GET /os-migrations` (admin, fields per
 * microversion, filters, 2.59 paging) and a server's in-progress live migrations (2.23+); and the
 * store's status compare-and-set.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { MigrationStore } from '../../actors/conductor/migration-store.js';
import { ConflictError } from '../../protocols/errors.js';
import { startApiCluster, waitForServer } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t);
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'acme', 'alice', 'member');
const server = (await http.post('/v2.1/servers', { token: admin, body: { server: { name: 'mover', flavorRef: '1', imageRef: image.id } } })).body.server;
await waitForServer(cluster, server.id, (s) => s.status === 'ACTIVE');

const store = new MigrationStore(cluster.orm!);
const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, s));
const base = { sourceCompute: 'compute-1', projectId: 'proj', userId: 'usr', oldInstanceTypeId: '1', newInstanceTypeId: '1' };
const resize = await store.create({ ...base, instanceUuid: server.id, migrationType: 'resize', destCompute: 'compute-2', newInstanceTypeId: '2' }, at(1));
const live = await store.create({ ...base, instanceUuid: server.id, migrationType: 'live-migration', destCompute: 'compute-2' }, at(2));
await store.setStatus(live.uuid, 'queued', 'running', at(3), { memoryTotal: 8 * 2 ** 30, memoryProcessed: 2 ** 30, memoryRemaining: 7 * 2 ** 30 });
const evac = await store.create({ ...base, instanceUuid: randomUUID(), migrationType: 'evacuation', sourceCompute: 'compute-9', destCompute: 'compute-1' }, at(4));
await store.setStatus(resize.uuid, 'pre-migrating', 'finished', at(5));

const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
const list = (path: string, v = '2.1', token = admin) => http.get(path, { token, headers: mv(v) });

t.test('the store: idempotent create, status moved by compare-and-set', async (t) => {
  const again = await store.create({ ...base, uuid: resize.uuid, instanceUuid: server.id, migrationType: 'resize' }, at(9));
  t.equal(again.id, resize.id, 'the same uuid is the same record');
  await t.rejects(store.setStatus(resize.uuid, 'pre-migrating', 'migrating', at(6)), ConflictError, 'a step from a status it no longer has is refused');
  t.equal((await store.setStatus(resize.uuid, 'pre-migrating', 'finished', at(6))).status, 'finished', 'a repeated step is a no-op');
});

t.test('GET /os-migrations: admin only, newest first, fields per microversion', async (t) => {
  t.equal((await list('/v2.1/os-migrations', '2.1', alice.token)).status, 403);
  const old = await list('/v2.1/os-migrations');
  t.equal(old.status, 200);
  const rows = old.body.migrations as Record<string, unknown>[];
  t.same(rows.map((m) => m.id), [evac.id, live.id, resize.id], 'newest first');
  t.match(rows[2], { instance_uuid: server.id, source_compute: 'compute-1', dest_compute: 'compute-2', status: 'finished', old_instance_type_id: '1', new_instance_type_id: '2', created_at: '2026-12-01T12:00:01.000000' });
  t.notOk('migration_type' in rows[0]! || 'uuid' in rows[0]!, 'no migration_type or uuid before 2.23 / 2.59');
  const v23 = (await list('/v2.1/os-migrations', '2.23')).body.migrations as Record<string, any>[];
  t.equal(v23[1]!.migration_type, 'live-migration');
  t.match(v23[1]!.links, [{ rel: 'self', href: new RegExp(`/servers/${server.id}/migrations/${live.id}$`) }], 'an in-progress live migration links its server resource');
  t.notOk('links' in v23[2]!, 'a resize has no link');
  const v80 = (await list('/v2.1/os-migrations', '2.80')).body.migrations as Record<string, unknown>[];
  t.match(v80[0], { uuid: evac.uuid, user_id: 'usr', project_id: 'proj' });
});

t.test('GET /os-migrations filters and pages', async (t) => {
  const ids = async (q: string, v = '2.80') => ((await list(`/v2.1/os-migrations?${q}`, v)).body.migrations as { id: number }[]).map((m) => m.id);
  t.same(await ids('host=compute-9'), [evac.id], 'host matches the source');
  t.same(await ids('host=compute-2'), [live.id, resize.id], 'or the destination');
  t.same(await ids('status=running'), [live.id]);
  t.same(await ids('migration_type=evacuation'), [evac.id]);
  t.same(await ids(`instance_uuid=${server.id}`), [live.id, resize.id]);
  t.same(await ids('changes-since=2026-12-01T12:00:04Z'), [evac.id, resize.id], 'updated since');
  t.same(await ids('user_id=nobody'), []);
  const page = await list('/v2.1/os-migrations?limit=2', '2.59');
  t.same(page.body.migrations.map((m: { id: number }) => m.id), [evac.id, live.id]);
  const next = page.body.migrations_links[0].href as string;
  t.match(next, new RegExp(`marker=${live.uuid}`));
  t.same(await ids(`limit=2&marker=${live.uuid}`, '2.59'), [resize.id], 'the next page');
  t.equal((await list(`/v2.1/os-migrations?marker=${randomUUID()}`, '2.59')).status, 400, 'an unknown marker');
});

t.test("a server's migrations: in-progress live migrations only, from 2.23", async (t) => {
  t.equal((await list(`/v2.1/servers/${server.id}/migrations`)).status, 404, 'not before 2.23');
  const r = await list(`/v2.1/servers/${server.id}/migrations`, '2.80');
  t.equal(r.status, 200);
  t.match(r.body.migrations, [{ id: live.id, server_uuid: server.id, status: 'running', memory_total_bytes: 8 * 2 ** 30, memory_processed_bytes: 2 ** 30, uuid: live.uuid, user_id: 'usr' }]);
  t.equal(r.body.migrations.length, 1, 'the finished resize is not listed');
  t.match((await list(`/v2.1/servers/${server.id}/migrations/${live.id}`, '2.23')).body.migration, { id: live.id, dest_compute: 'compute-2' });
  t.equal((await list(`/v2.1/servers/${server.id}/migrations/${resize.id}`, '2.23')).status, 404, 'a resize is not a live migration in progress');
  t.equal((await list(`/v2.1/servers/${server.id}/migrations/${evac.id}`, '2.23')).status, 404, "another server's migration");
  t.equal((await list(`/v2.1/servers/${server.id}/migrations`, '2.23', alice.token)).status, 403);
});
