/**
 * Keystone v3 groups: create (in a domain), list (`?name=`, `?domain_id=`), show, update, delete,
 * members (`PUT`/`HEAD`/`DELETE /v3/groups/{g}/users/{u}`, `GET /v3/groups/{g}/users`) and a user's
 * groups. A group's role assignments reach its members' tokens (tokens.ts). Admin only, except that
 * a user may list its own groups.
 */
import type { FastifyRequest } from 'fastify';
import { authOf } from '../context.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import type { IdentityDeps } from './auth-routes.js';
import { DEFAULT_DOMAIN } from './directory-store.js';
import { ID_REF, NAME, TEXT } from './schemas.js';
import { collectionLinks, groupView, userView } from './views.js';

const GROUP_FIELDS = { name: NAME, description: TEXT, domain_id: ID_REF } as const;
const GROUP_SCHEMA = { type: 'object', required: ['group'], properties: { group: { type: 'object', required: ['name'], properties: GROUP_FIELDS, additionalProperties: false } } } as const;
const GROUP_UPDATE_SCHEMA = { type: 'object', required: ['group'], properties: { group: { type: 'object', properties: GROUP_FIELDS, additionalProperties: false } } } as const;

export function groupRoutes(d: IdentityDeps): Route[] {
  const { identity, links, tokens } = d;
  const { directory } = identity;

  const groupOr404 = async (id: string) => {
    const g = await directory.group(id);
    if (!g) throw notFound(`Could not find group: ${id}.`);
    return g;
  };
  const membership = async (req: FastifyRequest) => {
    const [g, u] = await Promise.all([groupOr404(param(req, 'group')), identity.user(param(req, 'user'))]);
    if (!u) throw notFound(`Could not find user: ${param(req, 'user')}.`);
    return { g, u };
  };

  return [
    {
      method: 'GET', url: '/v3/groups', policy: admin('identity:list_groups'),
      handler: async (req) => {
        const q = query(req);
        const list = await directory.groups({ ...(one(q.name) !== undefined ? { name: one(q.name)! } : {}), ...(one(q.domain_id) !== undefined ? { domainId: one(q.domain_id)! } : {}) });
        return { groups: list.map((g) => groupView(g, links)), links: collectionLinks(links, '/groups') };
      },
    },
    { method: 'GET', url: '/v3/groups/:group', policy: admin('identity:get_group'), handler: async (req) => ({ group: groupView(await groupOr404(param(req, 'group')), links) }) },
    {
      method: 'POST', url: '/v3/groups', policy: admin('identity:create_group'), schema: { body: GROUP_SCHEMA },
      handler: async (req, reply) => {
        const b = (req.body as { group: { name: string; description?: string | null; domain_id?: string } }).group;
        const domainId = b.domain_id ?? DEFAULT_DOMAIN.id;
        if (!(await directory.domain(domainId))) throw badRequest(`Could not find domain: ${domainId}.`);
        const g = await directory.createGroup({ name: b.name, domainId, description: b.description ?? '' });
        reply.code(201);
        return { group: groupView(g, links) };
      },
    },
    {
      method: 'PATCH', url: '/v3/groups/:group', policy: admin('identity:update_group'), schema: { body: GROUP_UPDATE_SCHEMA },
      handler: async (req) => {
        const before = await groupOr404(param(req, 'group'));
        const b = (req.body as { group: { name?: string; description?: string | null; domain_id?: string } }).group;
        if (b.domain_id !== undefined && b.domain_id !== before.domainId) throw badRequest('Update of `domain_id` is not allowed.');
        const g = await directory.updateGroup(before.id, { ...(b.name !== undefined ? { name: b.name } : {}), ...(b.description !== undefined ? { description: b.description ?? '' } : {}) });
        return { group: groupView(g ?? before, links) };
      },
    },
    {
      method: 'DELETE', url: '/v3/groups/:group', policy: admin('identity:delete_group'),
      handler: async (req, reply) => {
        const id = param(req, 'group');
        const members = await directory.memberIds(id);
        if (!(await directory.deleteGroup(id))) throw notFound(`Could not find group: ${id}.`);
        tokens.forget((t) => members.includes(t.userId));
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/v3/groups/:group/users', policy: admin('identity:list_users_in_group'),
      handler: async (req) => {
        const g = await groupOr404(param(req, 'group'));
        const ids = await directory.memberIds(g.id);
        const users = ids.length === 0 ? [] : await identity.users({ ids });
        return { users: users.map((u) => userView(u, links)), links: collectionLinks(links, `/groups/${g.id}/users`) };
      },
    },
    {
      method: 'PUT', url: '/v3/groups/:group/users/:user', policy: admin('identity:add_user_to_group'), body: 'none',
      handler: async (req, reply) => {
        const { g, u } = await membership(req);
        await directory.addMember(g.id, u.id);
        tokens.forget((t) => t.userId === u.id);
        return reply.code(204).send();
      },
    },
    {
      method: 'HEAD', url: '/v3/groups/:group/users/:user', policy: admin('identity:check_user_in_group'),
      handler: async (req, reply) => {
        const { g, u } = await membership(req);
        return reply.code((await directory.isMember(g.id, u.id)) ? 204 : 404).send();
      },
    },
    {
      method: 'DELETE', url: '/v3/groups/:group/users/:user', policy: admin('identity:remove_user_from_group'),
      handler: async (req, reply) => {
        const { g, u } = await membership(req);
        if (!(await directory.removeMember(g.id, u.id))) throw notFound(`Could not find user: ${u.id} in group ${g.id}.`);
        tokens.forget((t) => t.userId === u.id);
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/v3/users/:user/groups', policy: reader('identity:list_groups_for_user'),
      handler: async (req) => {
        const auth = authOf(req);
        const id = param(req, 'user');
        if (!auth.isAdmin && id !== auth.userId) throw forbidden('You are not authorized to perform the requested action: identity:list_groups_for_user.');
        if (!(await identity.user(id))) throw notFound(`Could not find user: ${id}.`);
        const ids = await directory.groupIdsOf(id);
        const groups = ids.length === 0 ? [] : await directory.groups({ ids });
        return { groups: groups.map((g) => groupView(g, links)), links: collectionLinks(links, `/users/${id}/groups`) };
      },
    },
  ];
}
