/**
 * Keystone v3 regions, services and endpoints: the catalog's rows (catalog.ts). Changing them
 * changes the catalog in every new token and `GET /v3/auth/catalog`. Anyone may read them (clients
 * discover services); changing them is an admin's.
 */
import type { EndpointInterface } from '../../../runtime/db/entities/index.js';
import { badRequest, conflict, notFound } from '../faults.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import type { IdentityDeps } from './auth-routes.js';
import { INTERFACES } from './catalog.js';
import { newId } from './ids.js';
import { LONG_NAME, TEXT } from './schemas.js';
import { collectionLinks, endpointView, regionView, serviceView } from './views.js';

const REGION_ID = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f/]+$' } as const;
const URL = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^[^\\x00-\\x20\\x7f]+$' } as const;

// The CLI sends `enabled` with a new region (Keystone keeps it as an extra attribute; it means nothing here).
const REGION_FIELDS = { description: TEXT, parent_region_id: { ...REGION_ID, type: ['string', 'null'] }, enabled: { type: 'boolean' } } as const;
const REGION_SCHEMA = { type: 'object', required: ['region'], properties: { region: { type: 'object', properties: { id: REGION_ID, ...REGION_FIELDS }, additionalProperties: false } } } as const;
const REGION_UPDATE_SCHEMA = { type: 'object', required: ['region'], properties: { region: { type: 'object', properties: REGION_FIELDS, additionalProperties: false } } } as const;

const SERVICE_FIELDS = { type: LONG_NAME, name: { type: 'string', maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]*$' }, description: TEXT, enabled: { type: 'boolean' } } as const;
const SERVICE_SCHEMA = { type: 'object', required: ['service'], properties: { service: { type: 'object', required: ['type'], properties: SERVICE_FIELDS, additionalProperties: false } } } as const;
const SERVICE_UPDATE_SCHEMA = { type: 'object', required: ['service'], properties: { service: { type: 'object', properties: SERVICE_FIELDS, additionalProperties: false } } } as const;

const ENDPOINT_FIELDS = {
  service_id: { type: 'string', minLength: 1, maxLength: 64 }, interface: { type: 'string', enum: INTERFACES }, url: URL,
  region_id: { ...REGION_ID, type: ['string', 'null'] }, region: { ...REGION_ID, type: ['string', 'null'] }, enabled: { type: 'boolean' },
} as const;
const ENDPOINT_SCHEMA = { type: 'object', required: ['endpoint'], properties: { endpoint: { type: 'object', required: ['service_id', 'interface', 'url'], properties: ENDPOINT_FIELDS, additionalProperties: false } } } as const;
const ENDPOINT_UPDATE_SCHEMA = { type: 'object', required: ['endpoint'], properties: { endpoint: { type: 'object', properties: ENDPOINT_FIELDS, additionalProperties: false } } } as const;

interface EndpointBody {
  service_id?: string;
  interface?: EndpointInterface;
  url?: string;
  region_id?: string | null;
  region?: string | null;
  enabled?: boolean;
}

export function catalogRoutes(d: IdentityDeps): Route[] {
  const { identity, links } = d;
  const store = identity.catalog;

  const regionOr404 = async (id: string) => {
    const r = await store.region(id);
    if (!r) throw notFound(`Could not find region: ${id}.`);
    return r;
  };
  const serviceOr404 = async (id: string) => {
    const s = await store.service(id);
    if (!s) throw notFound(`Could not find service: ${id}.`);
    return s;
  };
  const endpointOr404 = async (id: string) => {
    const e = await store.endpoint(id);
    if (!e) throw notFound(`Could not find endpoint: ${id}.`);
    return e;
  };
  /** A named region must exist, as a named parent region must (Keystone's 400s). */
  const checkRegion = async (id: string | null | undefined, what = 'region') => {
    if (id && !(await store.region(id))) throw badRequest(`Could not find ${what}: ${id}.`);
  };
  const createRegion = async (id: string, b: { description?: string | null; parent_region_id?: string | null }) => {
    await checkRegion(b.parent_region_id, 'parent region');
    const row = { id, description: b.description ?? '', parentRegionId: b.parent_region_id ?? null };
    if (!(await store.createRegion(row))) throw conflict(`Conflict occurred attempting to store region - Duplicate ID, ${id}.`);
    return { region: regionView(row, links) };
  };
  const endpointRegion = (b: EndpointBody) => (b.region_id !== undefined ? b.region_id : b.region);

  return [
    {
      method: 'GET', url: '/v3/regions', policy: reader('identity:list_regions'),
      handler: async (req) => {
        const parent = one(query(req).parent_region_id);
        return { regions: (await store.regions(parent !== undefined ? { parentRegionId: parent } : {})).map((r) => regionView(r, links)), links: collectionLinks(links, '/regions') };
      },
    },
    { method: 'GET', url: '/v3/regions/:region', policy: reader('identity:get_region'), handler: async (req) => ({ region: regionView(await regionOr404(param(req, 'region')), links) }) },
    {
      method: 'POST', url: '/v3/regions', policy: admin('identity:create_region'), schema: { body: REGION_SCHEMA },
      handler: async (req, reply) => {
        const b = (req.body as { region: { id?: string; description?: string | null; parent_region_id?: string | null } }).region;
        const out = await createRegion(b.id ?? newId(), b);
        reply.code(201);
        return out;
      },
    },
    {
      method: 'PUT', url: '/v3/regions/:region', policy: admin('identity:create_region'), schema: { body: REGION_UPDATE_SCHEMA },
      handler: async (req, reply) => {
        const out = await createRegion(param(req, 'region'), (req.body as { region: { description?: string | null; parent_region_id?: string | null } }).region);
        reply.code(201);
        return out;
      },
    },
    {
      method: 'PATCH', url: '/v3/regions/:region', policy: admin('identity:update_region'), schema: { body: REGION_UPDATE_SCHEMA },
      handler: async (req) => {
        const id = param(req, 'region');
        await regionOr404(id);
        const b = (req.body as { region: { description?: string | null; parent_region_id?: string | null } }).region;
        if (b.parent_region_id === id) throw badRequest('A region cannot be its own parent.');
        await checkRegion(b.parent_region_id, 'parent region');
        const r = await store.updateRegion(id, { ...(b.description !== undefined ? { description: b.description ?? '' } : {}), ...(b.parent_region_id !== undefined ? { parentRegionId: b.parent_region_id } : {}) });
        return { region: regionView(r!, links) };
      },
    },
    {
      method: 'DELETE', url: '/v3/regions/:region', policy: admin('identity:delete_region'),
      handler: async (req, reply) => {
        const id = param(req, 'region');
        const r = await store.deleteRegion(id);
        if (r === 'missing') throw notFound(`Could not find region: ${id}.`);
        if (r === 'in-use') throw conflict(`Region ${id} still has endpoints or child regions.`);
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/v3/services', policy: reader('identity:list_services'),
      handler: async (req) => {
        const q = query(req);
        const list = await store.services({ ...(one(q.type) !== undefined ? { type: one(q.type)! } : {}), ...(one(q.name) !== undefined ? { name: one(q.name)! } : {}) });
        return { services: list.map((s) => serviceView(s, links)), links: collectionLinks(links, '/services') };
      },
    },
    { method: 'GET', url: '/v3/services/:service', policy: reader('identity:get_service'), handler: async (req) => ({ service: serviceView(await serviceOr404(param(req, 'service')), links) }) },
    {
      method: 'POST', url: '/v3/services', policy: admin('identity:create_service'), schema: { body: SERVICE_SCHEMA },
      handler: async (req, reply) => {
        const b = (req.body as { service: { type: string; name?: string; description?: string | null; enabled?: boolean } }).service;
        const s = await store.createService({ id: newId(), type: b.type, name: b.name ?? '', description: b.description ?? null, enabled: b.enabled ?? true });
        reply.code(201);
        return { service: serviceView(s, links) };
      },
    },
    {
      method: 'PATCH', url: '/v3/services/:service', policy: admin('identity:update_service'), schema: { body: SERVICE_UPDATE_SCHEMA },
      handler: async (req) => {
        const id = param(req, 'service');
        await serviceOr404(id);
        const b = (req.body as { service: { type?: string; name?: string; description?: string | null; enabled?: boolean } }).service;
        const s = await store.updateService(id, Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)));
        return { service: serviceView(s!, links) };
      },
    },
    {
      method: 'DELETE', url: '/v3/services/:service', policy: admin('identity:delete_service'),
      handler: async (req, reply) => {
        const id = param(req, 'service');
        if (!(await store.deleteService(id))) throw notFound(`Could not find service: ${id}.`);
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/v3/endpoints', policy: reader('identity:list_endpoints'),
      handler: async (req) => {
        const q = query(req);
        const iface = one(q.interface);
        const list = await store.endpoints({
          ...(one(q.service_id) !== undefined ? { serviceId: one(q.service_id)! } : {}), ...(iface !== undefined ? { interface: iface } : {}),
          ...(one(q.region_id) !== undefined ? { regionId: one(q.region_id)! } : {}),
        });
        return { endpoints: list.map((e) => endpointView(e, links)), links: collectionLinks(links, '/endpoints') };
      },
    },
    { method: 'GET', url: '/v3/endpoints/:endpoint', policy: reader('identity:get_endpoint'), handler: async (req) => ({ endpoint: endpointView(await endpointOr404(param(req, 'endpoint')), links) }) },
    {
      method: 'POST', url: '/v3/endpoints', policy: admin('identity:create_endpoint'), schema: { body: ENDPOINT_SCHEMA },
      handler: async (req, reply) => {
        const b = (req.body as { endpoint: EndpointBody & { service_id: string; interface: EndpointInterface; url: string } }).endpoint;
        if (!(await store.service(b.service_id))) throw badRequest(`Could not find service: ${b.service_id}.`);
        const region = endpointRegion(b) ?? null;
        await checkRegion(region);
        const e = await store.createEndpoint({ id: newId(), serviceId: b.service_id, interface: b.interface, regionId: region, url: b.url, enabled: b.enabled ?? true });
        reply.code(201);
        return { endpoint: endpointView(e, links) };
      },
    },
    {
      method: 'PATCH', url: '/v3/endpoints/:endpoint', policy: admin('identity:update_endpoint'), schema: { body: ENDPOINT_UPDATE_SCHEMA },
      handler: async (req) => {
        const id = param(req, 'endpoint');
        await endpointOr404(id);
        const b = (req.body as { endpoint: EndpointBody }).endpoint;
        if (b.service_id !== undefined && !(await store.service(b.service_id))) throw badRequest(`Could not find service: ${b.service_id}.`);
        const region = endpointRegion(b);
        await checkRegion(region);
        const e = await store.updateEndpoint(id, {
          ...(b.service_id !== undefined ? { serviceId: b.service_id } : {}), ...(b.interface !== undefined ? { interface: b.interface } : {}),
          ...(b.url !== undefined ? { url: b.url } : {}), ...(region !== undefined ? { regionId: region } : {}), ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
        });
        return { endpoint: endpointView(e!, links) };
      },
    },
    {
      method: 'DELETE', url: '/v3/endpoints/:endpoint', policy: admin('identity:delete_endpoint'),
      handler: async (req, reply) => {
        const id = param(req, 'endpoint');
        if (!(await store.deleteEndpoint(id))) throw notFound(`Could not find endpoint: ${id}.`);
        return reply.code(204).send();
      },
    },
  ];
}
