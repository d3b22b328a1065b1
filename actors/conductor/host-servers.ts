/**
 * `conductor.host-servers`: the servers (name and uuid) on a list of hosts, for
 * `os-hypervisors?with_servers=true`: one query for a page of hypervisors instead of one request
 * per host. Ordered by (host, uuid) and cut at the reply's byte budget; `next` continues.
 */
import { BadRequestError } from '../../protocols/errors.js';
import { BudgetedPage, MAX_PAGE_ITEMS } from '../../protocols/paging.js';
import { fieldsOf, isUuid, str } from '../../protocols/validate.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { HostServer, HostServersReply } from '../../protocols/conductor-replies.js';

/** Rows read per reply at most (names are ≤ 255 chars, so this stays near the budget, not far over). */
const ROWS = 4 * MAX_PAGE_ITEMS;

export async function hostServers(orm: Orm, body: Record<string, unknown>): Promise<HostServersReply> {
  const o = fieldsOf(body, ['hosts', 'after'], 'host-servers');
  if (!Array.isArray(o.hosts) || o.hosts.length > MAX_PAGE_ITEMS || o.hosts.some((h) => typeof h !== 'string')) {
    throw new BadRequestError(`'hosts' must be a list of at most ${MAX_PAGE_ITEMS} host names`);
  }
  const hosts = o.hosts as string[];
  if (hosts.length === 0) return { servers: [] };
  const knex = orm.em.getConnection().getKnex();
  const sql = knex('instances').select('host', 'name', 'uuid').whereNull('deleted_at')
    .whereRaw('host = any(?::text[])', [hosts]).orderBy([{ column: 'host' }, { column: 'uuid' }]).limit(ROWS + 1);
  if (o.after !== undefined) {
    const a = fieldsOf(o.after, ['host', 'uuid'], 'after');
    const host = str(a, 'host');
    const uuid = str(a, 'uuid', { max: 36 });
    if (!isUuid(uuid)) throw new BadRequestError("'after.uuid' must be a UUID");
    sql.whereRaw('(host, uuid) > (?, ?::uuid)', [host, uuid]);
  }
  const rows = (await sql) as HostServer[];
  const page = new BudgetedPage<HostServer>(undefined, ROWS);
  for (const r of rows) if (!page.add({ host: r.host, name: r.name, uuid: r.uuid })) break;
  const last = page.items[page.items.length - 1];
  return last && rows.length > page.items.length ? { servers: page.items, next: { host: last.host, uuid: last.uuid } } : { servers: page.items };
}
