/**
 * The conductor's power-sync router without a cluster: which observations reach which instance
 * (only those that matter), NOSTATE for guests missing from a complete listing, multi-chunk
 * listings, stale observations. The database is a stub that answers the router's two queries.
 */
import t from 'tap';
import { PowerSyncRouter } from '../../actors/conductor/power-sync-router.js';
import type { ObservedEvent } from '../../protocols/lifecycle.js';
import type { PowerSyncReport } from '../../protocols/catalog/reports.js';
import { PowerState } from '../../protocols/states.js';
import type { Orm } from '../../runtime/db/orm.js';
import { createLogger } from '../../runtime/log/logger.js';

const { NOSTATE, RUNNING, SHUTDOWN, CRASHED } = PowerState;
interface Row { uuid: string; vmState: string; taskState: string | null; powerState: number; host: string | null; updatedAt: Date; deletedAt: Date | null }
const row = (uuid: string, over: Partial<Row> = {}): Row =>
  ({ uuid, vmState: 'active', taskState: null, powerState: RUNNING, host: 'h1', updatedAt: new Date(1_000), deletedAt: null, ...over });

function setup(rows: Row[]) {
  const queries: Record<string, unknown>[] = [];
  const find = async (_entity: unknown, where: Record<string, unknown>) => {
    queries.push(where);
    const u = where.uuid as { $in?: string[]; $nin?: string[] } | undefined;
    return rows.filter((r) => r.host === where.host && r.deletedAt === null && (!u?.$in || u.$in.includes(r.uuid)) && (!u?.$nin || !u.$nin.includes(r.uuid)));
  };
  const orm = { em: { fork: () => ({ find }) } } as unknown as Orm;
  const told: [string, ObservedEvent][] = [];
  const router = new PowerSyncRouter(orm, (uuid, e) => told.push([uuid, e]), createLogger('silent'));
  return { router, told, queries };
}
const report = (guests: [string, number][], over: Partial<PowerSyncReport> = {}): PowerSyncReport =>
  ({ host: 'h1', guests: guests.map(([uuid, powerState]) => ({ uuid, powerState })), at: 2_000, cause: 'periodic', chunk: 0, chunks: 1, ...over });

t.test('a one-message listing: one query; matching guests are skipped, changed and missing ones are sent', async (t) => {
  const { router, told, queries } = setup([
    row('a'), row('b'), row('c'), row('d', { taskState: 'spawning' }), row('e', { host: 'h2' }), row('f', { vmState: 'stopped', powerState: SHUTDOWN }),
  ]);
  await router.report(report([['a', RUNNING], ['b', CRASHED], ['f', SHUTDOWN], ['x', RUNNING]]));
  t.equal(queries.length, 1, 'one query');
  t.same(told.map(([u, e]) => [u, e.powerState]), [['b', CRASHED], ['c', NOSTATE]], 'the crash, and the guest the host no longer has');
  t.same(told[0]![1], { kind: 'observed', host: 'h1', powerState: CRASHED, at: 2_000 });
  t.match(router.stats, { reports: 1, forwarded: { periodic: 2, event: 0 }, missing: 2 }, 'd (busy) counts as missing but is skipped');
});

t.test('an event names its guest only: no NOSTATE for the others', async (t) => {
  const { router, told, queries } = setup([row('a'), row('b')]);
  await router.report(report([['a', SHUTDOWN]], { cause: 'event', chunk: undefined, chunks: undefined }));
  t.same(queries, [{ host: 'h1', deletedAt: null, uuid: { $in: ['a'] } }]);
  t.same(told.map(([u]) => u), ['a']);
  t.equal(router.stats.forwarded.event, 1);
});

t.test('a listing in chunks: missing guests once every chunk arrived; an older listing does not complete a newer one', async (t) => {
  const { router, told } = setup([row('a'), row('b'), row('c')]);
  await router.report(report([['a', RUNNING]], { chunk: 0, chunks: 2, at: 3_000 }));
  t.same(told, [], 'nothing yet');
  await router.report(report([['b', RUNNING]], { chunk: 1, chunks: 2, at: 2_500 }));
  t.same(told, [], 'a chunk of an older listing completes nothing');
  await router.report(report([['b', RUNNING]], { chunk: 1, chunks: 2, at: 3_000 }));
  t.same(told.map(([u, e]) => [u, e.powerState]), [['c', NOSTATE]], 'c was in neither chunk');
});

t.test('an observation older than the row\'s last write is ignored', async (t) => {
  const { router, told } = setup([row('a', { updatedAt: new Date(5_000) })]);
  await router.report(report([['a', SHUTDOWN]], { at: 4_999 }));
  t.same(told, []);
  await router.report(report([['a', SHUTDOWN]], { at: 5_000 }));
  t.equal(told.length, 1, 'one taken at or after it is not');
});
