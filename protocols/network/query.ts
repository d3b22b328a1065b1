/**
 * Neutron's list query: any attribute as a filter (repeated: any of the values), `fields` to cut
 * each item down, `sort_key`/`sort_dir`, `limit`/`marker`/`page_reverse` paging, and the tag
 * filters. An unknown filter is a 400, as Neutron answers with filter validation on.
 */
import { badInput } from './errors.js';
import { COMMON_FIELDS, KINDS, type NetKind } from './resources.js';

export type RawQuery = Record<string, string | string[] | undefined>;
export type Item = Record<string, unknown>;

const CONTROL_PARAMS = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse', 'tags', 'tags-any', 'not-tags', 'not-tags-any']);
export const MAX_LIMIT = 1000;

const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function known(kind: NetKind, key: string): boolean {
  return key in KINDS[kind].attributes || (COMMON_FIELDS as readonly string[]).includes(key) || EXTRA_FILTERS[kind]?.includes(key) === true;
}
/** Read-only fields a view shows that are not in the attribute table but can be filtered on. */
const EXTRA_FILTERS: Partial<Record<NetKind, string[]>> = {
  floatingip: ['router_id', 'status'],
  port: ['status', 'binding:vif_type'],
  network: ['status'],
};

/** One filter value against an item's value, as Neutron compares them (booleans and numbers by text). */
function matches(value: unknown, wanted: string): boolean {
  if (value === null || value === undefined) return wanted === '' || wanted.toLowerCase() === 'none';
  if (typeof value === 'boolean') return String(value) === wanted.toLowerCase();
  if (Array.isArray(value)) return value.some((v) => matches(v, wanted));
  if (typeof value === 'object') return false;
  return String(value) === wanted;
}

/** `fixed_ips=ip_address=10.0.0.5` / `fixed_ips=subnet_id=…`: a port's addresses. */
function fixedIpMatches(value: unknown, wanted: string): boolean {
  const at = wanted.indexOf('=');
  if (at < 0 || !Array.isArray(value)) return false;
  const key = wanted.slice(0, at);
  const v = wanted.slice(at + 1);
  if (key === 'ip_address_substr') return value.some((f) => String((f as Item).ip_address ?? '').includes(v));
  return value.some((f) => String((f as Item)[key] ?? '') === v);
}

function tagsOf(i: Item): string[] {
  return Array.isArray(i.tags) ? (i.tags as string[]) : [];
}
const tagList = (q: RawQuery, k: string) => all(q[k]).flatMap((s) => s.split(',')).filter((s) => s !== '');

export interface ListPage {
  items: Item[];
  /** The id to continue after, when a limit cut the list. */
  next?: string;
  /** The id to go back before, when the page started after a marker. */
  previous?: string;
}

export function listQuery(kind: NetKind, items: Item[], q: RawQuery): ListPage {
  const filters: [string, string[]][] = [];
  for (const [k, v] of Object.entries(q)) {
    if (CONTROL_PARAMS.has(k) || v === undefined) continue;
    if (!known(kind, k)) throw badInput(`[${k}] is invalid attribute for filtering`);
    filters.push([k, all(v)]);
  }
  let out = items.filter((i) => filters.every(([k, vs]) => vs.some((w) => (k === 'fixed_ips' ? fixedIpMatches(i[k], w) : matches(i[k], w)))));
  const tags = tagList(q, 'tags'), anyTags = tagList(q, 'tags-any'), notTags = tagList(q, 'not-tags'), notAny = tagList(q, 'not-tags-any');
  if (tags.length + anyTags.length + notTags.length + notAny.length > 0) {
    out = out.filter((i) => {
      const t = tagsOf(i);
      return tags.every((x) => t.includes(x)) && (anyTags.length === 0 || anyTags.some((x) => t.includes(x)))
        && !(notTags.length > 0 && notTags.every((x) => t.includes(x))) && !notAny.some((x) => t.includes(x));
    });
  }
  out = sorted(kind, out, q);
  return paged(out, q);
}

function sorted(kind: NetKind, items: Item[], q: RawQuery): Item[] {
  const keys = all(q.sort_key);
  const dirs = all(q.sort_dir);
  if (dirs.some((d) => d !== 'asc' && d !== 'desc')) throw badInput("Sort direction must be 'asc' or 'desc'");
  for (const k of keys) if (!known(kind, k)) throw badInput(`${k} is an invalid attribute for sort_keys`);
  const order = keys.length > 0 ? keys.map((k, i) => [k, dirs[i] ?? 'asc'] as const) : [];
  // Neutron adds the id as the last key, so pages are stable.
  const full = [...order, ['id', order[order.length - 1]?.[1] ?? 'asc'] as const];
  return [...items].sort((a, b) => {
    for (const [k, d] of full) {
      const c = compare(a[k], b[k]);
      if (c !== 0) return d === 'asc' ? c : -c;
    }
    return 0;
  });
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function paged(items: Item[], q: RawQuery): ListPage {
  const limitText = all(q.limit).at(-1);
  const marker = all(q.marker).at(-1);
  const reverse = all(q.page_reverse).at(-1)?.toLowerCase() === 'true';
  let limit: number | undefined;
  if (limitText !== undefined) {
    if (!/^\d{1,9}$/.test(limitText)) throw badInput(`Bad limit request: Limit must be an integer 0 or greater and not '${limitText}'`);
    limit = Math.min(Number(limitText), MAX_LIMIT) || undefined;
  }
  let start = 0;
  let end = items.length;
  if (marker !== undefined) {
    const at = items.findIndex((i) => i.id === marker);
    if (at < 0) throw badInput(`Marker ${marker} could not be found.`);
    if (reverse) end = at;
    else start = at + 1;
  }
  if (limit !== undefined) {
    if (reverse) start = Math.max(start, end - limit);
    else end = Math.min(end, start + limit);
  }
  const page: ListPage = { items: items.slice(start, end) };
  const last = page.items.at(-1)?.id;
  const first = page.items[0]?.id;
  if (limit !== undefined && end < items.length && typeof last === 'string') page.next = last;
  if (limit !== undefined && start > 0 && typeof first === 'string') page.previous = first;
  return page;
}

/** Only the asked `fields` of an item (all when none are asked). */
export function pickFields(item: Item, q: RawQuery): Item {
  const fields = all(q.fields).filter((f) => f !== '');
  if (fields.length === 0) return item;
  const out: Item = {};
  for (const f of fields) if (f in item) out[f] = item[f];
  return out;
}
