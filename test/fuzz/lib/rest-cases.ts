/**
 * The REST fuzz cases, built from Fastify's own route table: for each route, one slot per path
 * parameter, per known query parameter (plus an unknown one) and per body field (from the route's
 * JSON schema where it has one, else from a known body), and a whole-body slot. Each slot gets the
 * fixed crash vectors and `runs` values drawn by fast-check from a seed derived from the slot's
 * name, so a case is the same on every run and adding a route does not move the others. Every other
 * part of the request stays valid (real ids, a working body), so the hostile value reaches as deep
 * as the code lets it.
 */
import fc from 'fast-check';
import type { RegisteredRoute } from '../../../actors/api/route-registry.js';
import { Bytes, hostileBody, hostileJson, hostileString, percent, writeJson, type Hostile } from './hostile.js';

/** Real objects the valid parts of a request name. */
export interface Resources {
  serverId: string;
  metaKey: string;
  actionRequestId: string;
  imageId: string;
  /** A public, bootable image (the seeded one). */
  bootImageId: string;
  imageTag: string;
  flavorId: string;
  flavorRef: string;
  specKey: string;
  keypairName: string;
  publicKey: string;
  aggregateId: string;
  groupId: string;
  serviceId: string;
  hypervisorId: string;
  hostName: string;
  projectId: string;
  userId: string;
  roleId: string;
  user: { name: string; password: string; project: string };
}

export interface Case {
  method: string;
  route: string;
  slot: string;
  input: unknown;
  path: string;
  contentType?: string;
  body?: Buffer;
  /** Deletes (and other state-ending calls) run after everything else. */
  phase: 0 | 1 | 2;
}

type Key = string | number;

/** The known query parameters, per route prefix (the handlers read these; Fastify has no query schemas). */
const QUERY: readonly [RegExp, string[]][] = [
  [/^\/v2\.1\/servers(\/detail)?$/, ['name', 'status', 'host', 'node', 'flavor', 'image', 'key_name', 'availability_zone', 'locked', 'marker', 'limit', 'sort_key', 'sort_dir', 'changes-since', 'all_tenants', 'project_id', 'tenant_id', 'ip', 'tags', 'tags-any']],
  [/^\/v2\.1\/servers\/:id\/os-instance-actions$/, ['limit', 'marker', 'changes-since']],
  [/^\/v2\.1\/flavors(\/detail)?$/, ['is_public', 'minRam', 'minDisk', 'marker', 'limit', 'sort_key', 'sort_dir']],
  [/^\/v2\.1\/os-hypervisors/, ['hypervisor_hostname_pattern', 'with_servers', 'limit', 'marker']],
  [/^\/v2\.1\/os-services$/, ['host', 'binary']],
  [/^\/v2\.1\/os-keypairs/, ['user_id', 'limit', 'marker']],
  [/^\/v2\.1\/os-quota-sets/, ['user_id']],
  [/^\/v2\.1\/limits$/, ['tenant_id', 'reserved']],
  [/^\/v2\.1\/os-server-groups$/, ['all_projects', 'limit', 'offset']],
  [/^\/image\/v2\/images$/, ['name', 'visibility', 'status', 'owner', 'member_status', 'tag', 'protected', 'os_hidden', 'size_min', 'size_max', 'container_format', 'disk_format', 'created_at', 'updated_at', 'limit', 'marker', 'sort', 'sort_key', 'sort_dir']],
  [/^\/v3\/projects$/, ['name', 'domain_id', 'enabled']],
  [/^\/v3\/users$/, ['name', 'domain_id', 'enabled']],
  [/^\/v3\/roles$/, ['name']],
  [/^\/v3\/role_assignments$/, ['user.id', 'scope.project.id', 'role.id', 'effective', 'include_names']],
  [/^\/v3\/auth\/tokens$/, ['nocatalog', 'allow_expired']],
  // Neutron's lists: any attribute filters; these are the ones every kind reads.
  [/^\/networking\/v2\.0\/[a-z_-]+$/, ['fields', 'limit', 'marker', 'page_reverse', 'sort_key', 'sort_dir', 'name', 'project_id', 'tags', 'not-tags-any']],
  [/^\/networking\/v2\.0\/[a-z-]+\/:id$/, ['fields']],
];
const UNKNOWN_QUERY = 'fz_unknown';

/** A path parameter's valid value for the route it is in. */
function validParam(url: string, name: string, r: Resources): string {
  if (url.startsWith('/v2.1/servers/')) return name === 'key' ? r.metaKey : name === 'request' ? r.actionRequestId : r.serverId;
  if (url.startsWith('/v2.1/flavors/')) return name === 'key' ? r.specKey : r.flavorId;
  if (url.startsWith('/image/v2/images/')) return name === 'tag' ? r.imageTag : r.imageId;
  if (url.startsWith('/v2.1/os-aggregates/')) return r.aggregateId;
  if (url.startsWith('/v2.1/os-server-groups/')) return r.groupId;
  if (url.startsWith('/v2.1/os-services/')) return r.serviceId;
  if (url.startsWith('/v2.1/os-hypervisors/')) return r.hypervisorId;
  if (url.startsWith('/v2.1/os-keypairs/')) return r.keypairName;
  if (url.startsWith('/v2.1/os-quota-sets/')) return r.projectId;
  if (name === 'project') return r.projectId;
  if (name === 'user') return r.userId;
  if (name === 'role') return r.roleId;
  return 'fz';
}

/** Bodies known to be accepted, for routes whose schema is missing or too loose to build one from. */
function knownBody(method: string, url: string, r: Resources): unknown {
  const auth = { identity: { methods: ['password'], password: { user: { name: r.user.name, domain: { name: 'Default' }, password: r.user.password } } }, scope: { project: { name: r.user.project, domain: { name: 'Default' } } } };
  const bodies: Record<string, unknown> = {
    'POST /v3/auth/tokens': { auth },
    'POST /v3/projects': { project: { name: 'fz-project', description: 'd', enabled: true } },
    'POST /v3/users': { user: { name: 'fz-user', password: 'fz-password', default_project_id: r.projectId, description: 'd', enabled: true } },
    'POST /v2.1/servers': { server: { name: 'fz', flavorRef: r.flavorRef, imageRef: r.bootImageId, metadata: { k: 'v' }, key_name: r.keypairName } },
    'PUT /v2.1/servers/:id': { server: { name: 'fz-renamed', description: 'd' } },
    'POST /v2.1/servers/:id/action': { reboot: { type: 'HARD' } },
    'PUT /v2.1/servers/:id/metadata': { metadata: { [r.metaKey]: 'v', k2: 'v2' } },
    'POST /v2.1/servers/:id/metadata': { metadata: { k3: 'v3' } },
    'PUT /v2.1/servers/:id/metadata/:key': { meta: { [r.metaKey]: 'v' } },
    'POST /v2.1/flavors': { flavor: { name: 'fz-flavor-2', ram: 64, vcpus: 1, disk: 0, id: 'fz-flavor-2' } },
    'POST /v2.1/flavors/:id/os-extra_specs': { extra_specs: { [r.specKey]: 'v' } },
    'PUT /v2.1/flavors/:id/os-extra_specs/:key': { [r.specKey]: 'v' },
    'POST /v2.1/os-keypairs': { keypair: { name: 'fz-key-2', public_key: r.publicKey, type: 'ssh' } },
    'PUT /v2.1/os-quota-sets/:project': { quota_set: { instances: 20, cores: 40, metadata_items: 128 } },
    'POST /v2.1/os-aggregates': { aggregate: { name: 'fz-agg-2', availability_zone: null } },
    'PUT /v2.1/os-aggregates/:id': { aggregate: { name: 'fz-agg-renamed' } },
    'POST /v2.1/os-aggregates/:id/action': { set_metadata: { metadata: { k: 'v' } } },
    'POST /v2.1/os-server-groups': { server_group: { name: 'fz-group-2', policies: ['anti-affinity'] } },
    'PUT /v2.1/os-services/:id': { status: 'enabled', disabled_reason: 'r', forced_down: false },
    'PUT /v2.1/os-services/enable': { host: r.hostName, binary: 'nova-compute' },
    'PUT /v2.1/os-services/disable': { host: r.hostName, binary: 'nova-compute', disabled_reason: 'r' },
    'PUT /v2.1/os-services/disable-log-reason': { host: r.hostName, binary: 'nova-compute', disabled_reason: 'r' },
    'PUT /v2.1/os-services/force-down': { host: r.hostName, binary: 'nova-compute', forced_down: false },
    'POST /image/v2/images': { name: 'fz-image', disk_format: 'raw', container_format: 'bare', visibility: 'private', min_ram: 0, min_disk: 0, tags: ['t'], fz_prop: 'v' },
    'PATCH /image/v2/images/:id': [{ op: 'replace', path: '/name', value: 'fz-patched' }, { op: 'add', path: '/fz_prop2', value: 'v' }],
  };
  return bodies[`${method} ${url}`];
}

type Schema = { type?: unknown; properties?: Record<string, Schema>; anyOf?: Schema[]; oneOf?: Schema[]; items?: Schema; patternProperties?: Record<string, Schema>; additionalProperties?: unknown; required?: string[]; enum?: unknown[]; minimum?: number };

/** A minimal valid value for a schema: required properties only, enums' first member, minimums. */
function synthesize(s: Schema | undefined): unknown {
  if (!s) return {};
  if (s.enum) return s.enum[0];
  if (s.anyOf ?? s.oneOf) return synthesize((s.anyOf ?? s.oneOf)![0]);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'object' || s.properties) return Object.fromEntries((s.required ?? []).map((k) => [k, synthesize(s.properties?.[k])]));
  if (type === 'array') return [];
  if (type === 'integer' || type === 'number') return s.minimum ?? 1;
  if (type === 'boolean') return false;
  if (type === 'null') return null;
  return 'fz';
}

/** Every field path a schema names; `maps` gets the paths of free-form objects (metadata, specs). */
function schemaFields(s: Schema | undefined, at: Key[], fields: Key[][], maps: Key[][], depth = 0): void {
  if (!s || depth > 6) return;
  for (const branch of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) schemaFields(branch, at, fields, maps, depth + 1);
  for (const [k, sub] of Object.entries(s.properties ?? {})) {
    fields.push([...at, k]);
    schemaFields(sub, [...at, k], fields, maps, depth + 1);
  }
  if (s.patternProperties || (s.additionalProperties && typeof s.additionalProperties === 'object')) maps.push(at);
  if (s.items && typeof s.items === 'object') {
    fields.push([...at, 0]);
    schemaFields(s.items, [...at, 0], fields, maps, depth + 1);
  }
}

/** Every leaf path of a body (objects and arrays walked). */
function leafFields(v: unknown, at: Key[], out: Key[][]): void {
  if (Array.isArray(v)) v.forEach((e, i) => { out.push([...at, i]); leafFields(e, [...at, i], out); });
  else if (v !== null && typeof v === 'object') {
    if (at.length > 0 && Object.keys(v).length > 0) out.push([...at, '*']);
    for (const [k, e] of Object.entries(v)) { out.push([...at, k]); leafFields(e, [...at, k], out); }
  }
}

const clone = (v: unknown): unknown => (v === undefined ? undefined : structuredClone(v));

/** The body with the value at `path` replaced (containers created on the way). */
function setAt(body: unknown, path: Key[], value: unknown): unknown {
  const root = clone(body) ?? {};
  if (path.length === 0) return value;
  let cur: any = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = typeof path[i + 1] === 'number' ? [] : {};
    cur = cur[k];
  }
  cur[path[path.length - 1]!] = value;
  return root;
}

/** The body with the map at `path` given one hostile key. */
function mapKey(body: unknown, path: Key[], key: Hostile): unknown {
  // Invalid UTF-8 cannot be an object key here; its lossy decoding still carries U+FFFD.
  const k = key instanceof Bytes ? Buffer.from(key.bytes).toString('utf8') : key;
  return setAt(body, path, { [k]: 'v' });
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** `runs` values from `arb`, seeded by the base seed and the slot's name. */
function draw<T>(arb: fc.Arbitrary<T>, seed: number, slot: string, runs: number): T[] {
  return runs > 0 ? fc.sample(arb, { seed: (seed ^ hash(slot)) | 0, numRuns: runs }) : [];
}

const fill = (url: string, values: Record<string, string>) => url.replace(/:([A-Za-z_]+)/g, (_, n: string) => values[n]!);

const PATH_CORE: Hostile[] = ['\n', 'a\u0000b', 'x\r\ny'];
const STRING_CORE: Hostile[] = ['a\u0000b', 'x\ny', '\ud800'];

export function buildCases(routes: readonly RegisteredRoute[], r: Resources, o: { seed: number; runs: number }): Case[] {
  const out: Case[] = [];
  for (const route of routes) {
    const { method, url } = route;
    const names = [...url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
    const valid = Object.fromEntries(names.map((n) => [n, encodeURIComponent(validParam(url, n, r))]));
    const kind = route.body ?? (['POST', 'PUT', 'PATCH'].includes(method) ? 'json' : 'none');
    const contentType = kind === 'json-patch' ? 'application/openstack-images-v2.1-json-patch' : kind === 'octet' ? 'application/octet-stream' : kind === 'json' ? 'application/json' : undefined;
    const schema = (route.schema as { body?: Schema } | undefined)?.body;
    const baseline = kind === 'json' || kind === 'json-patch' ? knownBody(method, url, r) ?? synthesize(schema) : undefined;
    const baseBody = kind === 'octet' ? Buffer.from('fz-data') : baseline === undefined ? undefined : writeJson(baseline);
    const phase: Case['phase'] = method === 'DELETE' ? 1 : 0;
    const add = (slot: string, input: unknown, path: string, body: Buffer | undefined, p: Case['phase'] = phase) =>
      out.push({ method, route: url, slot, input, path, ...(body !== undefined ? { body, ...(contentType ? { contentType } : {}) } : {}), phase: p });

    for (const n of names) {
      const slot = `${method} ${url} path:${n}`;
      for (const v of [...PATH_CORE, ...draw(hostileString, o.seed, slot, o.runs)]) add(`path:${n}`, v, fill(url, { ...valid, [n]: percent(v) }), baseBody);
    }
    const base = fill(url, valid);
    // A HEAD beside a GET runs the GET's handler: its query parameters are the GET's, tried there.
    const twin = method === 'HEAD' && routes.some((x) => x.method === 'GET' && x.url === url);
    const params = [...(twin ? [] : QUERY.find(([re]) => re.test(url))?.[1] ?? []), UNKNOWN_QUERY];
    for (const q of params) {
      const slot = `${method} ${url} query:${q}`;
      // A delete with valid ids and a harmless query deletes: those run last of all.
      for (const v of draw(hostileString, o.seed, slot, Math.max(1, o.runs))) add(`query:${q}`, v, `${base}?${encodeURIComponent(q)}=${percent(v)}`, baseBody, method === 'DELETE' ? 2 : phase);
    }
    if (kind === 'octet') {
      const slot = `${method} ${url} body:bytes`;
      for (const b of draw(fc.uint8Array({ maxLength: 2048 }), o.seed, slot, Math.max(1, o.runs))) add('body:bytes', `<${b.length} bytes>`, base, Buffer.from(b));
      continue;
    }
    if (baseline === undefined) continue;
    const fields: Key[][] = [];
    const maps: Key[][] = [];
    schemaFields(schema, [], fields, maps);
    leafFields(baseline, [], fields);
    const seen = new Set<string>();
    for (const f of fields) {
      const isMapKey = f[f.length - 1] === '*';
      const at = isMapKey ? f.slice(0, -1) : f;
      const name = `body:${at.join('.') || '<root>'}${isMapKey ? ':<key>' : ''}`;
      if (seen.has(name)) continue;
      seen.add(name);
      const slot = `${method} ${url} ${name}`;
      if (isMapKey) {
        for (const v of [...STRING_CORE, ...draw(hostileString, o.seed, slot, o.runs)]) add(`${name}`, v, base, writeJson(mapKey(baseline, at, v)));
      } else {
        for (const v of [...STRING_CORE, ...draw(hostileJson, o.seed, slot, o.runs)]) add(name, v, base, writeJson(setAt(baseline, at, v)));
      }
    }
    for (const m of maps) {
      const name = `body:${m.join('.') || '<root>'}:<key>`;
      if (seen.has(name)) continue;
      seen.add(name);
      for (const v of [...STRING_CORE, ...draw(hostileString, o.seed, `${method} ${url} ${name}`, o.runs)]) add(name, v, base, writeJson(mapKey(baseline, m, v)));
    }
    // The top-level key itself (an action name, a wrapper) and the body as a whole.
    const rootKey = baseline !== null && typeof baseline === 'object' && !Array.isArray(baseline) ? Object.keys(baseline)[0] : undefined;
    if (rootKey !== undefined) {
      for (const v of draw(hostileString, o.seed, `${method} ${url} body:<root-key>`, Math.max(1, o.runs))) {
        const k = v instanceof Bytes ? Buffer.from(v.bytes).toString('utf8') : v;
        add('body:<root-key>', v, base, writeJson({ [k]: (baseline as Record<string, unknown>)[rootKey] }));
      }
    }
    for (const v of draw(hostileBody, o.seed, `${method} ${url} body:<whole>`, Math.max(2, o.runs))) add('body:<whole>', v, base, writeJson(v));
  }
  return out;
}
