/**
 * Applies the lifecycle's migration-record changes (`MigrationWrite`) through the store. Both
 * operations are idempotent (create on the uuid, a repeated status step is a no-op), so a resumed
 * step may write its record again.
 */
import type { MigrationWrite } from '../../protocols/lifecycle.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';
import type { MigrationStore } from './migration-store.js';

export function migrationWriter(store: MigrationStore) {
  return async (row: InstanceRow, w: MigrationWrite, at: Date): Promise<void> => {
    if (w.op === 'create') {
      await store.create({
        uuid: w.uuid, instanceUuid: row.uuid, migrationType: w.type, sourceCompute: w.source, sourceNode: w.source,
        destCompute: w.dest, destNode: w.dest, oldInstanceTypeId: w.oldFlavorId, newInstanceTypeId: w.newFlavorId,
        projectId: row.projectId, userId: row.userId, ...(w.status ? { status: w.status } : {}),
      }, at);
      return;
    }
    await store.setStatus(w.uuid, w.from, w.to, at, w.dest ? { destCompute: w.dest, destNode: w.dest } : {});
  };
}
