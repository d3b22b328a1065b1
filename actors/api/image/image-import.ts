/**
 * Glance's interoperable import under `/image/v2`: `POST /images/{id}/import` (202; the image's
 * actor checks the status and the work goes on in the background), `GET /info/import` (the methods)
 * and `GET /info/stores` (the named stores, the default marked). Data is staged by `PUT …/stage`
 * (image-data.ts). `copy-image` is an admin's (Glance's `copy_image` default); the other methods
 * are the owner's. The methods and stores are the cluster's configuration: asked once, then kept.
 */
import type { FastifyRequest } from 'fastify';
import { importJob } from '../../../protocols/image-import.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { forbidden } from '../faults.js';
import { member, reader } from '../policy.js';
import { param, type Route } from '../routes.js';
import { owns, visibleImage } from './images.js';
import { importInfo } from './import-info.js';

function withLegacyStore(req: FastifyRequest): unknown {
  const body = req.body as Record<string, unknown>;
  const header = req.headers['x-image-meta-store'];
  // Glance's older way to name one store; the body's own choice wins.
  if (typeof header === 'string' && body && typeof body === 'object' && body.stores === undefined && body.all_stores === undefined) return { ...body, stores: [header] };
  return body;
}

export function imageImportRoutes(d: ApiDeps): Route[] {
  return [
    {
      method: 'POST', url: '/image/v2/images/:id/import', policy: member('import_image'), schema: { body: { type: 'object' } },
      handler: async (req, reply) => {
        const auth = authOf(req);
        const m = await visibleImage(d, auth, param(req, 'id'));
        const info = await importInfo(d);
        const store = info.stores.find((s) => s.default)?.id ?? info.stores[0]!.id;
        const job = importJob(withLegacyStore(req), info.stores.map((s) => s.id), store);
        if (job.method === 'copy-image' ? !auth.isAdmin : !owns(auth, m)) throw forbidden(`You are not authorized to complete ${job.method === 'copy-image' ? 'copy_image' : 'modify_image'} action.`);
        await d.backend.imageImport(m.id, { ...job, quotaBytes: d.imageQuotas.userStorageQuotaBytes }, req.id);
        return reply.code(202).send();
      },
    },
    {
      method: 'GET', url: '/image/v2/info/import', policy: reader('get_import_info'),
      handler: async () => ({ 'import-methods': { description: 'Import methods available.', type: 'array', value: (await importInfo(d)).importMethods } }),
    },
    {
      method: 'GET', url: '/image/v2/info/stores', policy: reader('get_stores'),
      handler: async () => ({ stores: (await importInfo(d)).stores }),
    },
  ];
}
