import { BigIntType, EntitySchema } from '@mikro-orm/core';

import { MIGRATION_STATUSES, MIGRATION_TYPES, type MigrationStatus, type MigrationType } from '../../../protocols/migrations.js';

export { MIGRATION_STATUSES, MIGRATION_TYPES, type MigrationStatus, type MigrationType };

/**
 * A move of an instance (resize, cold or live migration, evacuation), as Nova records it. Owned by
 * the conductor (actors/conductor/migration-store.ts); its `uuid` is also the placement consumer that
 * holds the source allocation while the move is open.
 */
export interface MigrationRow {
  /** Nova shows an integer id (a serial). */
  id: number;
  uuid: string;
  instanceUuid: string;
  sourceCompute: string | null;
  destCompute: string | null;
  sourceNode: string | null;
  destNode: string | null;
  /** Flavor ids before and after (equal unless a resize). */
  oldInstanceTypeId: string | null;
  newInstanceTypeId: string | null;
  migrationType: MigrationType;
  status: MigrationStatus;
  projectId: string;
  userId: string;
  /** Live-migration progress (bytes), null for other kinds. */
  memoryTotal: number | null;
  memoryProcessed: number | null;
  memoryRemaining: number | null;
  diskTotal: number | null;
  diskProcessed: number | null;
  diskRemaining: number | null;
  createdAt: Date;
  updatedAt: Date;
}

const bytes = { type: new BigIntType('number'), nullable: true } as const;

export const Migration = new EntitySchema<MigrationRow>({
  name: 'Migration',
  tableName: 'migrations',
  uniques: [{ properties: ['uuid'] }],
  indexes: [{ properties: ['instanceUuid'] }, { properties: ['updatedAt'] }, { properties: ['status'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    uuid: { type: 'uuid' },
    instanceUuid: { type: 'uuid' },
    sourceCompute: { type: 'string', length: 255, nullable: true },
    destCompute: { type: 'string', length: 255, nullable: true },
    sourceNode: { type: 'string', length: 255, nullable: true },
    destNode: { type: 'string', length: 255, nullable: true },
    oldInstanceTypeId: { type: 'string', length: 255, nullable: true },
    newInstanceTypeId: { type: 'string', length: 255, nullable: true },
    migrationType: { type: 'string', length: 32 },
    status: { type: 'string', length: 32 },
    projectId: { type: 'string', length: 64 },
    userId: { type: 'string', length: 64 },
    memoryTotal: bytes,
    memoryProcessed: bytes,
    memoryRemaining: bytes,
    diskTotal: bytes,
    diskProcessed: bytes,
    diskRemaining: bytes,
    createdAt: { type: 'datetime' },
    updatedAt: { type: 'datetime' },
  },
});
