/**
 * Power sync, conductor side: each `report.host.<h>.power-sync` (a driver event, or a chunk of a
 * periodic listing) is matched against the instances the database places on that host, and an
 * observation goes to an instance's actor only when it would change something (the rules in
 * protocols/lifecycle/power-sync.ts). An idle instance whose guest looks as recorded costs one row
 * of one query per listing, and no actor. A guest missing from a complete listing is NOSTATE.
 */
import { PowerState } from '../../protocols/states.js';
import { observationMatters, type ObservedEvent } from '../../protocols/lifecycle.js';
import type { PowerSyncReport } from '../../protocols/catalog/reports.js';
import { Instance, type InstanceRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import { errorFields, type Logger } from '../../runtime/log/logger.js';
import { isStale } from './power-sync-record.js';

export interface PowerSyncStats {
  reports: number;
  /** Observations sent to instance actors, by the report's cause. */
  forwarded: { event: number; periodic: number };
  /** Observations that matched the record (or were stale, or the instance was busy or elsewhere). */
  skipped: number;
  /** Instances on the host that a complete listing did not show (observed as NOSTATE). */
  missing: number;
}

type SyncRow = Pick<InstanceRow, 'uuid' | 'vmState' | 'taskState' | 'powerState' | 'host' | 'updatedAt'>;
const FIELDS = ['uuid', 'vmState', 'taskState', 'powerState', 'host', 'updatedAt'] as const;

/** The chunks of one multi-chunk listing seen so far (one listing per host at a time). */
interface Partial {
  at: number;
  chunks: number;
  got: Set<number>;
  seen: Set<string>;
}

export class PowerSyncRouter {
  readonly stats: PowerSyncStats = { reports: 0, forwarded: { event: 0, periodic: 0 }, skipped: 0, missing: 0 };
  private readonly partial = new Map<string, Partial>();

  /**
   * `orm` should be the conductor's read pool: a burst of listings (every host at start) queues
   * there, not ahead of the instance writes.
   */
  constructor(
    private readonly orm: Orm,
    private readonly tell: (uuid: string, e: ObservedEvent) => void,
    private readonly log: Logger,
  ) {}

  /** Never rejects: a report that fails is retried by the next listing. */
  async report(r: PowerSyncReport): Promise<void> {
    this.stats.reports++;
    try {
      await this.apply(r);
    } catch (err) {
      this.log.warn('power sync report not applied', { host: r.host, cause: r.cause, ...errorFields(err) });
    }
  }

  private async apply(r: PowerSyncReport): Promise<void> {
    const observed = new Map(r.guests.map((g) => [g.uuid.toLowerCase(), g.powerState as PowerState]));
    const offer = (row: SyncRow, powerState: PowerState) => {
      const e: ObservedEvent = { kind: 'observed', host: r.host, powerState, at: r.at };
      if (isStale(row, e) || !observationMatters(row, e)) {
        this.stats.skipped++;
        return;
      }
      this.stats.forwarded[r.cause]++;
      this.tell(row.uuid, e);
    };
    const onHost = { host: r.host, deletedAt: null };
    if (r.cause === 'periodic' && (r.chunks ?? 1) === 1) {
      // The whole listing in one message: one query gives both the listed and the missing.
      for (const row of await this.rows(onHost)) {
        const ps = observed.get(row.uuid);
        if (ps === undefined) this.stats.missing++;
        offer(row, ps ?? PowerState.NOSTATE);
      }
      return;
    }
    if (observed.size > 0) {
      for (const row of await this.rows({ ...onHost, uuid: { $in: [...observed.keys()] } })) offer(row, observed.get(row.uuid)!);
    }
    const seen = r.cause === 'periodic' ? this.complete(r, observed.keys()) : undefined;
    if (seen) {
      for (const row of await this.rows(seen.size > 0 ? { ...onHost, uuid: { $nin: [...seen] } } : onHost)) {
        this.stats.missing++;
        offer(row, PowerState.NOSTATE);
      }
    }
  }

  /**
   * Collects a multi-chunk listing; returns every uuid it listed once all its chunks arrived. A
   * newer listing replaces an unfinished one; with several conductors the chunks may be shared out
   * between them, and then none sees the listing complete (missing guests wait; nothing is wrong).
   */
  private complete(r: PowerSyncReport, uuids: Iterable<string>): Set<string> | undefined {
    let p = this.partial.get(r.host);
    if (!p || p.at < r.at) {
      p = { at: r.at, chunks: r.chunks ?? 1, got: new Set(), seen: new Set() };
      this.partial.set(r.host, p);
    } else if (p.at > r.at) {
      return undefined;
    }
    p.got.add(r.chunk ?? 0);
    for (const u of uuids) p.seen.add(u);
    if (p.got.size < p.chunks) return undefined;
    this.partial.delete(r.host);
    return p.seen;
  }

  private rows(where: Record<string, unknown>): Promise<SyncRow[]> {
    return this.orm.em.fork().find(Instance, where, { fields: [...FIELDS], disableIdentityMap: true }) as Promise<SyncRow[]>;
  }
}
