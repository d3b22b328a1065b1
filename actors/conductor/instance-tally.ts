/**
 * Instances by vm_state and task_state, builds by outcome, reschedules and the newest faults, as
 * the conductor writes them: counted once from PostgreSQL at start (one grouped query), then moved
 * by every write that applied (an insert, a CAS update the instance actor made), so `/metrics`
 * and `novact status` read memory, never the database. One conductor role per cluster writes every
 * instance, so its tally is the cluster's; a write whose reply was lost after it committed is
 * missed until the next start recounts.
 */
import type { InstanceRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Metrics } from '../../runtime/metrics/metrics.js';

type StateOf = Pick<InstanceRow, 'vmState' | 'taskState' | 'host' | 'fault' | 'deletedAt'>;

/** How many faults `novact status` can show. */
export const RECENT_FAULTS = 20;
/** The task_state label of an instance with no task. */
export const NO_TASK = 'none';

export interface RecentFault {
  uuid: string;
  vmState: string;
  code: number;
  message: string;
  at: string;
}

const SEP = '\u0001';

export class InstanceTally {
  private readonly counts = new Map<string, number>();
  readonly builds: Record<string, number> = {};
  reschedules = 0;
  private readonly faults: RecentFault[] = [];

  constructor(private readonly now: () => number) {}

  /** Counts the instances not deleted, by state (replaces whatever was counted). */
  async load(orm: Orm): Promise<void> {
    const res = await orm.em.getConnection().getKnex().raw(
      `select vm_state, coalesce(task_state, '') as task_state, count(*)::int as n from instances where deleted_at is null group by 1, 2`,
    );
    this.counts.clear();
    for (const r of res.rows as { vm_state: string; task_state: string; n: number }[]) this.counts.set(key(r.vm_state, r.task_state || null), r.n);
  }

  /** A new instance was inserted. */
  added(row: StateOf): void {
    this.bump(row, 1);
  }

  /** A write moved an instance from `prev` to `next` (both as the row says). */
  moved(uuid: string, prev: StateOf, next: StateOf): void {
    this.bump(prev, -1);
    this.bump(next, 1);
    if (prev.vmState === 'building' && next.vmState !== 'building') {
      const outcome = next.deletedAt !== null ? 'deleted' : next.vmState;
      this.builds[outcome] = (this.builds[outcome] ?? 0) + 1;
    }
    if (prev.taskState === 'spawning' && next.taskState === 'spawning' && prev.host !== next.host) this.reschedules++;
    if (next.fault && (!prev.fault || prev.fault.message !== next.fault.message || prev.fault.code !== next.fault.code)) {
      this.faults.unshift({ uuid, vmState: next.vmState, code: next.fault.code, message: next.fault.message.slice(0, 500), at: new Date(this.now()).toISOString() });
      this.faults.length = Math.min(this.faults.length, RECENT_FAULTS);
    }
  }

  /** Every state with its count (zeros included once seen). */
  states(): { vmState: string; taskState: string | null; count: number }[] {
    return [...this.counts].map(([k, count]) => {
      const [vmState, task] = k.split(SEP) as [string, string];
      return { vmState, taskState: task === '' ? null : task, count };
    });
  }

  recentFaults(): RecentFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** The gauges and counters at scrape time; returns their removal. */
  watch(metrics: Metrics): () => void {
    const m = metrics.m;
    const reschedules = m.reschedules.child();
    return metrics.onScrape(() => {
      for (const s of this.states()) m.instances.set({ vm_state: s.vmState, task_state: s.taskState ?? NO_TASK }, s.count);
      for (const [outcome, n] of Object.entries(this.builds)) m.builds.child(outcome).value = n;
      reschedules.value = this.reschedules;
    });
  }

  private bump(s: StateOf, by: number): void {
    if (s.deletedAt !== null) return;
    const k = key(s.vmState, s.taskState);
    this.counts.set(k, Math.max(0, (this.counts.get(k) ?? 0) + by));
  }
}

const key = (vm: string, task: string | null) => `${vm}${SEP}${task ?? ''}`;
