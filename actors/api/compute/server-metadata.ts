/**
 * Server metadata (`/servers/{id}/metadata[/{key}]`): read, replace all (PUT), merge (POST), set or
 * delete one key. Changes run in the instance's actor (no lost updates between concurrent calls) and
 * count against the project's `metadata_items` quota (403 when exceeded, as Nova).
 */
import { Closed, MetadataMap } from '../../../protocols/catalog/common.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { member, reader } from '../policy.js';
import { param, type Route } from '../routes.js';
import { visibleServer } from './server-lookup.js';

// The catalog's metadata map (the instance `update` verb carries the same); the count is the quota's.
const METADATA_SCHEMA = Closed({ metadata: MetadataMap() });
const META_SCHEMA = Closed({ meta: MetadataMap({ minProperties: 1, maxProperties: 1 }) });

export function serverMetadataRoutes(d: ApiDeps): Route[] {
  const { backend } = d;
  const change = async (req: Parameters<Route['handler']>[0], body: Record<string, unknown>) => {
    const auth = authOf(req);
    const s = await visibleServer(backend, auth, param(req, 'id'));
    const limits = await d.quotas.limits(auth.projectId);
    // A body alone over the quota is Nova's 403 here, before the instance's own checks see it.
    const given = Object.keys((body.setMetadata ?? body.mergeMetadata ?? {}) as object).length;
    if (limits.metadata_items >= 0 && given > limits.metadata_items) {
      throw forbidden(`Quota exceeded for metadata_items: Requested ${given}, but the limit is ${limits.metadata_items}.`);
    }
    return backend.serverVerb(s.id, 'update', { ...body, maxMetadataItems: limits.metadata_items }, req.id);
  };
  return [
    {
      method: 'GET', url: '/v2.1/servers/:id/metadata', policy: reader('os_compute_api:server-metadata:index'),
      handler: async (req) => ({ metadata: (await visibleServer(backend, authOf(req), param(req, 'id'))).metadata }),
    },
    {
      method: 'PUT', url: '/v2.1/servers/:id/metadata', policy: member('os_compute_api:server-metadata:update_all'), schema: { body: METADATA_SCHEMA },
      handler: async (req) => ({ metadata: (await change(req, { setMetadata: (req.body as { metadata: Record<string, string> }).metadata })).metadata }),
    },
    {
      method: 'POST', url: '/v2.1/servers/:id/metadata', policy: member('os_compute_api:server-metadata:create'), schema: { body: METADATA_SCHEMA },
      handler: async (req) => ({ metadata: (await change(req, { mergeMetadata: (req.body as { metadata: Record<string, string> }).metadata })).metadata }),
    },
    {
      method: 'GET', url: '/v2.1/servers/:id/metadata/:key', policy: reader('os_compute_api:server-metadata:show'),
      handler: async (req) => {
        const s = await visibleServer(backend, authOf(req), param(req, 'id'));
        const key = param(req, 'key');
        if (!Object.hasOwn(s.metadata, key)) throw notFound('Metadata item was not found');
        return { meta: { [key]: s.metadata[key] } };
      },
    },
    {
      method: 'PUT', url: '/v2.1/servers/:id/metadata/:key', policy: member('os_compute_api:server-metadata:update'), schema: { body: META_SCHEMA },
      handler: async (req) => {
        const key = param(req, 'key');
        const meta = (req.body as { meta: Record<string, string> }).meta;
        if (!Object.hasOwn(meta, key)) throw badRequest('Request body and URI mismatch');
        const s = await change(req, { mergeMetadata: meta });
        return { meta: { [key]: s.metadata[key] } };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/servers/:id/metadata/:key', policy: member('os_compute_api:server-metadata:delete'),
      handler: async (req, reply) => {
        await change(req, { deleteMetadataKey: param(req, 'key') });
        return reply.code(204).send();
      },
    },
  ];
}
