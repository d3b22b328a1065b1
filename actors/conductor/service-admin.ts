/**
 * Compute services for the REST API (`os-services`, `os-hypervisors`, `os-availability-zone`): the
 * compute-node records, paged at the source (a fleet's rows are far over one NATS message), and the
 * operator's switches on them (disable with a reason, enable, force down, delete). A change is
 * written to the record the hosts' reports never overwrite, and announced as
 * `<root>.evt.service.<host>.update` (`.delete`) for whoever keeps host state in memory.
 */
import { ConflictError, NotFoundError } from '../../protocols/errors.js';
import { hostInt, hostUuid } from '../../protocols/host-ids.js';
import { BudgetedPage, MAX_PAGE_ITEMS } from '../../protocols/paging.js';
import type { Subjects } from '../../protocols/subjects.js';
import { nodeView } from './compute-nodes.js';
import { fieldsOf, oneOf, optBool, optInt, optStr, str } from '../../protocols/validate.js';
import { BadRequestError } from '../../protocols/errors.js';
import { ComputeNode, Instance, type ComputeNodeRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Clock } from '../../runtime/clock.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import type { ServiceReply, ServicesReply, ServiceView, ZoneSummaryReply } from '../../protocols/conductor-replies.js';

/** What the scheduler is asked to forget when a service is deleted (its in-memory state, its ledger inventory). */
export type ForgetHost = (host: string, key: string) => Promise<void>;

export class ServiceAdmin {
  /** Ids derived from host names (sha1), memoised: resolving one id hashes every host name once. */
  private readonly ids = new Map<string, string[]>();

  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly bridge: Bridge,
    private readonly subjects: Subjects,
    private readonly serviceDownTimeMs: number,
    private readonly forgetHost: ForgetHost,
    private readonly forgetReports: (host: string) => void = () => undefined,
  ) {}

  async list(body: Record<string, unknown> = {}): Promise<ServicesReply> {
    const o = fieldsOf(body ?? {}, ['limit', 'marker', 'host', 'nodeContains', 'id'], 'services');
    const limit = optInt(o, 'limit', { min: 1, max: MAX_PAGE_ITEMS }) ?? MAX_PAGE_ITEMS;
    const marker = optStr(o, 'marker');
    const host = optStr(o, 'host');
    const nodeContains = optStr(o, 'nodeContains', { min: 0 });
    const where: Record<string, unknown> = {};
    if (o.id !== undefined) {
      const id = fieldsOf(o.id, ['kind', 'value'], 'id');
      const found = await this.hostOfId(oneOf(id, 'kind', ['service', 'hypervisor'] as const), str(id, 'value', { max: 64 }));
      if (found === undefined) return { services: [] };
      where.host = found;
    }
    if (host !== undefined) where.host = where.host === undefined || where.host === host ? host : { $in: [] };
    if (marker !== undefined) where.$and = [{ host: { $gt: marker } }];
    if (nodeContains !== undefined && nodeContains !== '') where.node = { $like: `%${nodeContains.replace(/[\\%_]/g, (c) => `\\${c}`)}%` };
    const rows = await this.orm.em.fork().find(ComputeNode, where, { orderBy: { host: 'asc' }, limit: limit + 1 });
    const workload = await this.workloads(rows.map((r) => r.host));
    const page = new BudgetedPage<ServiceView>(undefined, limit);
    for (const r of rows) if (!page.add(this.view(r, workload.get(r.host) ?? 0))) break;
    const reply: ServicesReply = { services: page.items };
    const last = page.items[page.items.length - 1];
    if (last && rows.length > page.items.length) reply.next = last.host;
    return reply;
  }

  /**
   * Per host, its instances with a task under way (Nova's `current_workload`: the resource tracker
   * counts its instances whose task state is set): one grouped count for the page, not one per host.
   */
  private async workloads(hosts: string[]): Promise<Map<string, number>> {
    if (hosts.length === 0) return new Map();
    const knex = this.orm.em.getConnection().getKnex();
    const rows = (await knex('instances').select('host').count({ n: '*' })
      .whereIn('host', hosts).whereNull('deleted_at').whereNotNull('task_state').groupBy('host')) as { host: string; n: string | number }[];
    return new Map(rows.map((r) => [r.host, Number(r.n)]));
  }

  /** The host a service or hypervisor id names, if any (ids are hashes of host names: Nova's are database keys). */
  private async hostOfId(kind: 'service' | 'hypervisor', value: string): Promise<string | undefined> {
    const knex = this.orm.em.getConnection().getKnex();
    const rows = (await knex('compute_nodes').select('host')) as { host: string }[];
    const i = kind === 'service' ? 0 : 2;
    for (const { host } of rows) {
      let ids = this.ids.get(host);
      if (!ids) {
        ids = [hostUuid('service', host), String(hostInt('service', host)), hostUuid('hypervisor', host), String(hostInt('hypervisor', host))];
        this.ids.set(host, ids);
      }
      if (ids[i] === value || ids[i + 1] === value) return host;
    }
    return undefined;
  }

  /** Per zone (given by the scheduler's catalog; hosts in none are in `defaultZone`): host count and availability. */
  async zoneSummary(body: Record<string, unknown>): Promise<ZoneSummaryReply> {
    const o = fieldsOf(body, ['zones', 'defaultZone'], 'zone-summary');
    const defaultZone = str(o, 'defaultZone');
    if (!Array.isArray(o.zones)) throw new BadRequestError("'zones' must be a list");
    const zoneOf = new Map<string, string>();
    for (const z of o.zones) {
      const zo = fieldsOf(z, ['zone', 'hosts'], 'zone');
      const zone = str(zo, 'zone');
      if (!Array.isArray(zo.hosts)) throw new BadRequestError("'hosts' must be a list");
      for (const h of zo.hosts) if (typeof h === 'string') zoneOf.set(h, zone);
    }
    const knex = this.orm.em.getConnection().getKnex();
    const since = new Date(this.clock.now() - this.serviceDownTimeMs);
    const rows = (await knex('compute_nodes').select('host', knex.raw('(not disabled and not forced_down and last_seen_at >= ?) as available', [since]))) as { host: string; available: boolean }[];
    const byZone = new Map<string, { zone: string; hosts: number; available: boolean }>();
    for (const r of rows) {
      const zone = zoneOf.get(r.host) ?? defaultZone;
      const z = byZone.get(zone) ?? { zone, hosts: 0, available: false };
      z.hosts++;
      z.available ||= r.available;
      byZone.set(zone, z);
    }
    return { zones: [...byZone.values()].sort((a, b) => a.zone.localeCompare(b.zone)) };
  }

  async update(body: Record<string, unknown>): Promise<ServiceReply> {
    const o = fieldsOf(body, ['host', 'disabled', 'disabledReason', 'forcedDown'], 'service');
    const host = str(o, 'host');
    const disabled = optBool(o, 'disabled');
    const forcedDown = optBool(o, 'forcedDown');
    const reason = optStr(o, 'disabledReason', { min: 0, max: 255 });
    const changes: Partial<ComputeNodeRow> = { updatedAt: new Date(this.clock.now()) };
    if (disabled !== undefined) {
      changes.disabled = disabled;
      // Enabling clears the reason, as Nova does.
      changes.disabledReason = disabled ? reason ?? null : null;
    }
    if (forcedDown !== undefined) changes.forcedDown = forcedDown;
    const em = this.orm.em.fork();
    const n = await em.nativeUpdate(ComputeNode, { host }, changes);
    if (n === 0) throw new NotFoundError(`Compute host ${host} could not be found.`);
    const row = await em.findOneOrFail(ComputeNode, { host }, { disableIdentityMap: true });
    const service = this.view(row, (await this.workloads([host])).get(host) ?? 0);
    this.bridge.publish(this.subjects.event('service', host, 'update'), { service });
    return { service };
  }

  /**
   * Nova's service delete: refused while the host has instances; otherwise the scheduler forgets the
   * host (memory and ledger inventory) and the record goes. A host still running re-registers with
   * its next report, as a running nova-compute does.
   */
  async remove(body: Record<string, unknown>, key: string): Promise<{ host: string }> {
    const host = str(fieldsOf(body, ['host'], 'service-delete'), 'host');
    const em = this.orm.em.fork();
    const row = await em.findOne(ComputeNode, { host }, { disableIdentityMap: true });
    if (!row) throw new NotFoundError(`Compute host ${host} could not be found.`);
    const hosting = await em.count(Instance, { host, deletedAt: null });
    if (hosting > 0) throw new ConflictError('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
    // Scheduler first: once it answers no decision picks the host and its inventory is gone.
    await this.forgetHost(host, key);
    this.forgetReports(host);
    await em.nativeDelete(ComputeNode, { host });
    this.ids.delete(host);
    this.bridge.publish(this.subjects.event('service', host, 'delete'), { service: { host } });
    return { host };
  }

  private view(r: ComputeNodeRow, currentWorkload: number): ServiceView {
    return {
      ...nodeView(r, this.clock.now(), this.serviceDownTimeMs),
      disabledReason: r.disabledReason,
      forcedDown: r.forcedDown,
      availabilityZone: r.availabilityZone,
      hypervisorVersion: r.hypervisorVersion,
      cpuArch: r.cpuArch,
      createdAt: r.createdAt.toISOString(),
      diskAvailableLeast: r.diskAvailableLeast,
      uptime: r.uptime,
      hostIp: r.hostIp,
      currentWorkload,
    };
  }
}
