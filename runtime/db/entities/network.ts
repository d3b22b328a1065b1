import { EntitySchema } from '@mikro-orm/core';

/**
 * One Neutron resource (network, subnet, port, security group, rule, floating IP, router, a
 * project's quota overrides): its Neutron attributes as JSON, written only by the network role,
 * whose in-memory state is the owner (`actors/network/`); `version` only ever grows.
 */
export interface NetResourceRow {
  kind: string;
  id: string;
  projectId: string;
  attrs: Record<string, unknown>;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const NetResource = new EntitySchema<NetResourceRow>({
  name: 'NetResource',
  tableName: 'net_resources',
  properties: {
    kind: { type: 'string', length: 32 },
    id: { type: 'string', length: 64, primary: true },
    projectId: { type: 'string', length: 64 },
    attrs: { type: 'json' },
    version: { type: 'integer' },
    createdAt: { type: 'datetime' },
    updatedAt: { type: 'datetime' },
  },
});

/** An address handed out on a subnet: the unique key is what makes a double allocation impossible. */
export interface IpAllocationRow {
  subnetId: string;
  ipAddress: string;
  portId: string;
  networkId: string;
}

export const IpAllocation = new EntitySchema<IpAllocationRow>({
  name: 'IpAllocation',
  tableName: 'ip_allocations',
  properties: {
    subnetId: { type: 'uuid', primary: true },
    ipAddress: { type: 'string', length: 64, primary: true },
    portId: { type: 'string', length: 64 },
    networkId: { type: 'uuid' },
  },
});
