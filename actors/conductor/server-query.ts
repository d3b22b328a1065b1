/**
 * `conductor.query`: the server listing behind the REST API's `GET /servers[/detail]`, with Nova's
 * filters: `name` is a regular expression (PostgreSQL's `~`, as Nova matches with the database's
 * REGEXP), `status` is an API status, `changesSince` also returns deleted servers, and paging is by
 * `marker` in the order newest first. Tag filters are array operators on the GIN-indexed `tags`
 * column (`@>` for all of, `&&` for any of; the `not-` forms negate them). A reply stops at its byte budget with `more` (server-page.ts).
 */
import { BadRequestError } from '../../protocols/errors.js';
import type { ListReply } from '../../protocols/messages.js';
import { fieldsOf, isUuid, optInt, optStr } from '../../protocols/validate.js';
import { Instance } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import { olderThan, serverPage } from './server-page.js';

/** API status → the vm_state and task_state conditions that produce it (Nova's `_STATE_MAP` inverted). */
const REBOOT_TASKS = ['rebooting', 'reboot_pending', 'reboot_started'];
const HARD_REBOOT_TASKS = ['rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard'];
const BY_STATUS: Record<string, Record<string, unknown>> = {
  ACTIVE: { vmState: 'active', $or: [{ taskState: null }, { taskState: { $nin: [...REBOOT_TASKS, ...HARD_REBOOT_TASKS] } }] },
  REBOOT: { vmState: 'active', taskState: { $in: REBOOT_TASKS } },
  HARD_REBOOT: { vmState: 'active', taskState: { $in: HARD_REBOOT_TASKS } },
  BUILD: { vmState: 'building' },
  SHUTOFF: { vmState: 'stopped' },
  PAUSED: { vmState: 'paused' },
  SUSPENDED: { vmState: 'suspended' },
  RESCUE: { vmState: 'rescued' },
  VERIFY_RESIZE: { vmState: 'resized' },
  ERROR: { vmState: 'error' },
  DELETED: { vmState: 'deleted' },
  SOFT_DELETED: { vmState: 'soft-delete' },
  SHELVED: { vmState: 'shelved' },
  SHELVED_OFFLOADED: { vmState: 'shelved_offloaded' },
};

/** PostgreSQL's `invalid_regular_expression`. */
const INVALID_REGEX = '2201B';

/** Query field → the condition on `tags` it becomes. */
const TAG_FILTERS: Record<'tags' | 'tagsAny' | 'notTags' | 'notTagsAny', (tags: string[]) => Record<string, unknown>> = {
  tags: (t) => ({ tags: { $contains: t } }),
  tagsAny: (t) => ({ tags: { $overlap: t } }),
  notTags: (t) => ({ $not: { tags: { $contains: t } } }),
  notTagsAny: (t) => ({ $not: { tags: { $overlap: t } } }),
};

function tagList(o: Record<string, unknown>, key: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > 50 || !v.every((t) => typeof t === 'string' && t.length <= 60)) {
    throw new BadRequestError(`Invalid filter field: ${key}.`);
  }
  return v as string[];
}

function instant(key: string, v: string): Date {
  const t = new Date(v);
  if (Number.isNaN(t.getTime())) throw new BadRequestError(`Invalid filter field: ${key} (${v}).`);
  return t;
}

export async function queryServers(orm: Orm, body: Record<string, unknown>): Promise<ListReply> {
  const o = fieldsOf(body, ['projectId', 'name', 'status', 'host', 'changesSince', 'image', 'flavor', 'availabilityZone', 'keyName', 'tags', 'tagsAny', 'notTags', 'notTagsAny', 'changesBefore', 'uuids', 'limit', 'marker'], 'query');
  const and: Record<string, unknown>[] = [];
  const projectId = optStr(o, 'projectId', { max: 64 });
  if (projectId !== undefined) and.push({ projectId });
  const name = optStr(o, 'name', { min: 0, max: 255 });
  if (name !== undefined) and.push({ name: { $re: name } });
  for (const [key, column] of [['host', 'host'], ['image', 'imageRef'], ['flavor', 'flavorId'], ['availabilityZone', 'availabilityZone'], ['keyName', 'keyName']] as const) {
    const v = optStr(o, key);
    if (v !== undefined) and.push({ [column]: v });
  }
  // Shape checked by the catalog schema (uuids only).
  if (Array.isArray(o.uuids)) {
    if (o.uuids.length === 0) return { servers: [] };
    and.push({ uuid: { $in: (o.uuids as string[]).map((u) => u.toLowerCase()) } });
  }
  const status = optStr(o, 'status', { max: 32 });
  for (const key of ['tags', 'tagsAny', 'notTags', 'notTagsAny'] as const) {
    const tags = tagList(o, key);
    if (tags !== undefined && tags.length > 0) and.push(TAG_FILTERS[key](tags));
  }
  const since = optStr(o, 'changesSince', { max: 64 });
  const before = optStr(o, 'changesBefore', { max: 64 });
  if (since !== undefined) and.push({ updatedAt: { $gte: instant('changes-since', since) } });
  if (before !== undefined) and.push({ updatedAt: { $lte: instant('changes-before', before) } });
  if (since === undefined && before === undefined && status?.toUpperCase() !== 'DELETED') {
    and.push({ deletedAt: null });
  }
  if (status !== undefined) {
    const cond = BY_STATUS[status.toUpperCase()];
    // Nova answers an unknown status with an empty list, not an error.
    if (!cond) return { servers: [] };
    and.push(cond);
  }
  const limit = optInt(o, 'limit', { min: 0, max: 1000 }) ?? 1000;
  const marker = optStr(o, 'marker', { max: 36 });
  const em = orm.em.fork();
  if (marker !== undefined) {
    const m = isUuid(marker) ? await em.findOne(Instance, { uuid: marker.toLowerCase(), ...(projectId !== undefined ? { projectId } : {}) }) : null;
    if (!m) throw new BadRequestError(`marker [${marker}] not found`);
    and.push(olderThan(m));
  }
  if (limit === 0) return { servers: [] };
  try {
    return await serverPage(em, and, limit);
  } catch (err) {
    if ((err as { code?: string }).code === INVALID_REGEX) throw new BadRequestError(`Invalid regular expression in the name filter: ${name}`);
    throw err;
  }
}
