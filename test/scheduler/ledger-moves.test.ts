/**
 * Move allocations in the ledger (resize, migrate, evacuate): the instance holds the destination, the
 * migration consumer the source, in one transaction per step; retries are idempotent; and server
 * group rules hold at the commit when claims race.
 */
import t, { type Test } from 'tap';
import { PlacementLedger } from '../../actors/scheduler/ledger.js';
import { openDatabase } from '../../runtime/db/orm.js';
import type { Inventory, Resources } from '../../protocols/resources.js';
import { startPostgres } from '../../runtime/services/postgres-server.js';

const pg = await startPostgres();
t.teardown(() => pg.stop());
const orm = await openDatabase({ url: pg.url });
t.teardown(() => orm.close());
const ledger = new PlacementLedger(orm, { groupMembersDefault: 10 });
const knex = orm.em.getConnection().getKnex();

const inv = (total: number): Inventory => ({ total, reserved: 0, minUnit: 1, maxUnit: total, stepSize: 1, allocationRatio: 1 });
await ledger.setInventories(['h1', 'h2', 'h3', 'tiny'].map((provider) => ({
  provider,
  inventory: { VCPU: inv(8), MEMORY_MB: inv(provider === 'tiny' ? 1024 : 8192), DISK_GB: inv(100) },
})));
const small: Resources = { VCPU: 1, MEMORY_MB: 1024, DISK_GB: 10 };
const big: Resources = { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20 };
let n = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

const usedOn = async (host: string) => (await ledger.snapshot()).find((p) => p.provider === host)!.used;
const where = async (consumer: string) => (await ledger.allocations()).find((a) => a.consumer === consumer);
/** The ledger's own invariant: inventory usage is the sum of the allocations. */
async function balanced(t: Test) {
  const totals = await ledger.totals();
  t.same({ VCPU: totals.VCPU, MEMORY_MB: totals.MEMORY_MB, DISK_GB: totals.DISK_GB }, totals.allocations, 'usage equals the sum of allocations');
}

async function placed(host: string): Promise<string> {
  const instance = uuid();
  const [r] = await ledger.claimBatch([{ consumer: instance, provider: host, projectId: 'p', resources: small }]);
  if (!r!.ok) throw new Error('setup claim failed');
  return instance;
}

t.test('a resize moves the source to the migration consumer and claims the destination; confirm frees the source', async (t) => {
  const instance = await placed('h1');
  const migration = uuid();
  const r = await ledger.move({ instance, migration, projectId: 'p', provider: 'h2', resources: big, mode: 'first' });
  t.match(r, { ok: true, host: 'h2', source: { consumer: migration, provider: 'h1', resources: small } });
  t.same(await where(migration), { consumer: migration, provider: 'h1', resources: small }, 'the migration holds the source');
  t.same(await where(instance), { consumer: instance, provider: 'h2', resources: big }, 'the instance holds the destination');
  t.equal((await usedOn('h1')).MEMORY_MB, 1024);
  t.equal((await usedOn('h2')).MEMORY_MB, 2048);

  const again = await ledger.move({ instance, migration, projectId: 'p', provider: 'h3', resources: big, mode: 'first' });
  t.match(again, { ok: true, host: 'h2' }, 'a retried select-move answers the move already made');
  t.equal((await usedOn('h3')).MEMORY_MB, 0, 'and charges nothing');

  t.match(await ledger.confirmMove(migration), { consumer: migration, provider: 'h1' });
  t.equal((await usedOn('h1')).MEMORY_MB, 0, 'confirm frees the source');
  t.equal(await ledger.confirmMove(migration), null, 'confirming again is a no-op');
  t.same(await where(instance), { consumer: instance, provider: 'h2', resources: big });
  await balanced(t);
  await ledger.release([instance]);
});

t.test('revert gives the source back to the instance and frees the destination, once', async (t) => {
  const instance = await placed('h1');
  const migration = uuid();
  t.match(await ledger.move({ instance, migration, projectId: 'p', provider: 'h1', resources: big, mode: 'first' }), { ok: true, host: 'h1' });
  t.equal((await usedOn('h1')).MEMORY_MB, 1024 + 2048, 'a same-host resize holds both flavors');
  const r = await ledger.revertMove(instance, migration);
  t.same(r.instance, { consumer: instance, provider: 'h1', resources: small });
  t.match(r.dropped, { consumer: instance, provider: 'h1', resources: big });
  t.equal((await usedOn('h1')).MEMORY_MB, 1024);
  t.equal(await where(migration), undefined);
  const twice = await ledger.revertMove(instance, migration);
  t.same(twice, { instance: { consumer: instance, provider: 'h1', resources: small }, dropped: null }, 'reverting again changes nothing');
  t.equal((await usedOn('h1')).MEMORY_MB, 1024);
  await balanced(t);
  await ledger.release([instance]);
});

t.test('a destination that does not fit changes nothing; replace retargets onto an alternate', async (t) => {
  const instance = await placed('h1');
  const migration = uuid();
  const refused = await ledger.move({ instance, migration, projectId: 'p', provider: 'tiny', resources: big, mode: 'first' });
  t.match(refused, { ok: false, used: { MEMORY_MB: 0 } });
  t.same(await where(instance), { consumer: instance, provider: 'h1', resources: small }, 'the instance keeps its source');
  t.equal(await where(migration), undefined, 'the migration holds nothing');

  t.match(await ledger.move({ instance, migration, projectId: 'p', provider: 'h2', resources: big, mode: 'first' }), { ok: true, host: 'h2' });
  const alt = await ledger.move({ instance, migration, projectId: 'p', provider: 'h3', resources: big, mode: 'replace' });
  t.match(alt, { ok: true, host: 'h3', source: { provider: 'h1' } }, 'move-claim moves the destination only');
  t.equal((await usedOn('h2')).MEMORY_MB, 0, 'the old destination is freed');
  t.equal((await usedOn('h3')).MEMORY_MB, 2048);
  t.equal((await usedOn('h1')).MEMORY_MB, 1024, 'the source stays with the migration');
  const noRoom = await ledger.move({ instance, migration, projectId: 'p', provider: 'tiny', resources: big, mode: 'replace' });
  t.equal(noRoom.ok, false);
  t.same(await where(instance), { consumer: instance, provider: 'h3', resources: big }, 'a refused retarget keeps the destination it had');
  await balanced(t);
  await ledger.release([instance, migration]);
});

t.test('concurrent retries of one move charge once (a lost reply, a second replica)', async (t) => {
  const instance = await placed('h1');
  const migration = uuid();
  const rs = await Promise.all(['h2', 'h3', 'h2'].map((provider) => ledger.move({ instance, migration, projectId: 'p', provider, resources: big, mode: 'first' })));
  t.ok(rs.every((r) => r.ok), 'every retry succeeds');
  const hosts = new Set(rs.map((r) => (r.ok ? r.host : '')));
  t.equal(hosts.size, 1, 'and all name the same destination');
  const totals = await ledger.totals();
  t.same(totals.allocations, { VCPU: 3, MEMORY_MB: 3072, DISK_GB: 30 }, 'source once plus destination once');
  await balanced(t);
  // Evacuate's cleanup: the source is released under the migration uuid.
  t.equal((await ledger.release([migration])).length, 1);
  t.equal((await usedOn('h1')).MEMORY_MB, 0);
  await ledger.release([instance]);
});

t.test('a move of an instance holding nothing (shelved offloaded) just claims the destination', async (t) => {
  const instance = uuid();
  const migration = uuid();
  t.match(await ledger.move({ instance, migration, projectId: 'p', provider: 'h2', resources: small, mode: 'first' }), { ok: true, host: 'h2', source: null });
  t.same(await ledger.revertMove(instance, migration), { instance: { consumer: instance, provider: 'h2', resources: small }, dropped: null }, 'nothing to revert');
  await ledger.release([instance]);
});

async function group(policy: string, maxServerPerHost: number | null = null): Promise<string> {
  const id = uuid();
  await knex.raw(
    `insert into server_groups (uuid, name, project_id, user_id, policy, max_server_per_host, created_at) values (?, 'g', 'p', 'u', ?, ?, now())`,
    [id, policy, maxServerPerHost],
  );
  return id;
}

t.test('two concurrent boots into a group with one free member slot: only one joins', async (t) => {
  await knex.raw(`insert into quotas (project_id, resource, hard_limit) values ('p', 'server_group_members', 2)`);
  t.teardown(() => knex.raw(`delete from quotas where project_id = 'p'`));
  const g = await group('affinity');
  const first = uuid();
  t.match(await ledger.claimBatch([{ consumer: first, provider: 'h1', projectId: 'p', resources: small, group: g }]), [{ ok: true }]);
  const a = uuid();
  const b = uuid();
  const [ra, rb] = await Promise.all([
    ledger.claimBatch([{ consumer: a, provider: 'h1', projectId: 'p', resources: small, group: g }]),
    ledger.claimBatch([{ consumer: b, provider: 'h1', projectId: 'p', resources: small, group: g }]),
  ]);
  const results = [ra![0]!, rb![0]!];
  t.equal(results.filter((r) => r.ok).length, 1, 'one boot wins');
  t.match(results.find((r) => !r.ok), { ok: false, group: 'full' }, 'the other is refused: the group is full');
  const members = await knex.raw(`select count(*)::int as n from server_group_members where group_uuid = ?`, [g]);
  t.equal(members.rows[0].n, 2, 'the group has its two members, no more');
  await balanced(t);
  const inBatch = await ledger.claimBatch([uuid(), uuid()].map((consumer) => ({ consumer, provider: 'h2', projectId: 'p', resources: small, group: g })));
  t.same(inBatch.map((r) => r.ok), [false, false], 'within one batch too');
  await balanced(t);
  await ledger.release([first, a, b]);
});

t.test('anti-affinity holds at the commit when two claims race for one host', async (t) => {
  const g = await group('anti-affinity');
  const a = uuid();
  const b = uuid();
  const [ra, rb] = await Promise.all([
    ledger.claimBatch([{ consumer: a, provider: 'h3', projectId: 'p', resources: small, group: g }]),
    ledger.claimBatch([{ consumer: b, provider: 'h3', projectId: 'p', resources: small, group: g }]),
  ]);
  const results = [ra![0]!, rb![0]!];
  t.equal(results.filter((r) => r.ok).length, 1);
  t.match(results.find((r) => !r.ok), { ok: false, group: 'policy' });
  t.equal((await usedOn('h3')).MEMORY_MB, 1024, 'the refused claim gave its capacity back');
  const loser = results[0]!.ok ? b : a;
  t.match(await ledger.claimBatch([{ consumer: loser, provider: 'h2', projectId: 'p', resources: small, group: g }]), [{ ok: true }], 'another host takes it');
  const two = await group('anti-affinity', 2);
  const c = uuid();
  const d = uuid();
  t.same((await ledger.claimBatch([c, d, uuid()].map((consumer) => ({ consumer, provider: 'h1', projectId: 'p', resources: small, group: two })))).map((r) => r.ok), [true, true, false], 'max_server_per_host 2');
  await balanced(t);
  await ledger.release([a, b, c, d]);
});
