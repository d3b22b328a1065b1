/**
 * Glance v2 images under `/image/v2`: create (201, `queued`), list (filters, sort keys, paging),
 * show, update by JSON-patch (`application/openstack-images-v2.1-json-patch`), delete (204), tags,
 * and deactivate/reactivate by the owner or an admin (204). Visibility as Glance: public and community images are
 * visible to all, the others to their owner's project (and admins); an image one cannot see is a
 * 404, one one can see but not change a 403. Making an image public, or giving it to another
 * project, is an admin's call (Glance's `publicize_image` policy).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { NotFoundError } from '../../../protocols/errors.js';
import type { ImageMeta } from '../../../protocols/resources.js';
import { isUuid } from '../../../protocols/validate.js';
import type { ImageQuery, ImageSortKey } from '../../../protocols/image-query.js';
import { IMAGE_SORT_KEYS, MAX_IMAGE_LIMIT } from '../../../protocols/image-query.js';
import { CORE, READ_ONLY_ATTRIBUTES, forbiddenAttribute, parsePatchOps, type ImagePatchOp } from '../../../protocols/image-patch.js';
import type { ProtectionOp } from '../../../protocols/image-property-protections.js';
import type { ImageRegisterRequest } from '../../../protocols/image-register.js';
import { authOf, type AuthContext } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { member, reader } from '../policy.js';
import { many, one, param, query, type Route } from '../routes.js';
import { glanceImage } from './image-views.js';
import { importHeaders } from './import-info.js';

/** Query parameters with a meaning of their own; any other one filters on a free-form property. */
const KNOWN_PARAMS = new Set([
  'limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'name', 'status', 'visibility', 'owner', 'disk_format', 'container_format',
  'size', 'size_min', 'size_max', 'tag', 'protected', 'os_hidden', 'member_status', 'id', 'created_at', 'updated_at',
]);
const CORE_CREATE = new Set(['id', 'name', 'visibility', 'tags', 'disk_format', 'container_format', 'min_disk', 'min_ram', 'protected', 'os_hidden', 'owner']);

export function canSee(a: AuthContext, m: ImageMeta): boolean {
  return a.isAdmin || m.visibility === 'public' || m.visibility === 'community' || m.ownerProjectId === a.projectId;
}

export function owns(a: AuthContext, m: ImageMeta): boolean {
  return a.isAdmin || m.ownerProjectId === a.projectId;
}

/** Glance shows a shared image by id to each of its members, whatever their answer. */
export async function isMember(d: ApiDeps, auth: AuthContext, id: string): Promise<boolean> {
  const r = await d.backend.imageMembers(id, { op: 'list', memberId: auth.projectId }, randomUUID()).catch((err) => {
    if (err instanceof NotFoundError) return { members: [] };
    throw err;
  });
  return r.members.length > 0;
}

const noImage = (id: string) => notFound(`No image found with ID ${id}`);

export async function visibleImage(d: ApiDeps, auth: AuthContext, id: string): Promise<ImageMeta> {
  if (!isUuid(id)) throw noImage(id);
  const m = await d.backend.image(id.toLowerCase()).catch((err) => {
    if (err instanceof NotFoundError) throw noImage(id);
    throw err;
  });
  if (!canSee(auth, m) && !(m.visibility === 'shared' && (await isMember(d, auth, m.id)))) throw noImage(id);
  return m;
}

function bool(name: string, v: string): boolean {
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw badRequest(`Invalid value for ${name}: ${v}. It must be true or false.`);
}

function int(name: string, v: string): number {
  if (!/^\d{1,15}$/.test(v)) throw badRequest(`${name} param must be an integer`);
  return Number(v);
}

function sortOf(req: FastifyRequest): { key: ImageSortKey; dir: 'asc' | 'desc' }[] {
  const p = query(req);
  const check = (k: string): ImageSortKey => {
    if (!(IMAGE_SORT_KEYS as readonly string[]).includes(k)) throw badRequest(`Invalid sort key: ${k}. It must be one of the following: ${IMAGE_SORT_KEYS.join(', ')}.`);
    return k as ImageSortKey;
  };
  const checkDir = (d: string): 'asc' | 'desc' => {
    if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid sort direction: ${d}`);
    return d;
  };
  const sort = one(p.sort);
  if (sort !== undefined) {
    if (p.sort_key !== undefined || p.sort_dir !== undefined) throw badRequest('The sort parameter cannot be combined with sort_key or sort_dir.');
    return sort.split(',').map((part) => {
      const [k, dir] = part.trim().split(':');
      return { key: check(k ?? ''), dir: checkDir(dir ?? 'desc') };
    });
  }
  const keys = many(p.sort_key);
  const dirs = many(p.sort_dir).map(checkDir);
  if (keys.length === 0) return [{ key: 'created_at', dir: dirs[0] ?? 'desc' }];
  if (dirs.length > 1 && dirs.length !== keys.length) throw badRequest('The number of sort_dir values must match the number of sort_key values.');
  return keys.map((k, i) => ({ key: check(k), dir: dirs[dirs.length === 1 ? 0 : i] ?? 'desc' }));
}

function imageQuery(req: FastifyRequest, auth: AuthContext): ImageQuery {
  const p = query(req);
  const q: ImageQuery = { viewer: { projectId: auth.projectId, isAdmin: auth.isAdmin }, sort: sortOf(req) };
  const limit = one(p.limit);
  q.limit = limit === undefined ? 25 : Math.min(int('limit', limit), MAX_IMAGE_LIMIT);
  const marker = one(p.marker);
  if (marker !== undefined) q.marker = marker;
  for (const [param, key] of [['name', 'name'], ['status', 'status'], ['owner', 'owner'], ['disk_format', 'diskFormat'], ['container_format', 'containerFormat']] as const) {
    const v = one(p[param]);
    if (v === undefined) continue;
    if (v.startsWith('in:')) throw badRequest(`The 'in:' operator is not supported by novact (${param}).`);
    q[key] = v;
  }
  for (const k of ['id', 'created_at', 'updated_at']) if (one(p[k]) !== undefined) throw badRequest(`Filtering on ${k} is not supported by novact.`);
  const ms = one(p.member_status);
  if (ms !== undefined) {
    if (!['pending', 'accepted', 'rejected', 'all'].includes(ms)) throw badRequest(`Invalid status value: ${ms}`);
    q.memberStatus = ms as ImageQuery['memberStatus'];
  }
  const vis = one(p.visibility);
  if (vis !== undefined) {
    if (!['public', 'private', 'shared', 'community', 'all'].includes(vis)) throw badRequest(`Invalid visibility value: ${vis}`);
    q.visibility = vis as ImageQuery['visibility'];
  }
  const sizeMin = one(p.size_min);
  if (sizeMin !== undefined) q.sizeMin = int('size_min', sizeMin);
  const sizeMax = one(p.size_max);
  if (sizeMax !== undefined) q.sizeMax = int('size_max', sizeMax);
  // An exact size (Glance filters on any attribute; Tempest lists by size) is both bounds at once.
  const size = one(p.size);
  if (size !== undefined) {
    const n = int('size', size);
    q.sizeMin = Math.max(q.sizeMin ?? 0, n);
    q.sizeMax = Math.min(q.sizeMax ?? n, n);
  }
  const tags = many(p.tag);
  if (tags.length > 0) q.tags = tags;
  const prot = one(p.protected);
  if (prot !== undefined) q.protected = bool('protected', prot);
  const hidden = one(p.os_hidden);
  if (hidden !== undefined) q.osHidden = bool('os_hidden', hidden);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (!KNOWN_PARAMS.has(k) && one(v) !== undefined) properties[k] = one(v)!;
  if (Object.keys(properties).length > 0) q.properties = properties;
  return q;
}

/** Glance's create body (snake_case, extra properties flat) → the image role's request. */
function registerRequest(body: Record<string, unknown>, auth: AuthContext): ImageRegisterRequest {
  const req: ImageRegisterRequest = {};
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    // The id is read-only afterwards, but a create may choose it.
    const why = k === 'id' ? undefined : forbiddenAttribute(k);
    if (why) throw forbidden(why);
    if (!CORE_CREATE.has(k)) {
      if (typeof v !== 'string') throw badRequest(`Provided object does not match schema 'image': ${JSON.stringify(v)} is not of type 'string' (property ${k})`);
      properties[k] = v;
    }
  }
  const set = <K extends keyof ImageRegisterRequest>(key: K, from: string) => {
    if (body[from] !== undefined) req[key] = body[from] as ImageRegisterRequest[K];
  };
  set('id', 'id');
  set('name', 'name');
  set('visibility', 'visibility');
  set('tags', 'tags');
  set('diskFormat', 'disk_format');
  set('containerFormat', 'container_format');
  set('minDisk', 'min_disk');
  set('minRam', 'min_ram');
  set('protected', 'protected');
  set('osHidden', 'os_hidden');
  if (req.visibility === 'public' && !auth.isAdmin) throw forbidden('You are not authorized to complete publicize_image action.');
  const owner = body.owner;
  if (owner !== undefined && owner !== auth.projectId && !auth.isAdmin) throw forbidden(`You are not permitted to create images owned by '${String(owner)}'.`);
  req.owner = owner === undefined ? auth.projectId : (owner as string | null);
  req.properties = properties;
  return req;
}

/** The image as this caller is shown it: without the properties protections keep from its roles. */
export function shownImage(d: ApiDeps, auth: AuthContext, m: ImageMeta): Record<string, unknown> {
  const pp = d.propertyProtections;
  return glanceImage(pp ? { ...m, properties: pp.readable(m.properties, auth.roles) } : m);
}

const NOT_PROPERTIES = new Set<string>([...CORE, ...READ_ONLY_ATTRIBUTES]);

/** Glance's property protections: each free-form property a change touches, by the operation it is. */
function checkProtected(d: ApiDeps, auth: AuthContext, touched: [string, ProtectionOp][]): void {
  const pp = d.propertyProtections;
  if (!pp) return;
  for (const [name, op] of touched) {
    if (!pp.allows(name, op, auth.roles)) throw forbidden(`Property '${name}' is protected`);
  }
}

function patchTouches(ops: ImagePatchOp[], current: Record<string, string>): [string, ProtectionOp][] {
  const out: [string, ProtectionOp][] = [];
  for (const op of ops) {
    const name = op.path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
    if (NOT_PROPERTIES.has(name)) continue;
    out.push([name, op.op === 'remove' ? 'delete' : Object.hasOwn(current, name) ? 'update' : 'create']);
  }
  return out;
}

/** Policy checks a patch needs before it goes to the image's actor. */
function checkPatch(ops: ImagePatchOp[], auth: AuthContext): void {
  if (auth.isAdmin) return;
  for (const op of ops) {
    if (op.path === '/visibility' && op.value === 'public') throw forbidden('You are not authorized to complete publicize_image action.');
    if (op.path === '/owner' && op.value !== auth.projectId) throw forbidden("You are not permitted to modify 'owner' on this image.");
  }
}

export function imageRoutes(d: ApiDeps): Route[] {
  const { backend, links } = d;
  const ownedImage = async (req: FastifyRequest, verb: string) => {
    const auth = authOf(req);
    const m = await visibleImage(d, auth, param(req, 'id'));
    if (!owns(auth, m)) throw forbidden(`You are not permitted to ${verb} this image.`);
    return m;
  };
  // Glance's default (ADMIN_OR_PROJECT_MEMBER): the owner's members or an admin; Tempest's owner does it.
  const ownerMove = (verb: 'deactivate' | 'reactivate'): Route => ({
    method: 'POST', url: `/image/v2/images/:id/actions/${verb}`, policy: member(`${verb}`), body: 'none',
    handler: async (req, reply) => {
      const m = await ownedImage(req, verb);
      if (m.status !== 'active' && m.status !== 'deactivated') throw forbidden(`Not allowed to ${verb} image in status '${m.status}'`);
      await backend.imageVerb(m.id, verb, req.id);
      return reply.code(204).send();
    },
  });
  const tagRoute = (method: 'PUT' | 'DELETE'): Route => ({
    method, url: '/image/v2/images/:id/tags/:tag', policy: member('modify_image'), body: 'none',
    handler: async (req, reply) => {
      const m = await ownedImage(req, 'modify');
      const tag = param(req, 'tag');
      if (tag.length > 255) throw badRequest('Tags are at most 255 characters.');
      await backend.updateImage(m.id, method === 'PUT' ? { addTag: tag } : { removeTag: tag }, req.id);
      return reply.code(204).send();
    },
  });

  return [
    {
      method: 'POST', url: '/image/v2/images', policy: member('add_image'), schema: { body: { type: 'object' } },
      handler: async (req, reply) => {
        const auth = authOf(req);
        const register = { ...registerRequest(req.body as Record<string, unknown>, auth), maxImages: d.imageQuotas.imageCountTotal };
        checkProtected(d, auth, Object.keys(register.properties ?? {}).map((k) => [k, 'create']));
        const m = await backend.registerImage(register, req.id);
        reply.code(201).header('Location', `${links.image}/v2/images/${m.id}`).headers(await importHeaders(d));
        return shownImage(d, auth, m);
      },
    },
    {
      method: 'GET', url: '/image/v2/images', policy: reader('get_images'),
      handler: async (req) => {
        const auth = authOf(req);
        const q = imageQuery(req, auth);
        const images = await backend.images(q);
        const out: Record<string, unknown> = { images: images.map((m) => shownImage(d, auth, m)), first: '/v2/images', schema: '/v2/schemas/images' };
        const last = images[images.length - 1];
        if (last && images.length >= (q.limit ?? 25)) {
          const next = new URLSearchParams(req.query as Record<string, string>);
          next.set('marker', last.id);
          next.set('limit', String(q.limit));
          out.next = `/v2/images?${next.toString()}`;
        }
        return out;
      },
    },
    {
      method: 'GET', url: '/image/v2/images/:id', policy: reader('get_image'),
      handler: async (req) => shownImage(d, authOf(req), await visibleImage(d, authOf(req), param(req, 'id'))),
    },
    {
      method: 'PATCH', url: '/image/v2/images/:id', policy: member('modify_image'), body: 'json-patch',
      handler: async (req) => {
        const auth = authOf(req);
        const dialect = (req.headers['content-type'] ?? '').toLowerCase().includes('v2.0-json-patch') ? 'v2.0' : 'v2.1';
        const ops = parsePatchOps(req.body, dialect);
        const m = await ownedImage(req, 'modify');
        checkPatch(ops, auth);
        checkProtected(d, auth, patchTouches(ops, m.properties));
        return shownImage(d, auth, await backend.updateImage(m.id, { ops }, req.id));
      },
    },
    {
      method: 'DELETE', url: '/image/v2/images/:id', policy: member('delete_image'),
      handler: async (req, reply) => {
        const m = await ownedImage(req, 'delete');
        await backend.imageVerb(m.id, 'delete', req.id).catch((err) => {
          if (err instanceof NotFoundError) throw noImage(m.id);
          throw err;
        });
        return reply.code(204).send();
      },
    },
    ownerMove('deactivate'),
    ownerMove('reactivate'),
    tagRoute('PUT'),
    tagRoute('DELETE'),
  ];
}
