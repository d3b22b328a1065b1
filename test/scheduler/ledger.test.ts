import t from 'tap';
import { PlacementLedger } from '../../actors/scheduler/ledger.js';
import { openDatabase } from '../../runtime/db/orm.js';
import type { Inventory } from '../../protocols/resources.js';
import { startPostgres } from '../../runtime/services/postgres-server.js';

const pg = await startPostgres();
t.teardown(() => pg.stop());
const orm = await openDatabase({ url: pg.url });
t.teardown(() => orm.close());
const ledger = new PlacementLedger(orm);

const inv = (total: number): Inventory => ({ total, reserved: 0, minUnit: 1, maxUnit: total, stepSize: 1, allocationRatio: 1 });
await ledger.setInventories(['h1', 'h2'].map((provider) => ({ provider, inventory: { VCPU: inv(4), MEMORY_MB: inv(4096), DISK_GB: inv(100) } })));
const small = { VCPU: 1, MEMORY_MB: 1024, DISK_GB: 10 };
let n = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

t.test('claims never exceed capacity, within a batch and across concurrent batches', async (t) => {
  const batchA = Array.from({ length: 3 }, () => ({ consumer: uuid(), provider: 'h1', projectId: 'p', resources: small }));
  const batchB = Array.from({ length: 3 }, () => ({ consumer: uuid(), provider: 'h1', projectId: 'p', resources: small }));
  const [a, b] = await Promise.all([ledger.claimBatch(batchA), ledger.claimBatch(batchB)]);
  const granted = [...a, ...b].filter((r) => r.ok).length;
  t.equal(granted, 4, 'h1 holds exactly 4 × 1024 MB');
  const refused = [...a, ...b].find((r) => !r.ok);
  t.match(refused, { ok: false, used: { MEMORY_MB: 4096 } }, 'a refusal says what the ledger holds now');
  const totals = await ledger.totals();
  t.equal(totals.MEMORY_MB, 4096);
  t.same(totals.allocations, { VCPU: 4, MEMORY_MB: 4096, DISK_GB: 40 });
  const grantedIds = [...batchA, ...batchB].filter((_, i) => [...a, ...b][i]!.ok).map((c) => c.consumer);
  t.equal((await ledger.release(grantedIds)).length, 4);
  t.same((await ledger.totals()).allocations, { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 }, 'release gives everything back');
});

t.test('the first claim for a consumer wins; a move replaces it', async (t) => {
  const consumer = uuid();
  const [first, second] = await Promise.all([
    ledger.claimBatch([{ consumer, provider: 'h1', projectId: 'p', resources: small }]),
    ledger.claimBatch([{ consumer, provider: 'h2', projectId: 'p', resources: small }]),
  ]);
  const results = [first[0]!, second[0]!];
  t.equal(results.filter((r) => r.ok).length, 1, 'one claim is granted');
  const loser = results.find((r) => !r.ok) as { held?: string };
  const winner = results[0]!.ok ? 'h1' : 'h2';
  t.equal(loser.held, winner, 'the other learns where the consumer is held');
  t.same((await ledger.totals()).allocations, small, 'charged once');

  const other = winner === 'h1' ? 'h2' : 'h1';
  const [moved] = await ledger.claimBatch([{ consumer, provider: other, projectId: 'p', resources: small, move: true }]);
  t.ok(moved!.ok, 'a move is granted');
  const allocs = await ledger.allocations();
  t.same(allocs, [{ consumer, provider: other, resources: small }], 'and replaces the allocation');
  t.equal((await ledger.snapshot()).find((p) => p.provider === winner)?.used.MEMORY_MB, 0, 'the old host is freed');
  await ledger.release([consumer]);
});
