/**
 * Guest reconciliation on the host side (Nova's `running_deleted_instance_action = reap`): each host
 * lists what its hypervisor runs, asks the conductor which of those guests still belong to a live
 * instance on it (`conductor.host-guests.<host>`), and destroys the rest, logging each. This is what
 * catches a guest left behind when a delete could not reach its host (the conductor deleted it
 * locally once the host was down past the service down time), or a guest a compute restart found.
 *
 * Safe against races: the guests are listed *before* the question is asked, and an instance's row
 * names its host before the spawn is sent, so a guest being built is reported live; guests whose
 * spawn is running on this host are skipped as well. When the conductor cannot be asked, nothing is
 * reaped.
 */
import { isUuid } from '../../protocols/validate.js';
import { HostGuests } from '../../protocols/catalog/conductor.js';
import { HOST_GUESTS_MAX, type HostGuestsReply, type HostGuestsRequest } from '../../protocols/reconcile.js';
import type { Logger } from '../../runtime/log/logger.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { RoleContext } from '../../runtime/role.js';
import type { HostRecord } from './host-record.js';

export interface ReapStats {
  runs: number;
  reaped: number;
  failures: number;
}

export class GuestReaper {
  readonly stats: ReapStats = { runs: 0, reaped: 0, failures: 0 };
  private readonly running = new Set<string>();
  private stopped = false;

  constructor(
    private readonly ctx: RoleContext,
    private readonly log: Logger,
    /** A guest was destroyed: the host's capacity moved. */
    private readonly changed: (rec: HostRecord) => void,
  ) {}

  /** Reconciles one host; resolves to the uuids it reaped. Never rejects. */
  async reconcile(rec: HostRecord): Promise<string[]> {
    return (await this.reconcileHost(rec))?.reaped ?? [];
  }

  /**
   * Reconciles one host; resolves to what it reaped and which of the remaining guests should be
   * running, or undefined when it could not finish (the conductor did not answer, a run was under
   * way). Never rejects.
   */
  async reconcileHost(rec: HostRecord): Promise<{ reaped: string[]; running: Set<string> } | undefined> {
    if (this.stopped || this.running.has(rec.name)) return undefined;
    this.running.add(rec.name);
    this.stats.runs++;
    try {
      const guests = (await rec.driver.listGuests()).map((g) => g.uuid).filter((u) => isUuid(u) && !rec.spawning?.has(u));
      const reaped: string[] = [];
      const running = new Set<string>();
      for (let i = 0; i < guests.length && !this.stopped; i += HOST_GUESTS_MAX) {
        const chunk = guests.slice(i, i + HOST_GUESTS_MAX);
        const answer = await this.ask(rec.name, chunk);
        const live = new Set(answer.live.map((u) => u.toLowerCase()));
        for (const u of answer.running ?? []) running.add(u.toLowerCase());
        for (const uuid of chunk) {
          if (live.has(uuid.toLowerCase()) || rec.spawning?.has(uuid) || this.stopped) continue;
          await rec.driver.destroy(uuid);
          this.stats.reaped++;
          reaped.push(uuid);
          this.log.warn('reaped a guest with no live instance on this host', { host: rec.name, instance: uuid });
        }
      }
      if (reaped.length > 0) this.changed(rec);
      return this.stopped ? undefined : { reaped, running };
    } catch (err) {
      this.stats.failures++;
      this.log.info('guest reconciliation skipped', { host: rec.name, ...errorFields(err) });
      return undefined;
    } finally {
      this.running.delete(rec.name);
    }
  }

  /** Reconciles every host, a few at a time (a start-up pass must not flood the conductor). */
  async reconcileAll(recs: readonly HostRecord[], concurrency = 4): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < recs.length && !this.stopped) await this.reconcile(recs[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, recs.length) }, worker));
  }

  stop(): void {
    this.stopped = true;
  }

  private ask(host: string, uuids: string[]): Promise<HostGuestsReply> {
    const req: HostGuestsRequest = { host, uuids };
    // `call` validates the reply: an answer we cannot read throws, and reaps nothing.
    return this.ctx.bridge.call(HostGuests, [host], req, { timeoutMs: this.ctx.requestTimeoutMs });
  }
}
