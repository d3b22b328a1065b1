/**
 * `image.register`: Glance's image create (`POST /v2/images`). The image starts `queued`, owned by the
 * caller's project, with Glance's optional attributes (tags, protection, hiding, free-form
 * properties); formats may be left unset until data is uploaded.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, ForbiddenError, OverLimitError } from '../../protocols/errors.js';
import { fieldsOf, isUuid, oneOf, optBool, optInt, optStr } from '../../protocols/validate.js';
import { Image, type ImageRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import { lockOwner } from './image-quota.js';
import { CONTAINER_FORMATS, DISK_FORMATS, checkFormats } from '../../protocols/image-formats.js';
import { MAX_PROPERTIES, VISIBILITIES, checkPropertyValue, checkPropertyVolume, forbiddenAttribute, validTags } from '../../protocols/image-patch.js';

const FIELDS = ['id', 'name', 'visibility', 'diskFormat', 'containerFormat', 'minDisk', 'minRam', 'protected', 'osHidden', 'tags', 'owner', 'properties', 'maxImages'];

function format(o: Record<string, unknown>, key: string, allowed: readonly string[]): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string' || !allowed.includes(v)) throw new BadRequestError(`Invalid value for '${key === 'diskFormat' ? 'disk_format' : 'container_format'}': must be one of ${allowed.join(', ')}.`);
  return v;
}

function properties(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadRequestError('image properties must be an object of strings');
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_PROPERTIES) throw new OverLimitError(`Maximum number of image properties exceeded: ${entries.length} of ${MAX_PROPERTIES}.`);
  for (const [k, val] of entries) {
    const why = forbiddenAttribute(k);
    if (why) throw new ForbiddenError(why);
    if (k.length < 1 || k.length > 255) throw new BadRequestError(`Invalid property name '${k}'.`);
    checkPropertyValue(k, val);
  }
  checkPropertyVolume(v as Record<string, string>);
  return v as Record<string, string>;
}

export function newImageRow(body: Record<string, unknown>, now: Date): ImageRow {
  const o = fieldsOf(body, FIELDS, 'image');
  const id = optStr(o, 'id', { max: 36 });
  if (id !== undefined && !isUuid(id)) throw new BadRequestError(`Invalid value for 'id': must be a UUID.`);
  const name = o.name === null ? '' : optStr(o, 'name', { min: 0, max: 255 }) ?? '';
  const owner = o.owner === null ? null : optStr(o, 'owner', { max: 64 }) ?? null;
  const diskFormat = format(o, 'diskFormat', DISK_FORMATS);
  const containerFormat = format(o, 'containerFormat', CONTAINER_FORMATS);
  if (diskFormat !== '' && containerFormat !== '') checkFormats(diskFormat, containerFormat);
  return {
    id: (id ?? randomUUID()).toLowerCase(),
    name,
    status: 'queued',
    diskFormat,
    containerFormat,
    size: '0',
    minDisk: optInt(o, 'minDisk') ?? 0,
    minRam: optInt(o, 'minRam') ?? 0,
    visibility: oneOf(o, 'visibility', VISIBILITIES, 'shared'),
    owner,
    properties: properties(o.properties),
    checksum: null,
    tags: o.tags === undefined || o.tags === null ? [] : validTags(o.tags),
    protected: optBool(o, 'protected') ?? false,
    osHidden: optBool(o, 'osHidden') ?? false,
    osHashAlgo: null,
    osHashValue: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

export async function registerImage(orm: Orm, body: Record<string, unknown>, now: Date): Promise<ImageRow> {
  const row = newImageRow(body, now);
  const maxImages = optInt(fieldsOf(body, FIELDS, 'image'), 'maxImages', { min: -1 }) ?? -1;
  return insertImageRow(orm, row, maxImages);
}

/** Inserts `row` (409 if its id exists), counted against the owner's `maxImages` (-1: unlimited) under the owner's lock. */
export async function insertImageRow(orm: Orm, row: ImageRow, maxImages: number): Promise<ImageRow> {
  const now = row.createdAt;
  const knex = orm.em.getConnection().getKnex();
  const inserted = await knex.transaction(async (trx) => {
    if (maxImages >= 0 && row.owner !== null) {
      // Count and insert under the owner's advisory lock: concurrent creates cannot pass the quota together.
      await lockOwner(trx, row.owner);
      const { rows } = await trx.raw(`select count(*)::int as n from images where owner = ? and status <> 'deleted'`, [row.owner]);
      const used = (rows as { n: number }[])[0]!.n;
      if (used >= maxImages) {
        throw new OverLimitError(`Project ${row.owner} is over a limit for [Resource image_count_total is over limit of ${maxImages} due to current usage ${used} and delta 1]`);
      }
    }
    // One statement, so two creates with the same id cannot both succeed.
    const res = await trx.raw(
      `insert into images (id, name, status, disk_format, container_format, size, min_disk, min_ram, visibility, owner, properties,
         checksum, tags, protected, os_hidden, os_hash_algo, os_hash_value, snapshot_host, snapshot_quota_bytes, created_at, updated_at, version)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, null, ?::jsonb, ?, ?, null, null, ?, ?, ?, ?, 1)
       on conflict (id) do nothing returning id`,
      [row.id, row.name, row.status, row.diskFormat, row.containerFormat, row.size, row.minDisk, row.minRam, row.visibility, row.owner,
        JSON.stringify(row.properties), JSON.stringify(row.tags ?? []), row.protected ?? false, row.osHidden ?? false,
        row.snapshotHost ?? null, row.snapshotQuotaBytes ?? null, now.toISOString(), now.toISOString()],
    );
    return (res.rows as unknown[]).length > 0;
  });
  if (!inserted) throw new ConflictError(`Image with identifier ${row.id} already exists!`);
  return (await orm.em.fork().findOneOrFail(Image, { id: row.id }, { disableIdentityMap: true }));
}
