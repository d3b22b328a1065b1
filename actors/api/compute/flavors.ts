/**
 * Flavors: list (`GET /flavors`, `/flavors/detail`, Nova's filters, sort keys and paging), show,
 * admin create (200), update (2.55: the description) and delete (202), and extra specs
 * (`/flavors/{id}/os-extra_specs[/{key}]`). Views by microversion: `description` from 2.55,
 * `extra_specs` in the body from 2.61, `swap` an integer from 2.75 (before, an empty string for no
 * swap). A private flavor is seen only by admins and the projects on its access list (flavor-access.ts).
 */
import type { FastifyRequest } from 'fastify';
import { Closed, MetadataMap } from '../../../protocols/catalog/common.js';
import { FLAVOR_DESCRIPTION_PATTERN } from '../../../protocols/catalog/conductor.js';
import { NotFoundError } from '../../../protocols/errors.js';
import type { Flavor } from '../../../protocols/resources.js';
import { authOf, type AuthContext } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import type { Links } from '../links.js';
import { atLeast, type Microversion } from '../microversion.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { parseLimit } from './server-filters.js';

const MAX_INT = 2 ** 31 - 1;
const int = (min: number) => ({ anyOf: [{ type: 'integer', minimum: min, maximum: MAX_INT }, { type: 'string', pattern: '^[0-9]{1,10}$' }] });

const DESCRIPTION = { type: ['string', 'null'], maxLength: 65535, pattern: FLAVOR_DESCRIPTION_PATTERN } as const;

const CREATE_SCHEMA = {
  type: 'object', required: ['flavor'],
  properties: {
    flavor: {
      type: 'object', required: ['name', 'ram', 'vcpus', 'disk'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^(?! )[^\\x00-\\x1f\\x7f]+(?<! )$' },
        id: { anyOf: [{ type: 'string', minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' }, { type: 'integer', minimum: 0 }, { type: 'null' }] },
        ram: int(1), vcpus: int(1), disk: int(0), 'OS-FLV-EXT-DATA:ephemeral': int(0),
        swap: { anyOf: [int(0), { type: 'string', enum: [''] }] },
        rxtx_factor: { type: ['number', 'string'] },
        'os-flavor-access:is_public': { type: ['boolean', 'string'] },
        description: DESCRIPTION,
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

const UPDATE_SCHEMA = {
  type: 'object', required: ['flavor'],
  properties: { flavor: { type: 'object', required: ['description'], properties: { description: DESCRIPTION }, additionalProperties: false } },
  additionalProperties: false,
} as const;

// Extra specs have Nova's metadata shape, as the catalog's `set-specs` verb carries them.
const SPECS = MetadataMap();

/** Nova's sort keys for flavors that novact has. */
const SORT: Record<string, (f: Flavor) => string | number> = {
  flavorid: (f) => f.id, id: (f) => f.id, name: (f) => f.name, memory_mb: (f) => f.memoryMb, vcpus: (f) => f.vcpus,
  root_gb: (f) => f.diskGb, ephemeral_gb: (f) => f.ephemeralGb, swap: (f) => f.swapMb,
};

function flavorLinks(f: Flavor, links: Links) {
  return links.compLinks(`/flavors/${f.id}`);
}

export function flavorBrief(f: Flavor, mv: Microversion, links: Links): Record<string, unknown> {
  const out: Record<string, unknown> = { id: f.id, name: f.name, links: flavorLinks(f, links) };
  if (atLeast(mv, 55)) out.description = f.description ?? null;
  return out;
}

export function flavorDetail(f: Flavor, mv: Microversion, links: Links): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: f.id, name: f.name, ram: f.memoryMb, disk: f.diskGb, vcpus: f.vcpus, 'OS-FLV-EXT-DATA:ephemeral': f.ephemeralGb,
    'OS-FLV-DISABLED:disabled': false, swap: atLeast(mv, 75) ? f.swapMb : f.swapMb || '', rxtx_factor: 1.0, 'os-flavor-access:is_public': f.isPublic,
    links: flavorLinks(f, links),
  };
  if (atLeast(mv, 55)) out.description = f.description ?? null;
  if (atLeast(mv, 61)) out.extra_specs = f.extraSpecs;
  return out;
}

/** Nova's rule: a private flavor is for admins and the projects on its access list. */
export function flavorVisible(f: Flavor, auth: Pick<AuthContext, 'isAdmin' | 'projectId'>): boolean {
  return f.isPublic || auth.isAdmin || (f.projects ?? []).includes(auth.projectId);
}

const truthy = (v: string) => ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.toLowerCase());

function listed(req: FastifyRequest, auth: AuthContext, all: Flavor[]): Flavor[] {
  const p = query(req);
  // Nova: public flavors (and the private ones the project may use) by default; an admin may ask
  // for `is_public=none` (all) or false.
  const isPublic = one(p.is_public);
  const mine = (f: Flavor) => f.isPublic || (f.projects ?? []).includes(auth.projectId);
  let out = all.filter((f) => {
    if (!auth.isAdmin || isPublic === undefined) return mine(f);
    if (isPublic.toLowerCase() === 'none') return true;
    return f.isPublic === truthy(isPublic);
  });
  for (const [name, get] of [['minRam', (f: Flavor) => f.memoryMb], ['minDisk', (f: Flavor) => f.diskGb]] as const) {
    const v = one(p[name]);
    if (v === undefined) continue;
    if (!/^\d{1,10}$/.test(v)) throw badRequest(`Invalid ${name} filter [${v}]`);
    out = out.filter((f) => get(f) >= Number(v));
  }
  const key = one(p.sort_key) ?? 'flavorid';
  const dir = one(p.sort_dir) ?? 'asc';
  const by = SORT[key];
  if (!by || (dir !== 'asc' && dir !== 'desc')) throw badRequest(`Invalid sort_key or sort_dir: ${key} ${dir}`);
  out.sort((a, b) => {
    const x = by(a);
    const y = by(b);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return (dir === 'asc' ? c : -c) || a.id.localeCompare(b.id);
  });
  const marker = one(p.marker);
  if (marker !== undefined) {
    const i = out.findIndex((f) => f.id === marker);
    if (i < 0) throw badRequest(`marker [${marker}] not found`);
    out = out.slice(i + 1);
  }
  const limit = parseLimit(one(p.limit));
  return limit === undefined ? out : out.slice(0, limit);
}

export function flavorRoutes(d: ApiDeps): Route[] {
  const { backend, links } = d;

  const visibleFlavor = async (auth: AuthContext, id: string): Promise<Flavor> => {
    const f = await backend.flavor(id).catch((err) => {
      if (err instanceof NotFoundError) throw notFound(`Flavor ${id} could not be found.`);
      throw err;
    });
    // The catalog also finds flavors by name; the API, like Nova, by id only.
    if (f.id !== id || !flavorVisible(f, auth)) throw notFound(`Flavor ${id} could not be found.`);
    return f;
  };

  return [
    {
      method: 'GET', url: '/v2.1/flavors', policy: reader('os_compute_api:flavors:index'),
      handler: async (req) => ({ flavors: listed(req, authOf(req), await backend.flavors()).map((f) => flavorBrief(f, req.microversion, links)) }),
    },
    {
      method: 'GET', url: '/v2.1/flavors/detail', policy: reader('os_compute_api:flavors:detail'),
      handler: async (req) => ({ flavors: listed(req, authOf(req), await backend.flavors()).map((f) => flavorDetail(f, req.microversion, links)) }),
    },
    {
      method: 'GET', url: '/v2.1/flavors/:id', policy: reader('os_compute_api:flavors:show'),
      handler: async (req) => ({ flavor: flavorDetail(await visibleFlavor(authOf(req), param(req, 'id')), req.microversion, links) }),
    },
    {
      method: 'POST', url: '/v2.1/flavors', policy: admin('os_compute_api:os-flavor-manage:create'), schema: { body: CREATE_SCHEMA },
      handler: async (req) => {
        const f = (req.body as { flavor: Record<string, unknown> }).flavor;
        if (f.rxtx_factor !== undefined && Number(f.rxtx_factor) !== 1) throw badRequest('rxtx_factor other than 1.0 is not supported by novact.');
        if (f.description !== undefined && !atLeast(req.microversion, 55)) throw badRequest("Additional properties are not allowed ('description' was unexpected)");
        const pub = f['os-flavor-access:is_public'];
        if (typeof pub === 'string' && !['true', 'false', 'True', 'False', '1', '0'].includes(pub)) throw badRequest(`Invalid input for field/attribute os-flavor-access:is_public. Value: ${pub}.`);
        const body: Record<string, unknown> = {
          name: f.name, vcpus: Number(f.vcpus), memoryMb: Number(f.ram), diskGb: Number(f.disk),
          ephemeralGb: Number(f['OS-FLV-EXT-DATA:ephemeral'] ?? 0), swapMb: f.swap === undefined || f.swap === '' ? 0 : Number(f.swap), isPublic: pub === undefined ? true : pub === true || truthy(String(pub)),
        };
        if (f.id !== undefined && f.id !== null) body.id = String(f.id);
        if (f.description !== undefined) body.description = f.description;
        if ([body.vcpus, body.memoryMb, body.diskGb, body.ephemeralGb, body.swapMb].some((n) => (n as number) > MAX_INT)) throw badRequest('Flavor values must be at most 2147483647.');
        return { flavor: flavorDetail(await backend.createFlavor(body, req.id), req.microversion, links) };
      },
    },
    {
      method: 'PUT', url: '/v2.1/flavors/:id', policy: admin('os_compute_api:os-flavor-manage:update'), schema: { body: UPDATE_SCHEMA },
      handler: async (req) => {
        if (!atLeast(req.microversion, 55)) throw notFound();
        const id = param(req, 'id');
        await visibleFlavor(authOf(req), id);
        const { description } = (req.body as { flavor: { description: string | null } }).flavor;
        return { flavor: flavorDetail(await backend.updateFlavor(id, description, req.id), req.microversion, links) };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/flavors/:id', policy: admin('os_compute_api:os-flavor-manage:delete'),
      handler: async (req, reply) => {
        const id = param(req, 'id');
        await visibleFlavor(authOf(req), id);
        await backend.deleteFlavor(id, req.id);
        return reply.code(202).send();
      },
    },
    {
      method: 'GET', url: '/v2.1/flavors/:id/os-extra_specs', policy: reader('os_compute_api:os-flavor-extra-specs:index'),
      handler: async (req) => ({ extra_specs: (await visibleFlavor(authOf(req), param(req, 'id'))).extraSpecs }),
    },
    {
      method: 'POST', url: '/v2.1/flavors/:id/os-extra_specs', policy: admin('os_compute_api:os-flavor-extra-specs:create'),
      schema: { body: Closed({ extra_specs: SPECS }) },
      handler: async (req) => {
        const id = param(req, 'id');
        const specs = (req.body as { extra_specs: Record<string, string> }).extra_specs;
        await visibleFlavor(authOf(req), id);
        await backend.setFlavorSpecs(id, specs, req.id);
        return { extra_specs: specs };
      },
    },
    {
      method: 'GET', url: '/v2.1/flavors/:id/os-extra_specs/:key', policy: reader('os_compute_api:os-flavor-extra-specs:show'),
      handler: async (req) => {
        const id = param(req, 'id');
        const key = param(req, 'key');
        const f = await visibleFlavor(authOf(req), id);
        if (!Object.hasOwn(f.extraSpecs, key)) throw notFound(`Flavor ${id} has no extra specs with key ${key}.`);
        return { [key]: f.extraSpecs[key] };
      },
    },
    {
      method: 'PUT', url: '/v2.1/flavors/:id/os-extra_specs/:key', policy: admin('os_compute_api:os-flavor-extra-specs:update'),
      schema: { body: MetadataMap({ minProperties: 1, maxProperties: 1 }) },
      handler: async (req) => {
        const id = param(req, 'id');
        const key = param(req, 'key');
        const body = req.body as Record<string, string>;
        if (!Object.hasOwn(body, key)) throw badRequest('Request body and URI mismatch');
        await visibleFlavor(authOf(req), id);
        await backend.setFlavorSpecs(id, { [key]: body[key]! }, req.id);
        return { [key]: body[key] };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/flavors/:id/os-extra_specs/:key', policy: admin('os_compute_api:os-flavor-extra-specs:delete'),
      handler: async (req, reply) => {
        const id = param(req, 'id');
        await visibleFlavor(authOf(req), id);
        await backend.unsetFlavorSpec(id, param(req, 'key'), req.id);
        return reply.code(200).send();
      },
    },
  ];
}
