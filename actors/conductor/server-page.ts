/**
 * Server listings that fit one reply: rows are read newest first in chunks and their views added
 * until the caller's limit or the reply's byte budget (a server's metadata alone can be ~130 KB, so
 * 1,000 servers are far over NATS's 1 MiB). A reply cut by the budget says `more`; the caller goes on
 * with its last server as the marker.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ListReply, ServerView } from '../../protocols/messages.js';
import { BudgetedPage } from '../../protocols/paging.js';
import { Instance, type InstanceRow } from '../../runtime/db/entities/index.js';
import { serverView } from './views.js';

/** Rows per read: a chunk of large-metadata servers stays a few MB in memory. */
const CHUNK = 100;

/** Strictly older than `r` in (created_at desc, uuid desc). */
export function olderThan(r: Pick<InstanceRow, 'createdAt' | 'uuid'>): Record<string, unknown> {
  return { $or: [{ createdAt: { $lt: r.createdAt } }, { createdAt: r.createdAt, uuid: { $lt: r.uuid } }] };
}

export async function serverPage(em: EntityManager, and: Record<string, unknown>[], limit: number, budget?: number): Promise<ListReply> {
  const page = new BudgetedPage<ServerView>(budget, limit);
  let after: InstanceRow | undefined;
  while (page.items.length < limit && !page.full) {
    const n = Math.min(CHUNK, limit - page.items.length);
    const where = after ? [...and, olderThan(after)] : and;
    const rows = await em.find(Instance, { $and: where }, { orderBy: { createdAt: 'desc', uuid: 'desc' }, limit: n, disableIdentityMap: true });
    for (const r of rows) if (!page.add(serverView(r))) break;
    if (rows.length < n) break;
    after = rows[rows.length - 1];
  }
  return page.full ? { servers: page.items, more: true } : { servers: page.items };
}
