/**
 * Live migration over HTTP (os-migrateLive, /servers/{id}/migrations, force-complete, abort): to a
 * named host and a scheduled one, the records, admin-only, Nova's 400s/404s/409s, abort rolling
 * back, and an instance-actor crash at each host step; after each, the ledger equals the hypervisors.
 */
import t from 'tap';
import { startMoveCluster } from '../harness/move-cluster.js';
import { waitFor } from '../harness/poll.js';

const { cluster, http, admin, drivers, alice, mv, idle, consistent, boot } = await startMoveCluster(t);
const live = (id: string, body: unknown, n = 25, token = admin) => http.post(`/v2.1/servers/${id}/action`, { token, body: { 'os-migrateLive': body }, headers: mv(n) });
const other = (host: string) => [...drivers.keys()].find((h) => h !== host)!;
const migrationsOf = async (id: string) => (await http.get(`/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, headers: mv(59) })).body.migrations as
  { id: number; uuid: string; status: string; migration_type: string; source_compute: string; dest_compute: string }[];
const statusIs = (id: string, status: string) => waitFor(`migration ${status}`, async () => (await migrationsOf(id))[0]?.status === status);

t.test('to a named host, then a scheduled one: ACTIVE on the new host, completed records, actions recorded', async (t) => {
  const s = await boot('mover');
  const dest = other(s.host);
  t.equal((await live(s.id, { host: dest, block_migration: 'auto' })).status, 202);
  const moved = await idle(s.id);
  t.match(moved, { status: 'ACTIVE', host: dest });
  t.same((await drivers.get(s.host)!.listGuests()).map((g) => g.uuid), [], 'nothing left on the source');
  await consistent(t, 'after a named move');
  const [rec] = await migrationsOf(s.id);
  t.match(rec, { status: 'completed', migration_type: 'live-migration', source_compute: s.host, dest_compute: dest });
  t.equal((await live(s.id, { host: null, block_migration: false })).status, 202, 'scheduled');
  const back = await idle(s.id);
  t.not(back.host, dest, 'moved off its host');
  t.equal(back.status, 'ACTIVE');
  await consistent(t, 'after a scheduled move');
  const actions = (await http.get(`/v2.1/servers/${s.id}/os-instance-actions`, { token: admin })).body.instanceActions.map((a: { action: string }) => a.action);
  t.same(actions.slice(0, 2), ['live-migration', 'live-migration']);
  const list = (await http.get('/v2.1/os-migrations?migration_type=live-migration', { token: admin, headers: mv(23) })).body.migrations;
  t.ok(list.filter((m: { instance_uuid: string }) => m.instance_uuid === s.id).length === 2, 'GET /os-migrations lists both');
});

t.test('refusals: admin only, the wrong state, bodies by microversion, unknown host', async (t) => {
  const mine = await boot('alices', alice.token);
  t.equal((await live(mine.id, { host: null, block_migration: 'auto' }, 25, alice.token)).status, 403, 'admin only');
  const s = await boot('refused');
  t.equal((await live(s.id, { host: null, block_migration: 'auto', force: true }, 68)).status, 400, 'force is gone at 2.68');
  t.equal((await live(s.id, { host: null, block_migration: 'auto', force: true }, 30)).status, 400, "can't force to a non-provided destination");
  t.equal((await live(s.id, { host: null, block_migration: 'auto' }, 24)).status, 400, "'auto' is 2.25");
  t.equal((await live(s.id, { host: null, block_migration: true, disk_over_commit: false }, 25)).status, 400, 'disk_over_commit is gone at 2.25');
  t.equal((await live(s.id, { host: null, block_migration: true, disk_over_commit: false }, 24)).status, 202, 'below 2.25 with disk_over_commit');
  await idle(s.id);
  const unknown = await live(s.id, { host: 'nowhere', block_migration: 'auto' });
  t.equal(unknown.status, 400);
  t.match(unknown.body, { badRequest: { message: 'Compute host nowhere could not be found.' } });
  t.equal((await http.post(`/v2.1/servers/${s.id}/action`, { token: admin, body: { 'os-stop': null } })).status, 202);
  await idle(s.id);
  const stopped = await live(s.id, { host: null, block_migration: 'auto' });
  t.equal(stopped.status, 409);
  t.match(stopped.body, { conflictingRequest: { message: `Cannot 'os-migrateLive' instance ${s.id} while it is in vm_state stopped` } });
  t.equal((await http.delete(`/v2.1/servers/${s.id}/migrations/1`, { token: admin, headers: mv(24) })).status, 404, 'no such migration of the server');
  await consistent(t, 'after refusals');
});

t.test('a held transfer: listed in progress, force-complete, abort rolls back to the source', async (t) => {
  const s = await boot('aborted');
  const src = drivers.get(s.host)!;
  src.faults.addRule({ op: 'liveMigrate', action: 'hang', uuid: s.id, times: 1 });
  t.equal((await live(s.id, { host: null, block_migration: 'auto' })).status, 202);
  await statusIs(s.id, 'running');
  const [rec] = await migrationsOf(s.id);
  const listed = (await http.get(`/v2.1/servers/${s.id}/migrations`, { token: admin, headers: mv(24) })).body.migrations;
  t.same(listed.map((m: { id: number; status: string }) => [m.id, m.status]), [[rec!.id, 'running']], 'in progress on the server');
  t.equal((await http.get(`/v2.1/servers/${s.id}/migrations/${rec!.id}`, { token: admin, headers: mv(24) })).body.migration.status, 'running');
  t.equal((await http.get(`/v2.1/servers/${s.id}`, { token: admin })).body.server.status, 'MIGRATING');
  const fc = (n: number, token = admin) => http.post(`/v2.1/servers/${s.id}/migrations/${rec!.id}/action`, { token, body: { force_complete: null }, headers: mv(n) });
  t.equal((await fc(21)).status, 404, 'force-complete is 2.22');
  t.equal((await fc(22, alice.token)).status, 403);
  t.equal((await fc(22)).status, 202);
  t.equal((await http.post(`/v2.1/servers/${s.id}/migrations/999999/action`, { token: admin, body: { force_complete: null }, headers: mv(22) })).status, 400, 'unknown migration: 400');
  t.equal((await http.delete(`/v2.1/servers/${s.id}/migrations/${rec!.id}`, { token: admin, headers: mv(23) })).status, 404, 'abort is 2.24');
  t.equal((await http.delete(`/v2.1/servers/${s.id}/migrations/${rec!.id}`, { token: admin, headers: mv(24) })).status, 202);
  const after = await idle(s.id);
  t.match(after, { status: 'ACTIVE', host: s.host });
  t.equal((await migrationsOf(s.id))[0]!.status, 'cancelled');
  t.same((await src.listGuests()).map((g) => g.uuid), [s.id], 'still on the source');
  await consistent(t, 'after abort');
  const again = await http.delete(`/v2.1/servers/${s.id}/migrations/${rec!.id}`, { token: admin, headers: mv(24) });
  t.equal(again.status, 409, 'nothing to abort now');
  const actions = (await http.get(`/v2.1/servers/${s.id}/os-instance-actions`, { token: admin })).body.instanceActions.map((a: { action: string }) => a.action);
  t.same(actions.slice(0, 3), ['live_migration_cancel', 'live_migration_force_complete', 'live-migration']);
  const records = (await http.get(`/v2.1/servers/${s.id}/os-instance-actions`, { token: admin })).body.instanceActions as { action: string; message: string | null }[];
  t.equal(records.find((r) => r.action === 'live-migration')?.message, 'aborted', 'the live migration\'s record ends as aborted');
});

t.test('an instance-actor crash at each host step ends consistent: on one host, ledger == hypervisors', async (t) => {
  for (const op of ['prepareIncoming', 'liveMigrate', 'finishIncoming'] as const) {
    const s = await boot(`crash-${op}`);
    for (const d of drivers.values()) d.faults.addRule({ op, action: 'slow', delayMs: 400, uuid: s.id, times: 1 });
    t.equal((await live(s.id, { host: null, block_migration: 'auto' })).status, 202);
    await statusIs(s.id, op === 'prepareIncoming' ? 'preparing' : op === 'liveMigrate' ? 'running' : 'post-migrating');
    cluster.conductor!.crashInstance(s.id);
    const done = await idle(s.id);
    t.equal(done.status, 'ACTIVE', `${op}: ends ACTIVE`);
    t.not(done.host, s.host, `${op}: moved`);
    t.equal((await migrationsOf(s.id))[0]!.status, 'completed', `${op}: completed`);
    await consistent(t, `crash in ${op}`);
  }
});

t.test('delete during a held transfer: gone from both ends, both allocations released', async (t) => {
  const s = await boot('deleted-mid-move');
  drivers.get(s.host)!.faults.addRule({ op: 'liveMigrate', action: 'hang', uuid: s.id, times: 1 });
  t.equal((await live(s.id, { host: null, block_migration: 'auto' })).status, 202);
  await statusIs(s.id, 'running');
  const [rec] = await migrationsOf(s.id);
  t.equal((await http.delete(`/v2.1/servers/${s.id}`, { token: admin })).status, 204);
  await cluster.client.waitForServer(s.id, (x) => x.status === 'DELETED', 30_000);
  for (const [host, d] of drivers) t.notOk((await d.listGuests()).some((g) => g.uuid === s.id), `no guest left on ${host}`);
  t.equal(cluster.scheduler!.states.allocationOf(s.id), undefined, 'the instance holds nothing');
  t.equal(cluster.scheduler!.states.allocationOf(rec!.uuid), undefined, 'the migration holds nothing');
  await consistent(t, 'after delete mid-move');
});
