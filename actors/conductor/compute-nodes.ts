/**
 * Compute node records, written by the conductor on behalf of hosts (which never touch the database).
 * Reports and heartbeats are coalesced per host and upserted in one statement per flush.
 */
import type { CapacityReport, HeartbeatReport } from '../../protocols/resources.js';
import type { ComputeNodeView, HostsReply } from '../../protocols/messages.js';
import { BudgetedPage, MAX_PAGE_ITEMS } from '../../protocols/paging.js';
import { fieldsOf, optInt, optStr } from '../../protocols/validate.js';
import { ComputeNode, type ComputeNodeRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Clock, Timer } from '../../runtime/clock.js';
import type { Logger } from '../../runtime/log/logger.js';
import { errorFields } from '../../runtime/log/logger.js';
import { writeIsolating } from '../../runtime/db/isolate.js';

export class ComputeNodeWriter {
  /** The last report per host, with when this conductor received it (the sender's clock is not trusted, C4). */
  private reports = new Map<string, { r: CapacityReport; at: number }>();
  private beats = new Map<string, number>();
  private timer: Timer | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly serviceDownTimeMs: number,
  ) {}

  start(flushMs: number): void {
    this.timer = this.clock.setInterval(() => void this.flush(), flushMs);
  }

  /** A report received at `receivedAt`: one host's reports arrive in order, so the latest wins. */
  report(r: CapacityReport, receivedAt: number): void {
    this.reports.set(r.host, { r, at: receivedAt });
  }

  heartbeat(hb: HeartbeatReport, receivedAt: number): void {
    this.beats.set(hb.host, Math.max(this.beats.get(hb.host) ?? 0, receivedAt));
  }

  /** Writes what arrived since the last flush. Flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write()).catch((err) => this.log.error('compute node write failed', errorFields(err)));
    return this.flushing;
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    await this.flush();
  }

  /**
   * Whether `host`'s compute service is down: not heard from for longer than the service down time
   * (reports not yet flushed count as heard), or forced down by an operator. A host with no record
   * at all has no service that could run a guest.
   */
  async isDown(host: string): Promise<boolean> {
    const now = this.clock.now();
    const pending = Math.max(this.beats.get(host) ?? 0, this.reports.get(host)?.at ?? 0);
    const row = await this.orm.em.fork().findOne(ComputeNode, { host }, { fields: ['lastSeenAt', 'forcedDown'] });
    if (!row) return pending === 0 || now - pending > this.serviceDownTimeMs;
    if (row.forcedDown) return true;
    const seen = Math.max(row.lastSeenAt.getTime(), Number.isFinite(pending) ? pending : 0);
    return now - seen > this.serviceDownTimeMs;
  }

  /** One page of records in host order after `marker`; `next` when more may follow (`hosts` verb, `host list`). */
  async list(body: Record<string, unknown> = {}): Promise<HostsReply> {
    const o = fieldsOf(body ?? {}, ['limit', 'marker'], 'hosts');
    const limit = optInt(o, 'limit', { min: 1, max: MAX_PAGE_ITEMS }) ?? MAX_PAGE_ITEMS;
    const marker = optStr(o, 'marker');
    const rows = await this.orm.em.fork().find(ComputeNode, marker === undefined ? {} : { host: { $gt: marker } }, { orderBy: { host: 'asc' }, limit: limit + 1 });
    const now = this.clock.now();
    const page = new BudgetedPage<ComputeNodeView>(undefined, limit);
    for (const r of rows) if (!page.add(nodeView(r, now, this.serviceDownTimeMs))) break;
    const last = page.items[page.items.length - 1];
    return last && rows.length > page.items.length ? { hosts: page.items, next: last.host } : { hosts: page.items };
  }

  /** Drops what is buffered for a host whose service is being deleted (its next report re-registers it). */
  forget(host: string): void {
    this.reports.delete(host);
    this.beats.delete(host);
  }

  private async write(): Promise<void> {
    const reports = [...this.reports.values()];
    const beats = [...this.beats.entries()].filter(([h]) => !this.reports.has(h));
    this.reports = new Map();
    this.beats = new Map();
    // One bad row (a number past int range) must not drop the update of
    // every other host in this second: bad rows are isolated and logged (the next report replaces them).
    const rows = reports.flatMap(({ r, at }) => {
      const seen = isoOf(at);
      if (seen === undefined) {
        this.log.warn('compute node report dropped: bad receive time', { host: String(r.host) });
        return [];
      }
      return [{
        host: r.host, node: r.node, hypervisor_type: r.hypervisorType, hypervisor_version: r.hypervisorVersion, cpu_arch: r.cpuArch,
        availability_zone: r.availabilityZone, vcpus: r.vcpus, memory_mb: r.memoryMb, local_gb: r.diskGb, vcpus_used: r.vcpusUsed,
        memory_mb_used: r.memoryMbUsed, local_gb_used: r.diskGbUsed, running_vms: r.runningVms,
        disk_available_least: r.diskAvailableLeastGb ?? null, uptime: r.uptime ?? null, host_ip: r.hostIp ?? null, seen,
      }];
    });
    const seenRows = beats.flatMap(([host, at]) => {
      const seen = isoOf(at);
      return seen === undefined ? [] : [{ host, seen }];
    });
    const failed = [
      ...(await writeIsolating(rows, (batch) => this.upsertReports(batch))),
      ...(await writeIsolating(seenRows, (batch) => this.updateSeen(batch))),
    ];
    for (const f of failed) this.log.warn('compute node write failed for one host', { host: String(f.item.host), ...errorFields(f.err) });
  }

  private async upsertReports(rows: Record<string, unknown>[]): Promise<void> {
    await this.orm.em.getConnection().getKnex().raw(
      `insert into compute_nodes (host, node, hypervisor_type, hypervisor_version, cpu_arch, availability_zone, vcpus, memory_mb,
         local_gb, vcpus_used, memory_mb_used, local_gb_used, running_vms, disk_available_least, uptime, host_ip, disabled,
         disabled_reason, forced_down, last_seen_at, created_at, updated_at)
       select d.host, d.node, d.hypervisor_type, d.hypervisor_version, d.cpu_arch, d.availability_zone, d.vcpus, d.memory_mb,
         d.local_gb, d.vcpus_used, d.memory_mb_used, d.local_gb_used, d.running_vms, d.disk_available_least, d.uptime, d.host_ip,
         false, null, false, d.seen, now(), now()
       from jsonb_to_recordset(?::jsonb) as d(host text, node text, hypervisor_type text, hypervisor_version int, cpu_arch text,
         availability_zone text, vcpus int, memory_mb int, local_gb int, vcpus_used int, memory_mb_used int, local_gb_used int,
         running_vms int, disk_available_least int, uptime text, host_ip text, seen timestamptz)
       on conflict (host) do update set node = excluded.node, hypervisor_type = excluded.hypervisor_type,
         hypervisor_version = excluded.hypervisor_version, cpu_arch = excluded.cpu_arch, availability_zone = excluded.availability_zone,
         vcpus = excluded.vcpus, memory_mb = excluded.memory_mb, local_gb = excluded.local_gb, vcpus_used = excluded.vcpus_used,
         memory_mb_used = excluded.memory_mb_used, local_gb_used = excluded.local_gb_used, running_vms = excluded.running_vms,
         disk_available_least = excluded.disk_available_least, uptime = excluded.uptime, host_ip = excluded.host_ip,
         last_seen_at = greatest(compute_nodes.last_seen_at, excluded.last_seen_at), updated_at = now()`,
      [JSON.stringify(rows)],
    );
  }

  private async updateSeen(rows: { host: string; seen: string }[]): Promise<void> {
    await this.orm.em.getConnection().getKnex().raw(
      `update compute_nodes c set last_seen_at = greatest(c.last_seen_at, d.seen)
       from jsonb_to_recordset(?::jsonb) as d(host text, seen timestamptz) where c.host = d.host`,
      [JSON.stringify(rows)],
    );
  }
}

/** An epoch-ms timestamp as ISO text, or undefined when it is not a representable date. */
function isoOf(ms: unknown): string | undefined {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** A compute-node record as readers see it: up when heard from within the service-down time and not forced down. */
export function nodeView(r: ComputeNodeRow, now: number, serviceDownTimeMs: number): ComputeNodeView {
  return {
    host: r.host,
    node: r.node,
    state: now - r.lastSeenAt.getTime() <= serviceDownTimeMs && !r.forcedDown ? 'up' : 'down',
    status: r.disabled ? 'disabled' : 'enabled',
    hypervisorType: r.hypervisorType,
    vcpus: r.vcpus,
    vcpusUsed: r.vcpusUsed,
    memoryMb: r.memoryMb,
    memoryMbUsed: r.memoryMbUsed,
    localGb: r.localGb,
    localGbUsed: r.localGbUsed,
    runningVms: r.runningVms,
    lastSeenAt: r.lastSeenAt.toISOString(),
  };
}
