import { EntitySchema } from '@mikro-orm/core';

/**
 * A compute service and its hypervisor node (Nova keeps `services` and `compute_nodes`; one node
 * per service here). Written by the conductor from the host's reports: hosts never touch the DB.
 */
export interface ComputeNodeRow {
  host: string;
  node: string;
  hypervisorType: string;
  hypervisorVersion: number;
  cpuArch: string;
  availabilityZone: string | null;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  vcpusUsed: number;
  memoryMbUsed: number;
  localGbUsed: number;
  runningVms: number;
  /** From the host's last report, when its driver can tell (Nova keeps uptime in `stats`). */
  diskAvailableLeast: number | null;
  uptime: string | null;
  hostIp: string | null;
  disabled: boolean;
  disabledReason: string | null;
  forcedDown: boolean;
  lastSeenAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export const ComputeNode = new EntitySchema<ComputeNodeRow>({
  name: 'ComputeNode',
  tableName: 'compute_nodes',
  properties: {
    host: { type: 'string', length: 255, primary: true },
    node: { type: 'string', length: 255 },
    hypervisorType: { type: 'string', length: 64 },
    hypervisorVersion: { type: 'integer' },
    cpuArch: { type: 'string', length: 32 },
    availabilityZone: { type: 'string', length: 255, nullable: true },
    vcpus: { type: 'integer' },
    memoryMb: { type: 'integer' },
    localGb: { type: 'integer' },
    vcpusUsed: { type: 'integer' },
    memoryMbUsed: { type: 'integer' },
    localGbUsed: { type: 'integer' },
    runningVms: { type: 'integer' },
    diskAvailableLeast: { type: 'integer', nullable: true },
    uptime: { type: 'string', length: 255, nullable: true },
    hostIp: { type: 'string', length: 45, nullable: true },
    disabled: { type: 'boolean' },
    disabledReason: { type: 'string', length: 255, nullable: true },
    forcedDown: { type: 'boolean' },
    lastSeenAt: { type: 'datetime' },
    createdAt: { type: 'datetime' },
    updatedAt: { type: 'datetime' },
  },
});
