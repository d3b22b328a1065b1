/**
 * Glance's metadata definitions catalog under `/image/v2/metadefs`: namespaces (201 create, PUT
 * update, 204 delete; 403 for a protected one), their objects, property definitions, tags and
 * resource type associations, and the resource types. Reads by anyone who sees the namespace
 * (public, or private to its owner's project: another project's private one is a 404); changes by
 * admins, Glance's default (`metadef_admin`). The image role holds and changes the documents.
 */
import type { FastifyRequest } from 'fastify';
import type { MetadefChange, MetadefKind, MetadefNamespace } from '../../../protocols/image-metadefs.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { glanceTime } from './image-views.js';

const BASE = '/image/v2/metadefs/namespaces';
const self = (ns: string) => `/v2/metadefs/namespaces/${ns}`;
const stamps = <T extends { created_at: string; updated_at: string }>(x: T): T => ({ ...x, created_at: glanceTime(x.created_at), updated_at: glanceTime(x.updated_at) });
const nonEmpty = (o: Record<string, unknown>) => Object.keys(o).length > 0;

function namespaceView(ns: MetadefNamespace, detail: boolean): Record<string, unknown> {
  const { objects, properties, tags, resource_type_associations: rta, ...own } = ns;
  const out: Record<string, unknown> = { ...stamps(own), schema: '/v2/schemas/metadefs/namespace', self: self(ns.namespace) };
  if (nonEmpty(rta)) out.resource_type_associations = Object.values(rta).map(stamps);
  if (!detail) return out;
  if (nonEmpty(properties)) out.properties = properties;
  if (nonEmpty(objects)) out.objects = Object.values(objects).map((o) => objectView(ns.namespace, o));
  if (nonEmpty(tags)) out.tags = Object.values(tags).map((t) => ({ name: t.name }));
  return out;
}

function objectView(ns: string, o: MetadefNamespace['objects'][string]): Record<string, unknown> {
  return { ...stamps(o), schema: '/v2/schemas/metadefs/object', self: `${self(ns)}/objects/${o.name}` };
}

/** What each kind's single item looks like in a reply. */
const ITEM_VIEW: Record<MetadefKind, (ns: string, item: any) => unknown> = {
  object: objectView,
  property: (_ns, p) => p,
  tag: (_ns, t) => stamps(t),
  association: (_ns, a) => stamps(a),
};

function listQuery(req: FastifyRequest) {
  const p = query(req);
  const out: { limit?: number; marker?: string; visibility?: 'public' | 'private'; resourceTypes?: string[] } = {};
  const limit = one(p.limit);
  if (limit !== undefined) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1) throw badRequest('limit param must be a positive integer');
    out.limit = Math.min(Number(limit), 1000);
  }
  const marker = one(p.marker);
  if (marker !== undefined) out.marker = marker;
  const vis = one(p.visibility);
  if (vis !== undefined) {
    if (vis !== 'public' && vis !== 'private') throw badRequest(`Invalid visibility value: ${vis}`);
    out.visibility = vis;
  }
  const rt = one(p.resource_types);
  if (rt !== undefined) out.resourceTypes = rt.split(',').map((s) => s.trim()).filter((s) => s.length > 0).slice(0, 16);
  return out;
}

export function metadefRoutes(d: ApiDeps): Route[] {
  const viewer = (req: FastifyRequest) => {
    const a = authOf(req);
    return { projectId: a.projectId, isAdmin: a.isAdmin };
  };
  const getNs = async (req: FastifyRequest) =>
    (await d.backend.metadefs<{ namespace: MetadefNamespace }>({ op: 'get', viewer: viewer(req), namespace: param(req, 'ns') }, req.id)).namespace;
  const change = (req: FastifyRequest, c: MetadefChange, namespace = param(req, 'ns')) =>
    d.backend.metadefs<{ namespace?: MetadefNamespace; item?: any }>({ op: 'change', viewer: viewer(req), namespace, change: c as never }, req.id);
  const body = (req: FastifyRequest) => req.body as unknown;

  /** The list, create, delete-all, show, update and delete routes of one kind inside a namespace. */
  const contents = (kind: 'object' | 'property' | 'tag', path: string, list: (ns: MetadefNamespace) => unknown): Route[] => {
    const item = `${BASE}/:ns/${path}/:name`;
    const itemOf = (ns: MetadefNamespace, name: string) => {
      const all = ns[({ object: 'objects', property: 'properties', tag: 'tags' } as const)[kind]] as Record<string, unknown>;
      if (!Object.hasOwn(all, name)) throw notFound(`Metadata definition ${kind} not found for namespace=${ns.namespace} and name=${name}`);
      return kind === 'property' ? { name, ...(all[name] as object) } : all[name];
    };
    return [
      { method: 'GET', url: `${BASE}/:ns/${path}`, policy: reader(`get_metadef_${path}`), handler: async (req) => list(await getNs(req)) },
      {
        method: 'DELETE', url: `${BASE}/:ns/${path}`, policy: admin(`delete_metadef_${path}`),
        handler: async (req, reply) => {
          await change(req, { action: 'delete-all', kind });
          return reply.code(204).send();
        },
      },
      {
        method: 'GET', url: item, policy: reader(`get_metadef_${kind}`),
        handler: async (req) => {
          const ns = await getNs(req);
          return ITEM_VIEW[kind](ns.namespace, itemOf(ns, param(req, 'name')));
        },
      },
      {
        method: 'PUT', url: item, policy: admin(`modify_metadef_${kind}`), schema: { body: { type: 'object' } },
        handler: async (req) => {
          const r = await change(req, { action: 'update', kind, name: param(req, 'name'), value: body(req) });
          return ITEM_VIEW[kind](r.namespace!.namespace, r.item);
        },
      },
      {
        method: 'DELETE', url: item, policy: admin(`delete_metadef_${kind}`),
        handler: async (req, reply) => {
          await change(req, { action: 'delete', kind, name: param(req, 'name') });
          return reply.code(204).send();
        },
      },
    ];
  };
  const create = (kind: MetadefKind, url: string, value: (req: FastifyRequest) => unknown): Route => ({
    method: 'POST', url, policy: admin(`add_metadef_${kind}`), ...(kind === 'tag' ? { body: 'none' as const } : { schema: { body: { type: 'object' } } }),
    handler: async (req, reply) => {
      const r = await change(req, { action: 'create', kind, value: value(req) });
      reply.code(201);
      return ITEM_VIEW[kind](r.namespace!.namespace, r.item);
    },
  });

  return [
    {
      method: 'GET', url: BASE, policy: reader('get_metadef_namespaces'),
      handler: async (req) => {
        const q = listQuery(req);
        const r = await d.backend.metadefs<{ namespaces: MetadefNamespace[] }>({ op: 'list', viewer: viewer(req), ...q }, req.id);
        const out: Record<string, unknown> = {
          namespaces: r.namespaces.map((n) => namespaceView(n, false)),
          first: '/v2/metadefs/namespaces', schema: '/v2/schemas/metadefs/namespaces',
        };
        const last = r.namespaces[r.namespaces.length - 1];
        if (last && q.limit !== undefined && r.namespaces.length >= q.limit) out.next = `/v2/metadefs/namespaces?marker=${encodeURIComponent(last.namespace)}&limit=${q.limit}`;
        return out;
      },
    },
    {
      method: 'POST', url: BASE, policy: admin('add_metadef_namespace'), schema: { body: { type: 'object' } },
      handler: async (req, reply) => {
        const ns = (body(req) as { namespace?: unknown }).namespace;
        const r = await change(req, { action: 'create-namespace', value: body(req) }, typeof ns === 'string' && ns.length > 0 && ns.length <= 80 ? ns : '-');
        reply.code(201).header('Location', `${d.links.image}${self(r.namespace!.namespace)}`);
        return namespaceView(r.namespace!, true);
      },
    },
    { method: 'GET', url: `${BASE}/:ns`, policy: reader('get_metadef_namespace'), handler: async (req) => namespaceView(await getNs(req), true) },
    {
      method: 'PUT', url: `${BASE}/:ns`, policy: admin('modify_metadef_namespace'), schema: { body: { type: 'object' } },
      handler: async (req) => namespaceView((await change(req, { action: 'update-namespace', value: body(req) })).namespace!, true),
    },
    {
      method: 'DELETE', url: `${BASE}/:ns`, policy: admin('delete_metadef_namespace'),
      handler: async (req, reply) => {
        await change(req, { action: 'delete-namespace' });
        return reply.code(204).send();
      },
    },
    ...contents('object', 'objects', (ns) => ({ objects: Object.values(ns.objects).map((o) => objectView(ns.namespace, o)), schema: '/v2/schemas/metadefs/objects' })),
    create('object', `${BASE}/:ns/objects`, body),
    ...contents('property', 'properties', (ns) => ({ properties: ns.properties })),
    create('property', `${BASE}/:ns/properties`, body),
    ...contents('tag', 'tags', (ns) => ({ tags: Object.values(ns.tags).map(stamps) })),
    create('tag', `${BASE}/:ns/tags/:name`, (req) => ({ name: param(req, 'name') })),
    {
      // Replaces every tag (or adds to them with `X-Openstack-Append: true`).
      method: 'POST', url: `${BASE}/:ns/tags`, policy: admin('add_metadef_tags'), schema: { body: { type: 'object' } },
      handler: async (req, reply) => {
        const append = String(req.headers['x-openstack-append'] ?? '').toLowerCase() === 'true';
        const r = await change(req, { action: 'replace-tags', value: body(req), append });
        reply.code(201);
        return r.item;
      },
    },
    {
      method: 'GET', url: `${BASE}/:ns/resource_types`, policy: reader('list_metadef_resource_types'),
      handler: async (req) => ({ resource_type_associations: Object.values((await getNs(req)).resource_type_associations).map(stamps) }),
    },
    create('association', `${BASE}/:ns/resource_types`, body),
    {
      method: 'DELETE', url: `${BASE}/:ns/resource_types/:name`, policy: admin('remove_metadef_resource_type_association'),
      handler: async (req, reply) => {
        await change(req, { action: 'delete', kind: 'association', name: param(req, 'name') });
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/image/v2/metadefs/resource_types', policy: reader('list_metadef_resource_types'),
      handler: async (req) => {
        const r = await d.backend.metadefs<{ resourceTypes: { name: string; created_at: string; updated_at: string }[] }>({ op: 'resource-types', viewer: viewer(req) }, req.id);
        return { resource_types: r.resourceTypes.map(stamps) };
      },
    },
  ];
}
