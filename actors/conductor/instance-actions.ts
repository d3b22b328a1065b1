/**
 * An instance's action records (`os-instance-actions`), newest first as Nova lists them, and
 * bounded: at most `limit` (1000) per reply and cut at the reply's byte budget (`more`), after a
 * `marker` (a request id) from 2.58. Every action is one record with one event, so events per
 * action are bounded too. A reboot loop of thousands no longer makes one unbounded reply.
 */
import { BadRequestError } from '../../protocols/errors.js';
import type { ActionsReply, InstanceActionView } from '../../protocols/messages.js';
import { BudgetedPage, MAX_PAGE_ITEMS } from '../../protocols/paging.js';
import { fieldsOf, optInt, optStr } from '../../protocols/validate.js';
import { InstanceAction } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';

export async function instanceActions(orm: Orm, uuid: string, body: unknown): Promise<ActionsReply> {
  const o = fieldsOf(body ?? {}, ['limit', 'marker', 'requestId'], 'actions');
  const limit = optInt(o, 'limit', { min: 1, max: MAX_PAGE_ITEMS }) ?? MAX_PAGE_ITEMS;
  const marker = optStr(o, 'marker', { max: 128 });
  const requestId = optStr(o, 'requestId', { max: 128 });
  const em = orm.em.fork();
  const where: Record<string, unknown> = { instanceUuid: uuid };
  if (requestId !== undefined) where.requestId = requestId;
  if (marker !== undefined) {
    const m = await em.findOne(InstanceAction, { instanceUuid: uuid, requestId: marker }, { orderBy: { startTime: 'desc', id: 'desc' } });
    if (!m) throw new BadRequestError(`Marker ${marker} could not be found.`);
    where.$or = [{ startTime: { $lt: m.startTime } }, { startTime: m.startTime, id: { $lt: m.id } }];
  }
  const rows = await em.find(InstanceAction, where, { orderBy: { startTime: 'desc', id: 'desc' }, limit: limit + 1 });
  const page = new BudgetedPage<InstanceActionView>(undefined, limit);
  for (const a of rows) {
    const view: InstanceActionView = {
      action: a.action, requestId: a.requestId, projectId: a.projectId, userId: a.userId, startTime: a.startTime.toISOString(),
      finishTime: a.finishTime?.toISOString() ?? null, result: a.result, message: a.message,
    };
    if (!page.add(view)) break;
  }
  return rows.length > page.items.length ? { actions: page.items, more: true } : { actions: page.items };
}
