/**
 * `image.query`: Glance's image listing. Visibility is decided here, with the rows: an admin sees
 * every image; anyone else sees public images, their own project's images, and community images
 * only when asking for `visibility=community`. Filters, several sort keys, and keyset paging by
 * `marker` (the last image of the previous page). A reply stops at its byte budget with `more`.
 */
import { BadRequestError } from '../../protocols/errors.js';
import type { ImageListReply } from '../../protocols/messages.js';
import { BudgetedPage } from '../../protocols/paging.js';
import type { ImageMeta } from '../../protocols/resources.js';
import { DEFAULT_IMAGE_LIMIT, IMAGE_SORT_KEYS, MAX_IMAGE_LIMIT, type ImageQuery, type ImageSortKey } from '../../protocols/image-query.js';
import { fieldsOf, isUuid, oneOf, optBool, optInt, optStr, stringMap } from '../../protocols/validate.js';
import { Image, type ImageRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import { imageView } from './image-view.js';

const COLUMN: Record<ImageSortKey, string> = {
  id: 'id', name: 'name', status: 'status', disk_format: 'disk_format', container_format: 'container_format', size: 'size',
  created_at: 'created_at', updated_at: 'updated_at', visibility: 'visibility', min_disk: 'min_disk', min_ram: 'min_ram',
};

function parseQuery(body: Record<string, unknown>): Required<Pick<ImageQuery, 'viewer' | 'sort' | 'limit'>> & ImageQuery {
  const o = fieldsOf(body, ['viewer', 'name', 'status', 'visibility', 'owner', 'diskFormat', 'containerFormat', 'sizeMin', 'sizeMax', 'tags', 'properties', 'protected', 'osHidden', 'memberStatus', 'sort', 'limit', 'marker'], 'image query');
  const v = fieldsOf(o.viewer, ['projectId', 'isAdmin'], 'viewer');
  const viewer = { projectId: optStr(v, 'projectId', { max: 64 }) ?? '', isAdmin: optBool(v, 'isAdmin') ?? false };
  const sortRaw = o.sort ?? [{ key: 'created_at', dir: 'desc' }];
  if (!Array.isArray(sortRaw) || sortRaw.length === 0 || sortRaw.length > IMAGE_SORT_KEYS.length) throw new BadRequestError('sort must list 1-11 keys');
  const sort = sortRaw.map((s) => {
    const so = fieldsOf(s, ['key', 'dir'], 'sort');
    return { key: oneOf(so, 'key', IMAGE_SORT_KEYS), dir: oneOf(so, 'dir', ['asc', 'desc'] as const) };
  });
  const tags = o.tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw new BadRequestError('tags must be a list of strings');
  const q: ReturnType<typeof parseQuery> = {
    viewer, sort, limit: optInt(o, 'limit', { min: 0, max: MAX_IMAGE_LIMIT }) ?? DEFAULT_IMAGE_LIMIT, tags: tags as string[], properties: stringMap(o, 'properties'),
  };
  for (const k of ['name', 'status', 'owner', 'diskFormat', 'containerFormat', 'marker'] as const) {
    const s = optStr(o, k, { min: 0, max: 255 });
    if (s !== undefined) q[k] = s;
  }
  q.memberStatus = o.memberStatus === undefined || o.memberStatus === null ? 'accepted' : oneOf(o, 'memberStatus', ['pending', 'accepted', 'rejected', 'all'] as const);
  if (o.visibility !== undefined) q.visibility = oneOf(o, 'visibility', ['public', 'private', 'shared', 'community', 'all'] as const);
  for (const k of ['sizeMin', 'sizeMax'] as const) {
    const n = optInt(o, k, { max: Number.MAX_SAFE_INTEGER });
    if (n !== undefined) q[k] = n;
  }
  for (const k of ['protected', 'osHidden'] as const) {
    const b = optBool(o, k);
    if (b !== undefined) q[k] = b;
  }
  return q;
}

/** Rows read per chunk: images with large properties stay a few MB in memory. */
const CHUNK = 100;

/** The viewer's membership of the outer query's image, with a matching status unless `all`. */
function memberOf(knex: ReturnType<ReturnType<Orm['em']['fork']>['getKnex']>, projectId: string, status: string | undefined) {
  const sub = knex('image_members').select(knex.raw('1')).whereRaw('image_members.image_id = images.id').where('image_members.member', projectId);
  if (status !== undefined && status !== 'all') sub.where('image_members.status', status);
  return sub;
}

export async function queryImages(orm: Orm, body: Record<string, unknown>): Promise<ImageListReply> {
  const q = parseQuery(body);
  const em = orm.em.fork();
  const knex = em.getKnex();
  const { projectId, isAdmin } = q.viewer;
  const base = () => {
    const sql = knex('images').select('*').whereNot('status', 'deleted');
    const vis = q.visibility;
    if (vis !== undefined && vis !== 'all') sql.where('visibility', vis);
    if (!isAdmin) {
      // Community images appear only to those who ask for them (or for `all`); shared ones to their
      // members whose answer matches `member_status` (Glance's default: accepted).
      sql.where((w) => {
        if (vis === 'community' || vis === 'all') w.whereIn('visibility', ['public', 'community']).orWhere('owner', projectId);
        else w.where('visibility', 'public').orWhere('owner', projectId);
        w.orWhere((x) => x.where('visibility', 'shared').whereExists(memberOf(knex, projectId, q.memberStatus)));
      });
    }
    if (q.name !== undefined) sql.where('name', q.name);
    if (q.status !== undefined) sql.where('status', q.status);
    if (q.owner !== undefined) sql.where('owner', q.owner);
    if (q.diskFormat !== undefined) sql.where('disk_format', q.diskFormat);
    if (q.containerFormat !== undefined) sql.where('container_format', q.containerFormat);
    if (q.sizeMin !== undefined) sql.where('size', '>=', q.sizeMin);
    if (q.sizeMax !== undefined) sql.where('size', '<=', q.sizeMax);
    if (q.tags && q.tags.length > 0) sql.whereRaw('tags @> ?::jsonb', [JSON.stringify(q.tags)]);
    if (q.properties && Object.keys(q.properties).length > 0) sql.whereRaw('properties @> ?::jsonb', [JSON.stringify(q.properties)]);
    if (q.protected !== undefined) sql.where('protected', q.protected);
    sql.where('os_hidden', q.osHidden ?? false);
    return sql;
  };

  const keys = [...q.sort];
  if (!keys.some((k) => k.key === 'id')) keys.push({ key: 'id', dir: keys[keys.length - 1]!.dir });
  /** Rows strictly after `m` in the sort order: (k1 > m1) or (k1 = m1 and k2 > m2) or … */
  const after = (sql: ReturnType<typeof base>, m: ImageRow) => {
    const raw = m as unknown as Record<string, unknown>;
    const value = (k: ImageSortKey) => raw[k.replace(/_([a-z])/g, (_s, c: string) => c.toUpperCase())] as string | number | Date;
    sql.where((w) => {
      keys.forEach((k, i) => {
        w.orWhere((x) => {
          for (const prev of keys.slice(0, i)) x.where(COLUMN[prev.key], value(prev.key));
          x.where(COLUMN[k.key], k.dir === 'asc' ? '>' : '<', value(k.key));
        });
      });
    });
  };
  let from: ImageRow | undefined;
  if (q.marker !== undefined) {
    const m = isUuid(q.marker) ? await em.findOne(Image, { id: q.marker.toLowerCase() }, { disableIdentityMap: true }) : null;
    const visible = m && m.status !== 'deleted' && (isAdmin || m.visibility === 'public' || m.visibility === 'community' || m.owner === projectId
      || (m.visibility === 'shared' && (await knex('image_members').where({ image_id: m.id, member: projectId }).first()) !== undefined));
    if (!m || !visible) throw new BadRequestError(`marker ${q.marker} could not be found.`);
    from = m;
  }
  // Chunk by chunk until the limit or the reply's byte budget (`more`: the caller continues from the last).
  const page = new BudgetedPage<ImageMeta>(undefined, Math.max(1, q.limit));
  while (page.items.length < q.limit && !page.full) {
    const n = Math.min(CHUNK, q.limit - page.items.length);
    const sql = base();
    if (from) after(sql, from);
    for (const k of keys) sql.orderBy(COLUMN[k.key], k.dir);
    sql.limit(n);
    const rows = ((await sql) as Record<string, unknown>[]).map((r) => em.map(Image, r) as ImageRow);
    for (const r of rows) if (!page.add(imageView(r))) break;
    if (rows.length < n) break;
    from = rows[rows.length - 1];
  }
  return page.full ? { images: page.items, more: true } : { images: page.items };
}
