/**
 * What every networking call carries to the network role: the caller (`by`, from the token; the
 * role decides what a project sees and which attributes only an admin sets) and the URL's query as
 * it came. The query is bounded here as the catalog bounds it, so an oversized one is the client's
 * 400 with Neutron's fault body rather than a request the role's schema refuses.
 */
import type { FastifyRequest } from 'fastify';
import type { NetCaller } from '../../../protocols/catalog/network.js';
import { badInput, notFoundOf } from '../../../protocols/network/errors.js';
import type { NetKind } from '../../../protocols/network/resources.js';
import { authOf } from '../context.js';
import { param, query } from '../routes.js';

/** Where Networking v2.0 is served: under `/networking`, as devstack mounts Neutron. */
export const V2 = '/networking/v2.0';

export type NetQuery = Record<string, string | string[]>;

/** The catalog's bounds on a raw query (protocols/catalog/network.ts). */
export const QUERY_BOUNDS = { keys: 64, keyLength: 255, valueLength: 1024, values: 64 } as const;

export function callerOf(req: FastifyRequest): NetCaller {
  const a = authOf(req);
  return { projectId: a.projectId, userId: a.userId, isAdmin: a.isAdmin };
}

/** The query as parsed (a repeated key: its values in order), within the catalog's bounds. */
export function boundedQuery(raw: Record<string, string | string[] | undefined>): NetQuery {
  const entries = Object.entries(raw).filter((e): e is [string, string | string[]] => e[0] !== '' && e[1] !== undefined);
  if (entries.length > QUERY_BOUNDS.keys) throw badInput(`Too many query parameters: at most ${QUERY_BOUNDS.keys} are accepted.`);
  for (const [k, v] of entries) {
    const values = Array.isArray(v) ? v : [v];
    if (k.length > QUERY_BOUNDS.keyLength) throw badInput(`Query parameter '${k.slice(0, 32)}…' is longer than ${QUERY_BOUNDS.keyLength} characters.`);
    if (values.length > QUERY_BOUNDS.values) throw badInput(`Query parameter '${k}' is repeated more than ${QUERY_BOUNDS.values} times.`);
    if (values.some((x) => x.length > QUERY_BOUNDS.valueLength)) throw badInput(`A value of query parameter '${k}' is longer than ${QUERY_BOUNDS.valueLength} characters.`);
  }
  // fromEntries defines own properties: a `__proto__` key stays a key.
  return Object.fromEntries(entries);
}

/** A Python list or tuple of plain strings as its repr prints it: `['id', 'name']`, `('id',)`. */
const PY_SEQUENCE = /^[[(]\s*(?:'[^'\\]*'\s*(?:,\s*'[^'\\]*'\s*)*,?\s*)?[\])]$/;

/**
 * `fields` as names. The openstack CLI of Debian 12 (openstacksdk 0.101) sends the list it means as
 * one value, its Python repr (`fields=['id', 'name']`), for `security group list` and `port list`;
 * that value names no field, so it is read as the names it lists. Any other value is a field name.
 */
export function expandFields(q: NetQuery): NetQuery {
  if (q.fields === undefined) return q;
  const values = (Array.isArray(q.fields) ? q.fields : [q.fields]).flatMap((v) => (PY_SEQUENCE.test(v) ? [...v.matchAll(/'([^']*)'/g)].map((m) => m[1]!) : [v]));
  return { ...q, fields: values.slice(0, QUERY_BOUNDS.values) };
}

export const queryOf = (req: FastifyRequest): NetQuery => expandFields(boundedQuery(query(req)));

/** Only `fields`: all a show reads of its query (Neutron ignores the rest there). */
export function fieldsOf(q: NetQuery): NetQuery {
  return q.fields === undefined ? {} : { fields: q.fields };
}

/** The query string as sent (after `?`), for the paging links that keep it. */
export function searchOf(req: FastifyRequest): string {
  const at = req.url.indexOf('?');
  return at < 0 ? '' : req.url.slice(at + 1);
}

/** A resource id from the path: one longer than any id the catalog carries names nothing (Neutron's 404). */
export function idOf(req: FastifyRequest, kind: NetKind): string {
  const id = param(req, 'id');
  if (id.length > 255) throw notFoundOf(kind, id);
  return id;
}
