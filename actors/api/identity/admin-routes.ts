/**
 * Keystone v3 administration, the part clouds need to onboard people: projects, users, the fixed
 * roles, and role assignments on projects. Admin only, except that anyone may read their own user
 * and the projects they hold a role on.
 */
import type { FastifyRequest } from 'fastify';
import { authOf } from '../context.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import type { IdentityDeps } from './auth-routes.js';
import { DEFAULT_DOMAIN } from './identity-store.js';
import { ROLES, isRole, roleById, roleId, type RoleName } from './roles.js';
import { collectionLinks, projectView, roleView, userView } from './views.js';

const NAME = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\x00-\\x1f\\x7f]+$' } as const;

const PROJECT_SCHEMA = {
  type: 'object', required: ['project'],
  properties: {
    project: {
      type: 'object', required: ['name'],
      properties: {
        name: NAME, description: { type: ['string', 'null'], maxLength: 65535 }, enabled: { type: 'boolean' },
        domain_id: { type: 'string', enum: [DEFAULT_DOMAIN.id] }, is_domain: { type: 'boolean', enum: [false] },
        parent_id: { type: ['string', 'null'], enum: [DEFAULT_DOMAIN.id, null] }, tags: { type: 'array', maxItems: 0 },
        // Keystone's resource options (immutable, …) are not kept here: only an empty set is accepted.
        options: { type: 'object', maxProperties: 0 },
      },
      additionalProperties: false,
    },
  },
} as const;

const USER_SCHEMA = {
  type: 'object', required: ['user'],
  properties: {
    user: {
      type: 'object', required: ['name', 'password'],
      properties: {
        name: { ...NAME, maxLength: 255 }, password: { type: 'string', minLength: 1, maxLength: 4096 }, enabled: { type: 'boolean' },
        default_project_id: { type: ['string', 'null'], maxLength: 64 }, domain_id: { type: 'string', enum: [DEFAULT_DOMAIN.id] },
        description: { type: ['string', 'null'] }, email: { type: ['string', 'null'] }, options: { type: 'object', maxProperties: 0 },
      },
      additionalProperties: false,
    },
  },
} as const;

export function identityAdminRoutes(d: IdentityDeps): Route[] {
  const { identity, links } = d;

  const projectOr404 = async (id: string) => {
    const p = await identity.project(id);
    if (!p) throw notFound(`Could not find project: ${id}.`);
    return p;
  };
  const userOr404 = async (id: string) => {
    const u = await identity.user(id);
    if (!u) throw notFound(`Could not find user: ${id}.`);
    return u;
  };
  const roleOr404 = (id: string): RoleName => {
    const r = roleById(id) ?? (isRole(id) ? id : undefined);
    if (!r) throw notFound(`Could not find role: ${id}.`);
    return r;
  };
  const grantArgs = async (req: FastifyRequest) => {
    const [p, u] = await Promise.all([projectOr404(param(req, 'project')), userOr404(param(req, 'user'))]);
    return { p, u, r: roleOr404(param(req, 'role')) };
  };

  return [
    {
      method: 'GET', url: '/v3/projects', policy: admin('identity:list_projects'),
      handler: async (req) => {
        const name = one(query(req).name);
        return { projects: (await identity.projects(name !== undefined ? { name } : {})).map((p) => projectView(p, links)), links: collectionLinks(links, '/projects') };
      },
    },
    {
      method: 'GET', url: '/v3/projects/:project', policy: reader('identity:get_project'),
      handler: async (req) => {
        const auth = authOf(req);
        const id = param(req, 'project');
        // Anyone may read the project they are scoped to; other projects are an admin's business.
        if (!auth.isAdmin && id !== auth.projectId) throw forbidden('You are not authorized to perform the requested action: identity:get_project.');
        return { project: projectView(await projectOr404(id), links) };
      },
    },
    {
      method: 'POST', url: '/v3/projects', policy: admin('identity:create_project'), schema: { body: PROJECT_SCHEMA },
      handler: async (req, reply) => {
        const b = (req.body as { project: { name: string; description?: string | null; enabled?: boolean } }).project;
        const p = await identity.createProject({ name: b.name, description: b.description ?? '', enabled: b.enabled ?? true });
        reply.code(201);
        return { project: projectView(p, links) };
      },
    },
    {
      method: 'GET', url: '/v3/users', policy: admin('identity:list_users'),
      handler: async (req) => {
        const name = one(query(req).name);
        return { users: (await identity.users(name !== undefined ? { name } : {})).map((u) => userView(u, links)), links: collectionLinks(links, '/users') };
      },
    },
    {
      method: 'GET', url: '/v3/users/:user', policy: reader('identity:get_user'),
      handler: async (req) => {
        const auth = authOf(req);
        const id = param(req, 'user');
        if (!auth.isAdmin && id !== auth.userId) throw forbidden('You are not authorized to perform the requested action: identity:get_user.');
        return { user: userView(await userOr404(id), links) };
      },
    },
    {
      method: 'POST', url: '/v3/users', policy: admin('identity:create_user'), schema: { body: USER_SCHEMA },
      handler: async (req, reply) => {
        const b = (req.body as { user: { name: string; password: string; default_project_id?: string | null; enabled?: boolean; description?: string | null; email?: string | null } }).user;
        // Keystone keeps these as extra attributes; novact has nowhere to keep them, so it says so.
        if (b.description != null || b.email != null) throw badRequest('User descriptions and e-mail addresses are not stored by novact.');
        if (b.default_project_id) await projectOr404(b.default_project_id);
        const u = await identity.createUser({ name: b.name, password: b.password, defaultProjectId: b.default_project_id ?? null, enabled: b.enabled ?? true });
        reply.code(201);
        return { user: userView(u, links) };
      },
    },
    {
      method: 'GET', url: '/v3/roles', policy: reader('identity:list_roles'),
      handler: async (req) => {
        const name = one(query(req).name);
        return { roles: ROLES.filter((r) => name === undefined || r === name).map((r) => roleView(r, links)), links: collectionLinks(links, '/roles') };
      },
    },
    {
      method: 'GET', url: '/v3/roles/:role', policy: reader('identity:get_role'),
      handler: async (req) => ({ role: roleView(roleOr404(param(req, 'role')), links) }),
    },
    {
      method: 'PUT', url: '/v3/projects/:project/users/:user/roles/:role', policy: admin('identity:create_grant'), body: 'none',
      handler: async (req, reply) => {
        const { p, u, r } = await grantArgs(req);
        await identity.grant(u.id, p.id, r);
        return reply.code(204).send();
      },
    },
    {
      method: 'HEAD', url: '/v3/projects/:project/users/:user/roles/:role', policy: admin('identity:check_grant'),
      handler: async (req, reply) => {
        const { p, u, r } = await grantArgs(req);
        const held = (await identity.assignments({ userId: u.id, projectId: p.id })).some((a) => a.role === r);
        return reply.code(held ? 204 : 404).send();
      },
    },
    {
      method: 'DELETE', url: '/v3/projects/:project/users/:user/roles/:role', policy: admin('identity:revoke_grant'),
      handler: async (req, reply) => {
        const { p, u, r } = await grantArgs(req);
        if (!(await identity.revoke(u.id, p.id, r))) throw notFound(`Could not find role assignment with role: ${r}, user or group: ${u.id}, project, domain, or system: ${p.id}.`);
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/v3/role_assignments', policy: admin('identity:list_role_assignments'),
      handler: async (req) => {
        const q = query(req);
        const filter: { userId?: string; projectId?: string } = {};
        const userId = one(q['user.id']);
        const projectId = one(q['scope.project.id']);
        if (userId !== undefined) filter.userId = userId;
        if (projectId !== undefined) filter.projectId = projectId;
        const rows = (await identity.assignments(filter)).filter((a) => isRole(a.role));
        // `include_names` adds names (and domains) for clients that print them.
        const named = q.include_names !== undefined;
        const [users, projects] = named ? await Promise.all([identity.users(), identity.projects()]) : [[], []];
        const domain = { ...DEFAULT_DOMAIN };
        return {
          role_assignments: rows.map((a) => {
            const rid = roleId(a.role as RoleName);
            const userName = users.find((u) => u.id === a.userId)?.name;
            const projectName = projects.find((p) => p.id === a.projectId)?.name;
            return {
              role: named ? { id: rid, name: a.role } : { id: rid },
              user: named ? { id: a.userId, name: userName, domain } : { id: a.userId },
              scope: { project: named ? { id: a.projectId, name: projectName, domain } : { id: a.projectId } },
              links: { assignment: `${links.identity}/projects/${a.projectId}/users/${a.userId}/roles/${rid}` },
            };
          }),
          links: collectionLinks(links, '/role_assignments'),
        };
      },
    },
  ];
}
