/**
 * Compute services for the REST API (`os-services`, `os-hypervisors`): the full compute-node
 * records, and the operator's switches on them (disable with a reason, enable, force down). A change
 * is written to the record the hosts' reports never overwrite, and announced as
 * `<root>.evt.service.<host>.update` for whoever keeps host state in memory.
 */
import { NotFoundError } from '../../protocols/errors.js';
import type { Subjects } from '../../protocols/subjects.js';
import { fieldsOf, optBool, optStr, str } from '../../protocols/validate.js';
import { ComputeNode, type ComputeNodeRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Clock } from '../../runtime/clock.js';
import type { Bridge } from '../../runtime/nats/bridge.js';

export interface ServiceView {
  host: string;
  node: string;
  /** Heard from within the service-down time, and not forced down. */
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  forcedDown: boolean;
  availabilityZone: string | null;
  hypervisorType: string;
  hypervisorVersion: number;
  cpuArch: string;
  vcpus: number;
  vcpusUsed: number;
  memoryMb: number;
  memoryMbUsed: number;
  localGb: number;
  localGbUsed: number;
  runningVms: number;
  lastSeenAt: string;
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
      host: r.host,
      node: r.node,
      state: this.clock.now() - r.lastSeenAt.getTime() <= this.serviceDownTimeMs && !r.forcedDown ? 'up' : 'down',
      status: r.disabled ? 'disabled' : 'enabled',
      disabledReason: r.disabledReason,
      forcedDown: r.forcedDown,
      availabilityZone: r.availabilityZone,
      hypervisorType: r.hypervisorType,
      hypervisorVersion: r.hypervisorVersion,
      cpuArch: r.cpuArch,
      vcpus: r.vcpus,
      vcpusUsed: r.vcpusUsed,
      memoryMb: r.memoryMb,
      memoryMbUsed: r.memoryMbUsed,
      localGb: r.localGb,
      localGbUsed: r.localGbUsed,
      runningVms: r.runningVms,
      lastSeenAt: r.lastSeenAt.toISOString(),
      createdAt: r.createdAt.toISOString(),
    };
  }
}
