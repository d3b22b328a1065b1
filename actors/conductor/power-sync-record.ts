/**
 * What the instance actor needs for an observation of its guest (power sync): whether it is too
 * old to act on, and the instance action a stop begun by the sync records.
 */
import { randomUUID } from 'node:crypto';
import type { ObservedEvent } from '../../protocols/lifecycle.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';
import type { ActionRecord } from './instance-store.js';

/**
 * Nova records the sync's stop under its admin context, which has no user; the column is not
 * nullable, so the system is named instead.
 */
export const POWER_SYNC_USER = 'system';

/**
 * An observation taken before the row's last write may predate what that write did (a listing
 * taken while a start was finishing would stop the server again). Nova holds a lock around the
 * query and the sync; here the host's time of observation is compared with the last write (clocks
 * are assumed synchronised, as Nova assumes for service liveness).
 */
export const isStale = (row: Pick<InstanceRow, 'updatedAt'>, e: ObservedEvent): boolean => e.at < new Date(row.updatedAt).getTime();

export function powerSyncStopRecord(row: InstanceRow, at: number): ActionRecord {
  return { instanceUuid: row.uuid, action: 'stop', requestId: `req-${randomUUID()}`, projectId: row.projectId, userId: POWER_SYNC_USER, at: new Date(at) };
}
