/**
 * A PostgreSQL pool's metrics: how long callers wait for a connection (every acquire, through the
 * pool's own events: knex's tarn pool), failed waits, and at scrape time the connections used and
 * free and the callers waiting.
 */
import type { Orm } from '../db/orm.js';
import type { Metrics } from './metrics.js';

/** The part of tarn's Pool this reads. */
interface TarnPool {
  on(event: 'acquireRequest', f: (id: number) => void): void;
  on(event: 'acquireSuccess' | 'acquireFail', f: (id: number) => void): void;
  removeListener(event: string, f: (...args: never[]) => void): void;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

/** The ORM's connection pool (knex's `client.pool`), undefined when the ORM holds none. */
export function poolOf(orm: Orm): TarnPool | undefined {
  const knex = orm.em.getConnection().getKnex() as unknown as { client?: { pool?: TarnPool } };
  return knex.client?.pool;
}

/** Watches `pool` under the label `name`; returns the unwatch. */
export function watchPool(metrics: Metrics, name: string, pool: TarnPool): () => void {
  const m = metrics.m;
  const wait = m.poolWaitSeconds.child(name);
  const failed = m.poolAcquireFailures.child(name);
  const started = new Map<number, number>();
  const onRequest = (id: number) => void started.set(id, performance.now());
  const onSuccess = (id: number) => {
    const t0 = started.get(id);
    started.delete(id);
    if (t0 !== undefined) wait.observe((performance.now() - t0) / 1000);
  };
  const onFail = (id: number) => {
    started.delete(id);
    failed.inc();
  };
  pool.on('acquireRequest', onRequest);
  pool.on('acquireSuccess', onSuccess);
  pool.on('acquireFail', onFail);
  const stop = metrics.onScrape(() => {
    m.poolConnections.set({ pool: name, state: 'used' }, pool.numUsed());
    m.poolConnections.set({ pool: name, state: 'free' }, pool.numFree());
    m.poolWaiting.set({ pool: name }, pool.numPendingAcquires());
  });
  return () => {
    stop();
    pool.removeListener('acquireRequest', onRequest);
    pool.removeListener('acquireSuccess', onSuccess);
    pool.removeListener('acquireFail', onFail);
  };
}
