/**
 * The image role's snapshot verbs (role level): `snapshot-create` makes the queued image a host will
 * fill, owned by the project, with Nova's snapshot properties and the host recorded; `backup-rotate`
 * deletes an instance's oldest backups of one type beyond `rotation`. Creates are idempotent on the
 * image id (the client's, else one derived from the idempotency key): a retry answers the image the
 * first attempt made.
 */
import { createHash } from 'node:crypto';
import type { BackupRotateRequest, SnapshotCreateRequest } from '../../protocols/catalog/image-snapshot.js';
import { ConflictError, NotFoundError, NovactError } from '../../protocols/errors.js';
import { snapshotProperties } from '../../protocols/snapshot-properties.js';
import type { Subjects } from '../../protocols/subjects.js';
import { isUuid } from '../../protocols/validate.js';
import { Image, type ImageRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import { insertImageRow, newImageRow } from './image-register.js';

/** A uuid (v4 layout) determined by the idempotency key: the same key, the same image. */
export function imageIdForKey(key: string): string {
  const h = createHash('sha256').update(`snapshot-create:${key}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function sameSnapshot(row: ImageRow, req: SnapshotCreateRequest): boolean {
  return row.status !== 'deleted' && row.owner === req.projectId && row.snapshotHost === req.host
    && row.properties.instance_uuid === (req.extraProperties?.instance_uuid ?? req.instanceUuid) && row.name === req.name;
}

export async function createSnapshotImage(orm: Orm, req: SnapshotCreateRequest, idempotencyKey: string, now: Date): Promise<ImageRow> {
  const id = (req.imageId ?? imageIdForKey(idempotencyKey)).toLowerCase();
  const existing = async () => {
    const row = await orm.em.fork().findOne(Image, { id }, { disableIdentityMap: true });
    if (row && sameSnapshot(row, req)) return row;
    if (row) throw new ConflictError(`Image with identifier ${id} already exists!`);
    return undefined;
  };
  const before = await existing();
  if (before) return before;
  const properties = snapshotProperties(req.properties ?? {}, {
    instanceUuid: req.instanceUuid, baseImageRef: req.baseImageRef, imageType: req.imageType,
    userId: req.userId ?? undefined, backupType: req.backupType ?? undefined,
  }, req.extraProperties ?? {});
  // Glance's rules for a new image (formats, property names and sizes) apply to snapshots too.
  const row = newImageRow({
    id, name: req.name, visibility: 'private', owner: req.projectId, properties,
    diskFormat: req.diskFormat ?? 'qcow2', containerFormat: req.containerFormat ?? 'bare',
    minDisk: req.minDisk ?? 0, minRam: req.minRam ?? 0,
  }, now);
  row.snapshotHost = req.host;
  row.snapshotQuotaBytes = req.quotaBytes === undefined || req.quotaBytes === null || req.quotaBytes < 0 ? null : String(req.quotaBytes);
  try {
    return await insertImageRow(orm, row, req.maxImages ?? -1);
  } catch (err) {
    // Two attempts raced: the loser answers the winner's image.
    if (err instanceof ConflictError) {
      const won = await existing();
      if (won) return won;
    }
    throw err;
  }
}

/** The instance's backups of `backupType` beyond the newest `rotation` (by created_at, then id). */
export async function backupsBeyond(orm: Orm, req: BackupRotateRequest): Promise<string[]> {
  const { rows } = await orm.em.getConnection().getKnex().raw(
    `select id from images
      where owner = ? and status <> 'deleted' and properties->>'image_type' = 'backup'
        and properties->>'backup_type' = ? and properties->>'instance_uuid' = ?
      order by created_at desc, id desc offset ?`,
    [req.projectId, req.backupType, req.instanceUuid.toLowerCase(), req.rotation],
  );
  return (rows as { id: string }[]).map((r) => r.id);
}

/** Deletes each through its image actor (the only writer); an image already gone, or protected, is skipped. */
export async function rotateBackups(orm: Orm, req: BackupRotateRequest, del: (id: string) => Promise<unknown>, onSkip: (id: string, err: NovactError) => void): Promise<string[]> {
  const deleted: string[] = [];
  for (const id of await backupsBeyond(orm, req)) {
    try {
      await del(id);
      deleted.push(id);
    } catch (err) {
      if (!(err instanceof NovactError)) throw err;
      if (!(err instanceof NotFoundError)) onSkip(id, err);
    }
  }
  return deleted;
}

/** `<root>.image.<uuid>.<verb>.<host>` → id and host (lower-case id); undefined if it is not that form. */
export function parseHostForm(subjects: Subjects, subject: string, verb: string): { id: string; host: string } | undefined {
  const prefix = `${subjects.root}.image.`;
  if (!subject.startsWith(prefix)) return undefined;
  const parts = subject.slice(prefix.length).split('.');
  if (parts.length !== 3 || parts[1] !== verb || !isUuid(parts[0]!)) return undefined;
  return { id: parts[0]!.toLowerCase(), host: parts[2]! };
}
