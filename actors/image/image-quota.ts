/**
 * Glance's per-project storage quota (`user_storage_quota`): the bytes of all of an owner's images
 * that are not deleted. An upload may start only with room left, its session is capped at that
 * room, and it becomes active only if, counted again under the owner's advisory lock at the moment
 * it completes, the owner's images still fit: concurrent uploads cannot overshoot together.
 */
import type { Knex } from '@mikro-orm/postgresql';
import { OverLimitError } from '../../protocols/errors.js';

/** Glance's refusal (413) of data that would exceed the owner's quota. */
export function storageFull(size: number | undefined, remaining: number): OverLimitError {
  const what = size === undefined ? 'The image data' : `The size of the data ${size}`;
  return new OverLimitError(`Denying attempt to upload image because it exceeds the quota: ${what} will exceed the limit. ${Math.max(0, remaining)} bytes remaining.`);
}

/** Bytes held by `owner`'s images other than `exceptId` (deleted ones hold none). */
export async function ownerBytes(db: Knex, owner: string, exceptId: string): Promise<number> {
  const { rows } = await db.raw(`select coalesce(sum(size), 0)::text as used from images where owner = ? and id <> ? and status <> 'deleted'`, [owner, exceptId]);
  return Number((rows as { used: string }[])[0]!.used);
}

/** Takes the owner's quota lock for the rest of `trx`. */
export async function lockOwner(trx: Knex.Transaction, owner: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`images:${owner}`]);
}
