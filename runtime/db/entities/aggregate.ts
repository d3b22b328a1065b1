import { EntitySchema } from '@mikro-orm/core';

/**
 * Host aggregates (Nova's os-aggregates): named groups of hosts with metadata. An aggregate whose
 * metadata has `availability_zone` defines that zone; a host may be in many aggregates but in at
 * most one zone. Written by the scheduler role, which holds them in memory for its filters.
 */
export interface AggregateRow {
  id: number;
  uuid: string;
  name: string;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export const Aggregate = new EntitySchema<AggregateRow>({
  name: 'Aggregate',
  tableName: 'aggregates',
  uniques: [{ properties: ['name'] }, { properties: ['uuid'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    uuid: { type: 'uuid' },
    name: { type: 'string', length: 255 },
    metadata: { type: 'json' },
    createdAt: { type: 'datetime' },
    updatedAt: { type: 'datetime' },
  },
});

export interface AggregateHostRow {
  aggregateId: number;
  host: string;
}

export const AggregateHost = new EntitySchema<AggregateHostRow>({
  name: 'AggregateHost',
  tableName: 'aggregate_hosts',
  indexes: [{ properties: ['host'] }],
  properties: {
    aggregateId: { type: 'integer', primary: true },
    host: { type: 'string', length: 255, primary: true },
  },
});
