/**
 * Neutron's request bodies as its API layer reads them before any attribute is looked at (the
 * network role checks attributes against protocols/network/resources.ts): a create is
 * `{<kind>: {…}}` or, in bulk, `{<collection>: [{…}, …]}`; an update `{<kind>: {…}}`; tags, router
 * interfaces and quota limits have shapes of their own. The messages and types are Neutron's, and
 * whatever passes fits the catalog's schema for the request it goes into.
 */
import { badInput } from '../../../protocols/network/errors.js';
import type { KindSpec } from '../../../protocols/network/resources.js';

export type Attrs = Record<string, unknown>;

const isObject = (v: unknown): v is Attrs => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

const INVALID = 'Body contains invalid data';
const missing = (what: string) => badInput(`Unable to find '${what}' in request body`);
const invalidInput = (message: string) => badInput(`Invalid input for operation: ${message}.`, 'InvalidInput');
/** neutron_lib's BadRequest: `Bad <resource> request: <msg>.` */
const badRequest = (resource: string, message: string) => badInput(`Bad ${resource} request: ${message}.`, 'BadRequest');

/** One resource's attributes out of `{<kind>: {…}}` (or a bulk item, bare or wrapped the same way). */
function attrsOf(kind: string, wrapped: Attrs): Attrs {
  const a = wrapped[kind];
  if (!isObject(a)) throw badInput(`Object '${kind}' contains invalid data`);
  return a;
}

/** A create body: one resource, or several (bulk) made in order. */
export function createBody(spec: KindSpec, body: unknown): { bulk: boolean; items: Attrs[] } {
  if (body === undefined) throw missing(spec.kind);
  if (!isObject(body)) throw badInput(INVALID);
  if (Object.hasOwn(body, spec.collection)) {
    const list = body[spec.collection];
    if (!Array.isArray(list)) throw badInput(INVALID);
    if (list.length === 0) throw badInput('Resources required');
    const items = list.map((item: unknown) => {
      if (!isObject(item)) throw badInput(INVALID);
      return Object.hasOwn(item, spec.kind) ? attrsOf(spec.kind, item) : item;
    });
    return { bulk: true, items };
  }
  if (!Object.hasOwn(body, spec.kind)) throw missing(spec.kind);
  return { bulk: false, items: [attrsOf(spec.kind, body)] };
}

/** An update body: one resource's changed attributes (Neutron has no bulk update). */
export function updateBody(spec: KindSpec, body: unknown): Attrs {
  if (body === undefined) throw missing(spec.kind);
  if (!isObject(body)) throw badInput(INVALID);
  if (Object.hasOwn(body, spec.collection)) throw badInput('Bulk operation not supported');
  if (!Object.hasOwn(body, spec.kind)) throw missing(spec.kind);
  return attrsOf(spec.kind, body);
}

/** A DELETE carries no body in Neutron. */
export function noBody(body: unknown): void {
  if (body !== undefined) throw badInput('Request body is not supported in DELETE.');
}

export const MAX_TAG_LENGTH = 255;
export const MAX_TAGS = 50;

/** A tag in a path (`…/tags/<tag>`). */
export function checkTag(tag: string): string {
  if (tag.length > MAX_TAG_LENGTH) throw invalidInput(`'${tag}' exceeds maximum length of ${MAX_TAG_LENGTH}`);
  return tag;
}

/** `PUT …/tags`: `{"tags": [unique strings]}`, at most 50 of them. */
export function tagsBody(spec: KindSpec, body: unknown): string[] {
  if (!isObject(body) || !Object.hasOwn(body, 'tags')) throw invalidInput('Invalid tags body');
  const tags = body.tags;
  if (!Array.isArray(tags)) throw invalidInput(`'${shown(tags)}' is not a list`);
  for (const t of tags) {
    if (typeof t !== 'string') throw invalidInput(`'${shown(t)}' is not a valid string`);
    checkTag(t);
  }
  const dups = [...new Set(tags.filter((t, i) => tags.indexOf(t) !== i))];
  if (dups.length > 0) throw invalidInput(`Duplicate items in the list: '${dups.join(', ')}'`);
  if (tags.length > MAX_TAGS) throw badRequest(spec.collection, `The number of tags exceed the per-resource limit of ${MAX_TAGS}`);
  return tags as string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `PUT /routers/<id>/{add,remove}_router_interface`: `{subnet_id}` or `{port_id}` (both only to remove). */
export function interfaceBody(body: unknown, removal: boolean): { subnetId?: string; portId?: string } {
  if (body !== undefined && !isObject(body)) throw badInput(INVALID);
  const b = body ?? {};
  const hasPort = Object.hasOwn(b, 'port_id');
  const hasSubnet = Object.hasOwn(b, 'subnet_id');
  if (!hasPort && !hasSubnet) throw badRequest('router', 'Either subnet_id or port_id must be specified');
  for (const k of ['port_id', 'subnet_id'] as const) {
    if (Object.hasOwn(b, k) && (typeof b[k] !== 'string' || !UUID.test(b[k]))) throw badRequest('router', `'${shown(b[k])}' is not a valid UUID`);
  }
  if (!removal && hasPort && hasSubnet) throw badRequest('router', 'Cannot specify both subnet-id and port-id');
  return { ...(hasSubnet ? { subnetId: b.subnet_id as string } : {}), ...(hasPort ? { portId: b.port_id as string } : {}) };
}

/** Quota limits: -1 (unlimited) up to the database's integer (Neutron's `type:range`). */
export const QUOTA_RANGE = { min: -1, max: 2_147_483_647 } as const;
const MAX_QUOTA_KEYS = 16;
const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;

/** `PUT /quotas/<project>`: `{"quota": {<resource>: <int>}}`, integers given as numbers or text (Neutron converts). */
export function quotaBody(body: unknown): Record<string, number> {
  if (body === undefined) throw missing('quota');
  if (!isObject(body)) throw badInput(INVALID);
  if (!Object.hasOwn(body, 'quota')) throw missing('quota');
  const q = attrsOf('quota', body);
  const keys = Object.keys(q);
  // The role refuses names it does not know; names the catalog could not even carry are refused here.
  const unknown = keys.filter((k) => k.length > 64);
  if (unknown.length > 0 || keys.length > MAX_QUOTA_KEYS) throw badInput(`Unrecognized attribute(s) '${(unknown.length > 0 ? unknown : keys.slice(MAX_QUOTA_KEYS)).join(', ')}'`);
  return Object.fromEntries(keys.map((k) => [k, quotaLimit(k, q[k])]));
}

function quotaLimit(k: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && INTEGER_TEXT.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw invalidInput(`'${shown(v)}' is not an integer`);
  if (n < QUOTA_RANGE.min) throw badInput(`Invalid input for ${k}. Reason: '${n}' is too small - must be at least '${QUOTA_RANGE.min}'.`);
  if (n > QUOTA_RANGE.max) throw badInput(`Invalid input for ${k}. Reason: '${n}' is too large - must be no larger than '${QUOTA_RANGE.max}'.`);
  return n;
}
