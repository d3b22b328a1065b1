/**
 * Compute services for the REST API (`os-services`, `os-hypervisors`): the full compute-node
 * records, and the operator's switches on them (disable with a reason, enable, force down). A change
 * is written to the record the hosts' reports never overwrite, and announced as
 * `<root>.evt.service.<host>.update` for whoever keeps host state in memory.
 */
import { NotFoundError } from '../../protocols/errors.js';
import type { ComputeNodeView } from '../../protocols/messages.js';
import type { Subjects } from '../../protocols/subjects.js';
import { nodeView } from './compute-nodes.js';
import { fieldsOf, optBool, optStr, str } from '../../protocols/validate.js';
import { ComputeNode, type ComputeNodeRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Clock } from '../../runtime/clock.js';
import type { Bridge } from '../../runtime/nats/bridge.js';

/** A compute-node record with the operator's switches and the hypervisor's identity (os-services, os-hypervisors). */
export interface ServiceView extends ComputeNodeView {
  disabledReason: string | null;
  forcedDown: boolean;
  availabilityZone: string | null;
  hypervisorVersion: number;
  cpuArch: string;
  createdAt: string;
}

export interface ServicesReply { services: ServiceView[] }
export interface ServiceReply { service: ServiceView }

export class ServiceAdmin {
  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly bridge: Bridge,
    private readonly subjects: Subjects,
    private readonly serviceDownTimeMs: number,
  ) {}

  async list(): Promise<ServicesReply> {
    const rows = await this.orm.em.fork().find(ComputeNode, {}, { orderBy: { host: 'asc' } });
    return { services: rows.map((r) => this.view(r)) };
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
    const service = this.view(row);
    this.bridge.publish(this.subjects.event('service', host, 'update'), { service });
    return { service };
  }

  private view(r: ComputeNodeRow): ServiceView {
    return {
      ...nodeView(r, this.clock.now(), this.serviceDownTimeMs),
      disabledReason: r.disabledReason,
      forcedDown: r.forcedDown,
      availabilityZone: r.availabilityZone,
      hypervisorVersion: r.hypervisorVersion,
      cpuArch: r.cpuArch,
      createdAt: r.createdAt.toISOString(),
    };
  }
}
