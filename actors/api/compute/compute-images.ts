/**
 * The compute API's image proxy (`/v2.1/images[/detail|/{id}]`, `/images/{id}/metadata[/{key}]`),
 * deprecated in Nova and gone above microversion 2.35 (404 there, as Nova's
 * MAX_PROXY_API_SUPPORT_VERSION), still used by Tempest's compute image tests. Answered from the
 * image role over NATS with Glance's visibility; changes go to the image's actor as JSON-patch ops,
 * by its owner only (403 otherwise); metadata counts against `metadata_items` (403 when over).
 */
import type { FastifyRequest } from 'fastify';
import { NotFoundError } from '../../../protocols/errors.js';
import type { ImageMeta } from '../../../protocols/resources.js';
import { isUuid } from '../../../protocols/validate.js';
import type { ImagePatchOp } from '../../../protocols/image-patch.js';
import { canSee, owns } from '../image/images.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { atLeast } from '../microversion.js';
import { member, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { computeImageBrief, computeImageDetail, GLANCE_STATUS } from './compute-image-views.js';
import { parseLimit } from './server-filters.js';

const MAX_PROXY_VERSION = 35;
const KEY = '^[a-zA-Z0-9-_:. ]{1,255}$';
const MAP = { type: 'object', patternProperties: { [KEY]: { type: 'string', maxLength: 255 } }, additionalProperties: false } as const;
const METADATA_SCHEMA = { type: 'object', required: ['metadata'], properties: { metadata: MAP }, additionalProperties: false } as const;
const META_SCHEMA = { type: 'object', required: ['meta'], properties: { meta: { ...MAP, minProperties: 1, maxProperties: 1 } }, additionalProperties: false } as const;

const imageNotFound = () => notFound('Image not found.');
const pointer = (key: string) => `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

export function computeImageRoutes(d: ApiDeps): Route[] {
  const { backend, links } = d;
  const proxied = (req: FastifyRequest) => {
    if (atLeast(req.microversion, MAX_PROXY_VERSION + 1)) throw notFound();
  };
  const visible = async (req: FastifyRequest): Promise<ImageMeta> => {
    proxied(req);
    const id = param(req, 'id');
    if (!isUuid(id)) throw imageNotFound();
    const m = await backend.image(id.toLowerCase()).catch((err) => {
      if (err instanceof NotFoundError) throw imageNotFound();
      throw err;
    });
    if (!canSee(authOf(req), m)) throw imageNotFound();
    return m;
  };
  const owned = async (req: FastifyRequest): Promise<ImageMeta> => {
    const m = await visible(req);
    if (!owns(authOf(req), m)) throw forbidden('You are not allowed to modify this image.');
    return m;
  };
  /** Applies `next` as the image's whole metadata (or merged into it), within the quota. */
  const setMetadata = async (req: FastifyRequest, m: ImageMeta, next: Record<string, string>, replace: boolean): Promise<ImageMeta> => {
    const result = replace ? next : { ...m.properties, ...next };
    const limits = await d.quotas.limits(authOf(req).projectId);
    const count = Object.keys(result).length;
    if (limits.metadata_items >= 0 && count > limits.metadata_items) {
      throw forbidden(`Quota exceeded for metadata_items: Requested ${count}, but the limit is ${limits.metadata_items}.`);
    }
    const ops: ImagePatchOp[] = [
      ...(replace ? Object.keys(m.properties).filter((k) => !Object.hasOwn(next, k)).map((k): ImagePatchOp => ({ op: 'remove', path: pointer(k) })) : []),
      ...Object.entries(next).map(([k, v]): ImagePatchOp => ({ op: 'add', path: pointer(k), value: v })),
    ];
    return ops.length === 0 ? m : backend.updateImage(m.id, { ops }, req.id);
  };
  /**
   * Nova's own filters of the proxy (server, type, minRam, minDisk), applied to the page Glance
   * answered: `server` may be the server's id or URL, `type` is the snapshot's `image_type`.
   */
  const nova = (p: Record<string, unknown>) => {
    const server = one(p.server as never)?.split('/').pop();
    const type = one(p.type as never);
    const minRam = Number(one(p.minRam as never) ?? 0);
    const minDisk = Number(one(p.minDisk as never) ?? 0);
    return (m: Awaited<ReturnType<typeof backend.images>>[number]) =>
      (server === undefined || m.properties.instance_uuid === server) &&
      (type === undefined || m.properties.image_type === type) &&
      (!(minRam > 0) || m.minRamMb >= minRam) && (!(minDisk > 0) || m.minDiskGb >= minDisk);
  };
  const list = (detail: boolean) => async (req: FastifyRequest) => {
    proxied(req);
    const auth = authOf(req);
    const p = query(req);
    const limit = parseLimit(one(p.limit)) ?? 1000;
    const q: Parameters<typeof backend.images>[0] = { viewer: { projectId: auth.projectId, isAdmin: auth.isAdmin }, limit };
    const marker = one(p.marker);
    if (marker !== undefined) q.marker = marker;
    const name = one(p.name);
    if (name !== undefined) q.name = name;
    const status = one(p.status);
    if (status !== undefined) q.status = GLANCE_STATUS[status.toUpperCase()] ?? status.toLowerCase();
    const images = (await backend.images(q)).filter(nova(p));
    const out: Record<string, unknown> = { images: images.map((m) => (detail ? computeImageDetail(m, links) : computeImageBrief(m, links))) };
    const last = images[images.length - 1];
    if (last && one(p.limit) !== undefined && images.length >= limit) {
      out.images_links = [{ rel: 'next', href: `${links.compute}/images${detail ? '/detail' : ''}?limit=${limit}&marker=${last.id}` }];
    }
    return out;
  };
  return [
    { method: 'GET', url: '/v2.1/images', policy: reader('os_compute_api:images:index'), handler: list(false) },
    { method: 'GET', url: '/v2.1/images/detail', policy: reader('os_compute_api:images:detail'), handler: list(true) },
    {
      method: 'GET', url: '/v2.1/images/:id', policy: reader('os_compute_api:images:show'),
      handler: async (req) => ({ image: computeImageDetail(await visible(req), links) }),
    },
    {
      method: 'DELETE', url: '/v2.1/images/:id', policy: member('os_compute_api:images:delete'),
      handler: async (req, reply) => {
        const m = await visible(req);
        if (!owns(authOf(req), m)) throw forbidden('You are not allowed to delete the image.');
        await backend.imageVerb(m.id, 'delete', req.id).catch((err) => {
          if (err instanceof NotFoundError) throw imageNotFound();
          throw err;
        });
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/v2.1/images/:id/metadata', policy: reader('os_compute_api:image-metadata:index'),
      handler: async (req) => ({ metadata: (await visible(req)).properties }),
    },
    {
      method: 'PUT', url: '/v2.1/images/:id/metadata', policy: member('os_compute_api:image-metadata:update_all'), schema: { body: METADATA_SCHEMA },
      handler: async (req) => {
        const m = await owned(req);
        return { metadata: (await setMetadata(req, m, (req.body as { metadata: Record<string, string> }).metadata, true)).properties };
      },
    },
    {
      method: 'POST', url: '/v2.1/images/:id/metadata', policy: member('os_compute_api:image-metadata:create'), schema: { body: METADATA_SCHEMA },
      handler: async (req) => {
        const m = await owned(req);
        return { metadata: (await setMetadata(req, m, (req.body as { metadata: Record<string, string> }).metadata, false)).properties };
      },
    },
    {
      method: 'GET', url: '/v2.1/images/:id/metadata/:key', policy: reader('os_compute_api:image-metadata:show'),
      handler: async (req) => {
        const m = await visible(req);
        const key = param(req, 'key');
        if (!Object.hasOwn(m.properties, key)) throw notFound('Image metadata key not found');
        return { meta: { [key]: m.properties[key] } };
      },
    },
    {
      method: 'PUT', url: '/v2.1/images/:id/metadata/:key', policy: member('os_compute_api:image-metadata:update'), schema: { body: META_SCHEMA },
      handler: async (req) => {
        const key = param(req, 'key');
        const meta = (req.body as { meta: Record<string, string> }).meta;
        if (!Object.hasOwn(meta, key)) throw badRequest('Request body and URI mismatch');
        const m = await owned(req);
        const after = await setMetadata(req, m, meta, false);
        return { meta: { [key]: after.properties[key] } };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/images/:id/metadata/:key', policy: member('os_compute_api:image-metadata:delete'),
      handler: async (req, reply) => {
        const m = await owned(req);
        const key = param(req, 'key');
        if (!Object.hasOwn(m.properties, key)) throw notFound('Image metadata key not found');
        await backend.updateImage(m.id, { ops: [{ op: 'remove', path: pointer(key) }] }, req.id);
        return reply.code(204).send();
      },
    },
  ];
}
