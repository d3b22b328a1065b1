import { EntitySchema } from '@mikro-orm/core';

/**
 * The placement ledger: providers (one per host), their inventories per resource class, and
 * allocations per consumer (instance). `used` on an inventory is the sum of its allocations, kept in
 * the same transaction as every claim so a claim is one conditional UPDATE that cannot overcommit.
 */
export interface ResourceProviderRow {
  name: string;
  generation: number;
  createdAt: Date;
}

export const ResourceProvider = new EntitySchema<ResourceProviderRow>({
  name: 'ResourceProvider',
  tableName: 'resource_providers',
  properties: {
    name: { type: 'string', length: 255, primary: true },
    generation: { type: 'integer' },
    createdAt: { type: 'datetime' },
  },
});

export interface InventoryRow {
  provider: string;
  resourceClass: string;
  total: number;
  reserved: number;
  minUnit: number;
  maxUnit: number;
  stepSize: number;
  allocationRatio: number;
  used: number;
}

export const InventoryEntity = new EntitySchema<InventoryRow>({
  name: 'Inventory',
  tableName: 'inventories',
  properties: {
    provider: { type: 'string', length: 255, primary: true },
    resourceClass: { type: 'string', length: 64, primary: true },
    total: { type: 'integer' },
    reserved: { type: 'integer' },
    minUnit: { type: 'integer' },
    maxUnit: { type: 'integer' },
    stepSize: { type: 'integer' },
    allocationRatio: { type: 'double' },
    used: { type: 'integer' },
  },
});

export interface AllocationRow {
  consumer: string;
  provider: string;
  resourceClass: string;
  used: number;
  projectId: string;
  createdAt: Date;
}

export const Allocation = new EntitySchema<AllocationRow>({
  name: 'Allocation',
  tableName: 'allocations',
  indexes: [{ properties: ['provider'] }],
  properties: {
    consumer: { type: 'uuid', primary: true },
    resourceClass: { type: 'string', length: 64, primary: true },
    provider: { type: 'string', length: 255 },
    used: { type: 'integer' },
    projectId: { type: 'string', length: 64 },
    createdAt: { type: 'datetime' },
  },
});
