/**
 * Glance v2 image members (sharing) under `/image/v2/images/{id}/members`: the owner offers a
 * `shared` image to another project (201 pending; 409 if already a member) and withdraws it (204);
 * the member answers `accepted`, `rejected` or `pending` (only the member itself may); the owner
 * lists every member, a member only itself. An image one cannot see is a 404 (visibleImage); a
 * member's membership of someone else's image, a 404; an operation one may not do, a 403.
 */
import type { FastifyRequest } from 'fastify';
import type { ImageMemberView } from '../../../protocols/catalog/image.js';
import { MEMBER_STATUSES } from '../../../protocols/catalog/image.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { member, reader } from '../policy.js';
import { param, type Route } from '../routes.js';
import { glanceTime } from './image-views.js';
import { owns, visibleImage } from './images.js';

export function glanceMember(m: ImageMemberView): Record<string, unknown> {
  return {
    created_at: glanceTime(m.createdAt), updated_at: glanceTime(m.updatedAt), image_id: m.imageId, member_id: m.memberId,
    status: m.status, schema: '/v2/schemas/member',
  };
}

/** A body `{key: string}` and nothing else, as Glance's member schemas require. */
function stringField(body: unknown, key: string): string {
  const b = body as Record<string, unknown> | null;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badRequest('Request body must be a JSON object.');
  const v = b[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 255) throw badRequest(`Provided object does not match schema: '${key}' must be a string of 1 to 255 characters.`);
  return v;
}

export function imageMemberRoutes(d: ApiDeps): Route[] {
  const { backend } = d;
  const members = (id: string, body: Parameters<typeof backend.imageMembers>[1], req: FastifyRequest) =>
    backend.imageMembers(id, body, req.id).then((r) => r.members);
  const noMember = (memberId: string, id: string) => notFound(`${memberId} is not a member of image ${id}`);
  const base = '/image/v2/images/:id/members';

  return [
    {
      method: 'POST', url: base, policy: member('add_member'), schema: { body: { type: 'object' } },
      // Glance answers 200 (not 201) with the new member.
      handler: async (req) => {
        const auth = authOf(req);
        const m = await visibleImage(d, auth, param(req, 'id'));
        if (!owns(auth, m)) throw forbidden('You are not permitted to create image members for the image.');
        const memberId = stringField(req.body, 'member');
        const [added] = await members(m.id, { op: 'add', memberId }, req);
        return glanceMember(added!);
      },
    },
    {
      method: 'GET', url: base, policy: reader('get_members'),
      handler: async (req) => {
        const auth = authOf(req);
        const m = await visibleImage(d, auth, param(req, 'id'));
        // A member sees its own membership only (Glance's member repo for non-owners).
        const list = await members(m.id, owns(auth, m) ? { op: 'list' } : { op: 'list', memberId: auth.projectId }, req);
        return { members: list.map(glanceMember), schema: '/v2/schemas/members' };
      },
    },
    {
      method: 'GET', url: `${base}/:member`, policy: reader('get_member'),
      handler: async (req) => {
        const auth = authOf(req);
        const m = await visibleImage(d, auth, param(req, 'id'));
        const memberId = param(req, 'member');
        if (!owns(auth, m) && memberId !== auth.projectId) throw noMember(memberId, m.id);
        const [found] = await members(m.id, { op: 'get', memberId }, req);
        return glanceMember(found!);
      },
    },
    {
      method: 'PUT', url: `${base}/:member`, policy: member('modify_member'), schema: { body: { type: 'object' } },
      handler: async (req) => {
        const auth = authOf(req);
        const m = await visibleImage(d, auth, param(req, 'id'));
        const memberId = param(req, 'member');
        const status = stringField(req.body, 'status');
        if (!(MEMBER_STATUSES as readonly string[]).includes(status)) throw badRequest(`Invalid status: ${status}. It must be one of ${MEMBER_STATUSES.join(', ')}.`);
        if (memberId !== auth.projectId) {
          // The owner sees the membership but may not answer for the member; anyone else sees nothing.
          if (!owns(auth, m)) throw noMember(memberId, m.id);
          throw forbidden(`You are not permitted to modify 'status' on this image member.`);
        }
        const [updated] = await members(m.id, { op: 'update', memberId, status: status as (typeof MEMBER_STATUSES)[number] }, req);
        return glanceMember(updated!);
      },
    },
    {
      method: 'DELETE', url: `${base}/:member`, policy: member('delete_member'),
      handler: async (req, reply) => {
        const auth = authOf(req);
        const m = await visibleImage(d, auth, param(req, 'id'));
        const memberId = param(req, 'member');
        if (!owns(auth, m)) {
          if (memberId !== auth.projectId) throw noMember(memberId, m.id);
          throw forbidden('You are not permitted to delete image members for the image.');
        }
        await members(m.id, { op: 'remove', memberId }, req);
        return reply.code(204).send();
      },
    },
  ];
}
