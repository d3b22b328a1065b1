/**
 * Timed lifecycle sweeps (Nova's periodic `_reclaim_queued_deletes` and `_poll_shelved_instances`):
 * an idle instance left in a vm state longer than its setting is acted on by its own actor, as an
 * operator would (the action's guards and the delete-wins rule apply as for any request). The time
 * an instance entered the state is its last write (`updated_at`): nothing else writes an idle
 * soft-deleted or shelved instance but a metadata change, which only postpones the sweep.
 */
import { DEFAULT_LIFECYCLE_CONFIG, type ActionName, type LifecycleConfig } from '../../protocols/lifecycle.js';
import type { EntityRegistry } from '../../runtime/actors/registry.js';
import type { Clock, Timer } from '../../runtime/clock.js';
import type { InstanceMsg } from './instance-actor.js';
import type { VmState } from '../../protocols/states.js';
import { Instance } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Logger } from '../../runtime/log/logger.js';
import { errorFields } from '../../runtime/log/logger.js';

interface TimedSweep {
  name: string;
  vm: VmState;
  verb: ActionName;
  /** Seconds in the state before the sweep acts; <= 0 turns the sweep off (shelve's 0 offloads in the flow itself). */
  afterS: (c: LifecycleConfig) => number;
}

export const TIMED_SWEEPS: readonly TimedSweep[] = [
  // A soft-deleted instance's delete is a real one (see deleteBegins).
  { name: 'reclaim', vm: 'soft-delete', verb: 'delete', afterS: (c) => c.reclaimInstanceIntervalS },
  { name: 'shelve-offload', vm: 'shelved', verb: 'shelveOffload', afterS: (c) => c.shelvedOffloadTimeS },
];

/** Instances per sweep and kind; the next sweep takes the rest. */
const BATCH = 1_000;

export interface SweepDeps {
  orm: Orm;
  log: Logger;
  config: LifecycleConfig;
  /** Asks the instance's actor to perform `verb` (as an admin of its project). */
  act: (uuid: string, verb: ActionName) => Promise<unknown>;
}

/** One pass of every timed sweep; answers how many instances each acted on. */
export async function runTimedSweeps(d: SweepDeps, now: number): Promise<Record<string, number>> {
  const done: Record<string, number> = {};
  for (const sw of TIMED_SWEEPS) {
    const after = sw.afterS(d.config);
    if (!(after > 0)) continue;
    const rows = await d.orm.em.fork().find(
      Instance,
      { deletedAt: null, vmState: sw.vm, taskState: null, updatedAt: { $lte: new Date(now - after * 1_000) } },
      { fields: ['uuid'], limit: BATCH, orderBy: { updatedAt: 'asc' } },
    );
    const results = await Promise.allSettled(rows.map((r) => d.act(r.uuid, sw.verb)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') d.log.warn(`${sw.name} sweep: ${sw.verb} refused`, { instance: rows[i]!.uuid, ...errorFields(r.reason) });
    });
    done[sw.name] = results.filter((r) => r.status === 'fulfilled').length;
    if (done[sw.name]! > 0) log(d, sw, done[sw.name]!);
  }
  return done;
}

function log(d: SweepDeps, sw: TimedSweep, count: number): void {
  d.log.info(`${sw.name} sweep acted`, { verb: sw.verb, count });
}

export interface TimedSweepsOptions {
  orm: Orm;
  log: Logger;
  clock: Clock;
  config: LifecycleConfig | undefined;
  intervalMs: number;
  requestTimeoutMs: number;
  registry: EntityRegistry<InstanceMsg>;
}

/** Runs the timed sweeps every `intervalMs` (a pass still running is not overlapped); cancel the timer to stop. */
export function startTimedSweeps(o: TimedSweepsOptions): Timer {
  const config = o.config ?? DEFAULT_LIFECYCLE_CONFIG;
  const act = (uuid: string, verb: ActionName) => o.registry.ask<unknown>(
    uuid,
    (reply) => ({ kind: 'request', verb, body: {}, requestId: `sweep.${verb}.${uuid}`, key: undefined, reply }),
    o.requestTimeoutMs,
  );
  let running = false;
  return o.clock.setInterval(() => {
    if (running || !TIMED_SWEEPS.some((sw) => sw.afterS(config) > 0)) return;
    running = true;
    runTimedSweeps({ orm: o.orm, log: o.log, config, act }, o.clock.now())
      .catch((err) => o.log.error('timed sweep failed', errorFields(err)))
      .finally(() => { running = false; });
  }, o.intervalMs);
}
