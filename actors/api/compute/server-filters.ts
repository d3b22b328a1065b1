/**
 * `GET /servers[/detail]` query parameters → the conductor's query. Nova's rules: non-admins are
 * confined to their project and their admin-only filters (`host`, `node`, `project_id`) are dropped;
 * `all_tenants` from a non-admin is a 403; `limit` is capped at 1000 and must be a non-negative
 * integer; `changes-since`/`changes-before` must be ISO 8601 (400 otherwise); the tag filters (2.26)
 * are comma-separated lists; filters on things novact servers never have (IP addresses, locks) match
 * nothing rather than being silently ignored.
 */
import type { FastifyRequest } from 'fastify';
import { parseIsoTime } from '../../../protocols/iso-time.js';
import type { ServerQuery } from '../../../protocols/server-query.js';
import type { AuthContext } from '../context.js';
import { badRequest, forbidden } from '../faults.js';
import { atLeast } from '../microversion.js';
import { one, query } from '../routes.js';

export const MAX_LIMIT = 1000;

const TRUE = new Set(['', '1', 't', 'true', 'on', 'y', 'yes']);
const FALSE = new Set(['0', 'f', 'false', 'off', 'n', 'no']);

function bool(name: string, v: string): boolean {
  const s = v.toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw badRequest(`Invalid input for query parameters ${name}. Value: ${v}. '${v}' is not a valid boolean.`);
}

export function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v)) throw badRequest('limit param must be an integer');
  return Math.min(Number(v), MAX_LIMIT);
}

type Params = ReturnType<typeof query>;

function instant(p: Params, name: string): Date | undefined {
  const v = one(p[name]);
  if (v === undefined) return undefined;
  const t = parseIsoTime(v);
  if (!t) throw badRequest(`Invalid input for query parameters ${name}. Value: ${v}. '${v}' is not a 'date-time'`);
  return t;
}

/** Query parameter → the conductor's field (Nova splits each on `,`). */
const TAG_PARAMS = [['tags', 'tags'], ['tags-any', 'tagsAny'], ['not-tags', 'notTags'], ['not-tags-any', 'notTagsAny']] as const;

function tagFilters(p: Params): Partial<ServerQuery> {
  const out: Partial<ServerQuery> = {};
  for (const [param, field] of TAG_PARAMS) {
    const v = one(p[param]);
    if (v === undefined) continue;
    const tags = v.split(',').filter((t) => t !== '');
    if (tags.length > 50 || tags.some((t) => t.length > 60)) throw badRequest(`Invalid input for query parameters ${param}. Value: ${v}.`);
    if (tags.length > 0) out[field] = tags;
  }
  return out;
}

export interface ServerListParams {
  q: ServerQuery;
  /** The page size the caller asked for (for the `next` link). */
  limit: number;
  /** A filter no novact server can match: answer an empty list. */
  matchesNothing: boolean;
  /** Nova's `ip`/`ip6` regular expressions, which the network role answers with server ids. */
  ips?: { ip?: string; ip6?: string };
}

export function serverListParams(req: FastifyRequest, auth: AuthContext, detail: boolean): ServerListParams {
  const p = query(req);
  const q: ServerQuery = {};
  let matchesNothing = false;

  const allTenants = one(p.all_tenants);
  const everyone = allTenants !== undefined && bool('all_tenants', allTenants);
  if (everyone && !auth.isAdmin) {
    throw forbidden(`Policy doesn't allow os_compute_api:servers:${detail ? 'detail' : 'index'}:get_all_tenants to be performed.`);
  }
  if (!everyone) q.projectId = auth.projectId;
  else {
    const project = one(p.project_id) ?? one(p.tenant_id);
    if (project !== undefined) q.projectId = project;
  }

  const name = one(p.name);
  if (name !== undefined) q.name = name;
  const status = one(p.status);
  if (status !== undefined) q.status = status;
  const since = instant(p, 'changes-since');
  if (since !== undefined) q.changesSince = since.toISOString();
  const before = atLeast(req.microversion, 66) ? instant(p, 'changes-before') : undefined;
  if (before !== undefined) q.changesBefore = before.toISOString();
  if (since && before && since > before) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
  if (atLeast(req.microversion, 26)) Object.assign(q, tagFilters(p));
  const image = one(p.image);
  if (image !== undefined) q.image = image.split('/').pop()!;
  const flavor = one(p.flavor);
  if (flavor !== undefined) q.flavor = flavor.split('/').pop()!;
  const az = one(p.availability_zone);
  if (az !== undefined) q.availabilityZone = az;
  const keyName = one(p.key_name);
  if (keyName !== undefined) q.keyName = keyName;
  if (auth.isAdmin) {
    const host = one(p.host) ?? one(p.node);
    if (host !== undefined) q.host = host;
  }
  const ip = one(p.ip);
  const ip6 = one(p.ip6);
  const ips = ip !== undefined || ip6 !== undefined ? { ...(ip !== undefined ? { ip } : {}), ...(ip6 !== undefined ? { ip6 } : {}) } : undefined;
  // Servers here have no locks: that filter matches nothing.
  const locked = one(p.locked);
  if (locked !== undefined && bool('locked', locked)) matchesNothing = true;

  const sortKey = one(p.sort_key);
  const sortDir = one(p.sort_dir);
  if ((sortKey !== undefined && sortKey !== 'created_at') || (sortDir !== undefined && sortDir !== 'desc')) {
    throw badRequest('novact lists servers newest first only: sort_key=created_at, sort_dir=desc.');
  }

  const limit = parseLimit(one(p.limit));
  q.limit = limit ?? MAX_LIMIT;
  const marker = one(p.marker);
  if (marker !== undefined) q.marker = marker;
  return { q, limit: q.limit, matchesNothing, ...(ips ? { ips } : {}) };
}
