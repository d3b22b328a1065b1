/**
 * Scheduling inputs the scheduler role owns besides capacity: host aggregates (with availability
 * zones) and server groups. Held in memory for the filters, written through here (MikroORM), and
 * reloaded on the change events other replicas publish. Rules enforced on write, as Nova does: a
 * host is in at most one availability zone; an aggregate with hosts cannot be deleted.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../../protocols/errors.js';
import {
  Aggregate, AggregateHost, ServerGroup, ServerGroupMember,
  type AggregateRow, type ServerGroupPolicy, type ServerGroupRow,
} from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { AggregateView, ServerGroupView } from '../../protocols/scheduler-views.js';

export const DEFAULT_AVAILABILITY_ZONE = 'nova';
const AZ_KEY = 'availability_zone';

interface AggregateState {
  row: AggregateRow;
  hosts: Set<string>;
}

export class SchedulingCatalog {
  private aggregates = new Map<number, AggregateState>();
  private groups = new Map<string, { row: ServerGroupRow; members: Set<string> }>();
  private groupOf = new Map<string, string>();

  constructor(private readonly orm: Orm) {}

  async load(): Promise<void> {
    const em = this.orm.em.fork();
    const [aggs, links, groups, members] = await Promise.all([
      em.find(Aggregate, {}), em.find(AggregateHost, {}), em.find(ServerGroup, {}), em.find(ServerGroupMember, {}),
    ]);
    this.aggregates = new Map(aggs.map((a) => [a.id, { row: a, hosts: new Set<string>() }]));
    for (const l of links) this.aggregates.get(l.aggregateId)?.hosts.add(l.host);
    this.groups = new Map(groups.map((g) => [g.uuid, { row: g, members: new Set<string>() }]));
    this.groupOf = new Map();
    for (const m of members) {
      this.groups.get(m.groupUuid)?.members.add(m.instanceUuid);
      this.groupOf.set(m.instanceUuid, m.groupUuid);
    }
  }

  // --- reads used on the decision path ---

  /** The host's aggregates (id + metadata) and its zone (aggregate zone, else the reported one, else `nova`). */
  placementOf(host: string, reportedZone: string | null): { aggregates: { id: string; metadata: Record<string, string> }[]; zone: string } {
    const aggregates: { id: string; metadata: Record<string, string> }[] = [];
    let zone: string | null = null;
    for (const a of this.aggregates.values()) {
      if (!a.hosts.has(host)) continue;
      aggregates.push({ id: String(a.row.id), metadata: a.row.metadata });
      zone ??= a.row.metadata[AZ_KEY] ?? null;
    }
    return { aggregates, zone: zone ?? reportedZone ?? DEFAULT_AVAILABILITY_ZONE };
  }

  group(id: string): { row: ServerGroupRow; members: Set<string> } | undefined {
    return this.groups.get(id);
  }

  /** Records membership in memory (persisted with the member's claim). */
  join(groupId: string, instance: string): void {
    this.groups.get(groupId)?.members.add(instance);
    this.groupOf.set(instance, groupId);
  }

  /** Forgets a released instance's membership (the ledger deletes the row in the same transaction). */
  leave(instance: string): void {
    const g = this.groupOf.get(instance);
    if (g === undefined) return;
    this.groupOf.delete(instance);
    this.groups.get(g)?.members.delete(instance);
  }

  // --- aggregates ---

  listAggregates(): AggregateView[] {
    return [...this.aggregates.values()].map(aggregateView).sort((a, b) => a.id - b.id);
  }

  getAggregate(id: number): AggregateView {
    return aggregateView(this.aggregateState(id));
  }

  async createAggregate(name: string, zone: string | null, now: Date): Promise<AggregateView> {
    if ([...this.aggregates.values()].some((a) => a.row.name === name)) throw new ConflictError(`Aggregate ${name} already exists.`);
    const row = { uuid: randomUUID(), name, metadata: zone ? { [AZ_KEY]: zone } : {}, createdAt: now, updatedAt: now } as AggregateRow;
    const em = this.orm.em.fork();
    const id = await em.insert(Aggregate, row);
    const state = { row: { ...row, id: Number(id) }, hosts: new Set<string>() };
    this.aggregates.set(state.row.id, state);
    return aggregateView(state);
  }

  async deleteAggregate(id: number): Promise<void> {
    const a = this.aggregateState(id);
    if (a.hosts.size > 0) throw new BadRequestError(`Cannot delete aggregate ${id}: it still has hosts.`);
    await this.orm.em.fork().nativeDelete(Aggregate, { id });
    this.aggregates.delete(id);
  }

  async addHost(id: number, host: string): Promise<AggregateView> {
    const a = this.aggregateState(id);
    if (a.hosts.has(host)) throw new ConflictError(`Host ${host} is already in aggregate ${id}.`);
    const zone = a.row.metadata[AZ_KEY];
    if (zone !== undefined) this.checkSingleZone(host, zone, id);
    await this.orm.em.fork().insert(AggregateHost, { aggregateId: id, host });
    a.hosts.add(host);
    return aggregateView(a);
  }

  async removeHost(id: number, host: string): Promise<AggregateView> {
    const a = this.aggregateState(id);
    if (!a.hosts.has(host)) throw new NotFoundError(`Host ${host} is not in aggregate ${id}.`);
    await this.orm.em.fork().nativeDelete(AggregateHost, { aggregateId: id, host });
    a.hosts.delete(host);
    return aggregateView(a);
  }

  /** Nova's set_metadata: a null value removes the key. */
  async setMetadata(id: number, changes: Record<string, string | null>, now: Date): Promise<AggregateView> {
    const a = this.aggregateState(id);
    const metadata = { ...a.row.metadata };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete metadata[k];
      else metadata[k] = v;
    }
    const zone = metadata[AZ_KEY];
    if (zone !== undefined) for (const h of a.hosts) this.checkSingleZone(h, zone, id);
    await this.orm.em.fork().nativeUpdate(Aggregate, { id }, { metadata, updatedAt: now });
    a.row = { ...a.row, metadata, updatedAt: now };
    return aggregateView(a);
  }

  /** Nova's aggregate update: a unique new name and/or a zone (checked like set_metadata's). */
  async updateAggregate(id: number, name: string | undefined, zone: string | null | undefined, now: Date): Promise<AggregateView> {
    const a = this.aggregateState(id);
    if (name !== undefined && name !== a.row.name && [...this.aggregates.values()].some((x) => x.row.name === name)) {
      throw new ConflictError(`Aggregate ${name} already exists.`);
    }
    if (zone !== undefined) await this.setMetadata(id, { [AZ_KEY]: zone }, now);
    if (name === undefined) return aggregateView(this.aggregateState(id));
    await this.orm.em.fork().nativeUpdate(Aggregate, { id }, { name, updatedAt: now });
    const fresh = this.aggregateState(id);
    fresh.row = { ...fresh.row, name, updatedAt: now };
    return aggregateView(fresh);
  }

  /** Hosts whose placement (aggregates, zone) a change to aggregate `id` may have altered. */
  hostsOf(id: number): string[] {
    return [...(this.aggregates.get(id)?.hosts ?? [])];
  }

  zones(): { zone: string; hosts: string[] }[] {
    const byZone = new Map<string, Set<string>>();
    for (const a of this.aggregates.values()) {
      const z = a.row.metadata[AZ_KEY];
      if (z === undefined) continue;
      const set = byZone.get(z) ?? new Set<string>();
      for (const h of a.hosts) set.add(h);
      byZone.set(z, set);
    }
    return [...byZone.entries()].map(([zone, hosts]) => ({ zone, hosts: [...hosts].sort() })).sort((a, b) => a.zone.localeCompare(b.zone));
  }

  // --- server groups ---

  listGroups(projectId?: string): ServerGroupView[] {
    return [...this.groups.values()].filter((g) => projectId === undefined || g.row.projectId === projectId).map(groupView);
  }

  getGroup(id: string): ServerGroupView {
    const g = this.groups.get(id);
    if (!g) throw new NotFoundError(`Server group ${id} could not be found.`);
    return groupView(g);
  }

  /** `maxGroups` (the project's `server_groups` quota; -1 unlimited) is checked atomically with the insert. */
  async createGroup(
    req: { name: string; policy: ServerGroupPolicy; maxServerPerHost: number | null; projectId: string; userId: string },
    now: Date,
    maxGroups = -1,
  ): Promise<ServerGroupView> {
    if (req.maxServerPerHost !== null && req.policy !== 'anti-affinity') {
      throw new BadRequestError('max_server_per_host is only valid with the anti-affinity policy');
    }
    const row: ServerGroupRow = { uuid: randomUUID(), ...req, createdAt: now };
    // Count and insert under a per-project advisory lock: replicas cannot race past the quota.
    await this.orm.em.getConnection().getKnex().transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`server_groups:${row.projectId}`]);
      if (maxGroups >= 0) {
        const { rows } = await trx.raw('select count(*)::int as n from server_groups where project_id = ?', [row.projectId]);
        if ((rows as { n: number }[])[0]!.n >= maxGroups) throw new ForbiddenError('Quota exceeded, too many server groups.');
      }
      await trx.raw(
        'insert into server_groups (uuid, name, project_id, user_id, policy, max_server_per_host, created_at) values (?, ?, ?, ?, ?, ?, ?)',
        [row.uuid, row.name, row.projectId, row.userId, row.policy, row.maxServerPerHost, now.toISOString()],
      );
    });
    const g = { row, members: new Set<string>() };
    this.groups.set(row.uuid, g);
    return groupView(g);
  }

  async deleteGroup(id: string): Promise<void> {
    const g = this.groups.get(id);
    if (!g) throw new NotFoundError(`Server group ${id} could not be found.`);
    await this.orm.em.fork().nativeDelete(ServerGroup, { uuid: id });
    this.groups.delete(id);
    for (const m of g.members) this.groupOf.delete(m);
  }

  private aggregateState(id: number): AggregateState {
    const a = this.aggregates.get(id);
    if (!a) throw new NotFoundError(`Aggregate ${id} could not be found.`);
    return a;
  }

  private checkSingleZone(host: string, zone: string, exceptAggregate: number): void {
    for (const other of this.aggregates.values()) {
      if (other.row.id === exceptAggregate || !other.hosts.has(host)) continue;
      const z = other.row.metadata[AZ_KEY];
      if (z !== undefined && z !== zone) {
        throw new ConflictError(`Host ${host} is already in availability zone ${z} (aggregate ${other.row.name}); a host is in at most one zone.`);
      }
    }
  }
}

function aggregateView(a: AggregateState): AggregateView {
  return {
    id: a.row.id,
    uuid: a.row.uuid,
    name: a.row.name,
    availabilityZone: a.row.metadata[AZ_KEY] ?? null,
    metadata: a.row.metadata,
    hosts: [...a.hosts].sort(),
    createdAt: new Date(a.row.createdAt).toISOString(),
    updatedAt: new Date(a.row.updatedAt).toISOString(),
  };
}

function groupView(g: { row: ServerGroupRow; members: Set<string> }): ServerGroupView {
  return {
    id: g.row.uuid,
    name: g.row.name,
    policy: g.row.policy,
    rules: g.row.maxServerPerHost !== null ? { max_server_per_host: g.row.maxServerPerHost } : {},
    members: [...g.members],
    projectId: g.row.projectId,
    userId: g.row.userId,
  };
}
