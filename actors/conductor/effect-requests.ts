/** The pure parts of the effect runner: request bodies built from an instance row, and retry timing. */
import { createHash } from 'node:crypto';
import type { Effect, ImageOwner } from '../../protocols/lifecycle.js';
import type { SelectRequest } from '../../protocols/messages.js';
import type { MoveSpec } from '../../protocols/catalog/scheduler.js';
import { flavorResources, type ImageMeta } from '../../protocols/resources.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';

/** What the scheduler needs to place an instance. */
export function selectRequestFor(row: InstanceRow, image: ImageMeta, extraSpecs: Record<string, string>): SelectRequest {
  return {
    instanceUuid: row.uuid,
    projectId: row.projectId,
    resources: resourcesOf(row),
    flavor: { id: row.flavorId, name: row.flavorName, extraSpecs },
    image: { id: image.id, properties: image.properties },
    availabilityZone: row.availabilityZone,
    ignoreHosts: [],
    schedulerHints: row.schedulerHints,
  };
}

/** The move a `selectMigration` asks for: the task's migration, from where the instance is now. */
export function moveOf(row: InstanceRow, e: Extract<Effect, { kind: 'selectMigration' }>): MoveSpec {
  const m = row.taskContext?.migration;
  if (!m) throw new Error(`selectMigration without a migration in the task context of ${row.uuid}`);
  return { migrationUuid: m.uuid, sourceHost: m.source, allowSameHost: e.allowSameHost ?? false, ...(e.targetHost ? { targetHost: e.targetHost } : {}) };
}

export const resourcesOf = (r: InstanceRow) => flavorResources({ vcpus: r.vcpus, memoryMb: r.memoryMb, diskGb: r.rootGb, ephemeralGb: r.ephemeralGb, swapMb: r.swapMb ?? 0 });

/** What an image the instance makes says about its owner (see `ImageOwner`). */
export function imageOwnerFields(row: InstanceRow, o: ImageOwner): Record<string, unknown> {
  return { instanceUuid: row.uuid, projectId: row.projectId, userId: row.userId, name: `${row.name}${o.nameSuffix}`.slice(0, 255), imageId: nameUuid(`${row.uuid}:${o.idSeed}`) };
}

/** A name-based UUID (RFC 4122 version 5 layout over SHA-1). */
function nameUuid(name: string): string {
  const h = createHash('sha1').update(`novact-image:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function backoff(attempt: number): number {
  return Math.min(2_000, 50 * 2 ** attempt);
}

/** Retries of a select that timed out (one covers a lost reply). */
export const SELECT_TIMEOUT_RETRIES = 1;

/** Exponential backoff with full jitter, so instances that failed together do not retry together. */
export function jitteredBackoff(attempt: number): number {
  const cap = Math.min(5_000, 200 * 2 ** attempt);
  return cap / 2 + Math.random() * (cap / 2);
}
