/**
 * Servers: list (`GET /servers`), detail (`/servers/detail`), show, update (`PUT`: name, access
 * addresses, `description` from 2.19, `hostname` from 2.90), delete (204).
 * Listings page with `limit`/`marker` and answer `servers_links` with a `next` link when a page is
 * full, as Nova does.
 */
import { NetInstanceMatchIps } from '../../../protocols/catalog/network.js';
import type { FastifyRequest } from 'fastify';
import type { ServerView } from '../../../protocols/messages.js';
import { NAME_PATTERN } from '../../../protocols/text.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { member, reader } from '../policy.js';
import { param, type Route } from '../routes.js';
import { atLeast } from '../microversion.js';
import { createServerRoute } from './server-create.js';
import { DESCRIPTION, FIELD_VERSIONS, HOSTNAME, refuseNewerFields } from './server-field-rules.js';
import { serverListParams } from './server-filters.js';
import { flavorSpecs, visibleServer } from './server-lookup.js';
import { serverBrief, serverDetail, serverUpdateView, type ServerViewContext } from './server-views.js';

/** `PUT /servers/{id}` body → the instance actor's `update` fields. */
function updateBody(b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['name', 'hostname', 'accessIPv4', 'accessIPv6'] as const) if (typeof b[k] === 'string') out[k] = b[k];
  if (typeof b.description === 'string') out.description = b.description;
  else if (b.description === null) out.clearDescription = true;
  return out;
}

const UPDATE_SCHEMA = {
  type: 'object',
  required: ['server'],
  properties: {
    server: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: NAME_PATTERN },
        description: DESCRIPTION,
        accessIPv4: { type: 'string', format: 'ipv4' },
        accessIPv6: { type: 'string', format: 'ipv6' },
        hostname: HOSTNAME,
        'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

export function serverRoutes(d: ApiDeps): Route[] {
  const { backend, links } = d;

  const viewContext = async (req: FastifyRequest, ids: string[]): Promise<ServerViewContext> => {
    const v: ServerViewContext = { mv: req.microversion, auth: authOf(req), links };
    const [specs, nics] = await Promise.all([atLeast(req.microversion, 47) ? flavorSpecs(backend) : undefined, backend.nics(ids)]);
    if (specs) v.flavorSpecs = specs;
    v.nics = nics;
    return v;
  };

  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const auth = authOf(req);
    const { q, limit, matchesNothing, ips } = serverListParams(req, auth, detail);
    if (ips && !matchesNothing) {
      const by = { projectId: q.projectId ?? auth.projectId, userId: auth.userId, isAdmin: auth.isAdmin && q.projectId === undefined };
      q.uuids = (await backend.serverNetworking(NetInstanceMatchIps, { by, ...ips })).instanceIds;
    }
    const servers: ServerView[] = matchesNothing || q.uuids?.length === 0 ? [] : await backend.servers(q);
    const out: Record<string, unknown> = {};
    if (detail) {
      const v = await viewContext(req, servers.map((s) => s.id));
      out.servers = servers.map((s) => serverDetail(s, v));
    } else {
      out.servers = servers.map((s) => serverBrief(s, links));
    }
    const last = servers[servers.length - 1];
    if (last && servers.length >= limit) {
      const next = new URLSearchParams(req.query as Record<string, string>);
      next.set('limit', String(limit));
      next.set('marker', last.id);
      out.servers_links = [{ rel: 'next', href: `${links.compute}/servers${detail ? '/detail' : ''}?${next.toString()}` }];
    }
    return out;
  };

  return [
    { method: 'GET', url: '/v2.1/servers', policy: reader('os_compute_api:servers:index'), handler: list(false) },
    { method: 'GET', url: '/v2.1/servers/detail', policy: reader('os_compute_api:servers:detail'), handler: list(true) },
    createServerRoute(d),
    {
      method: 'GET', url: '/v2.1/servers/:id', policy: reader('os_compute_api:servers:show'),
      handler: async (req) => {
        const s = await visibleServer(backend, authOf(req), param(req, 'id'));
        return { server: serverDetail(s, await viewContext(req, [s.id])) };
      },
    },
    {
      method: 'PUT', url: '/v2.1/servers/:id', policy: member('os_compute_api:servers:update'), schema: { body: UPDATE_SCHEMA },
      handler: async (req) => {
        const s = await visibleServer(backend, authOf(req), param(req, 'id'));
        const b = (req.body as { server: Record<string, unknown> }).server;
        refuseNewerFields(req.microversion, 'server', b, FIELD_VERSIONS);
        const change = updateBody(b);
        const updated = Object.keys(change).length > 0 ? await backend.serverVerb(s.id, 'update', change, req.id) : s;
        return { server: serverUpdateView(updated, await viewContext(req, [updated.id])) };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/servers/:id', policy: member('os_compute_api:servers:delete'),
      handler: async (req, reply) => {
        const auth = authOf(req);
        const s = await visibleServer(backend, auth, param(req, 'id'));
        await backend.serverVerb(s.id, 'delete', { by: { userId: auth.userId, projectId: auth.projectId, admin: auth.isAdmin } }, req.id);
        return reply.code(204).send();
      },
    },
  ];
}
