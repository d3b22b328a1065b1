/**
 * Keystone v3 administration, the part clouds need to onboard people: projects (create, update,
 * delete), the fixed roles, and role assignments on projects (users are in user-routes.ts). Admin
 * only, except that anyone may read the project they are scoped to.
 */
import type { FastifyRequest } from 'fastify';
import { authOf } from '../context.js';
import { forbidden, notFound } from '../faults.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import type { IdentityDeps } from './auth-routes.js';
import { DEFAULT_DOMAIN, type ProjectPatch } from './identity-store.js';
import { ROLES, isRole, roleById, roleId, type RoleName } from './roles.js';
import { collectionLinks, projectView, roleView } from './views.js';

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

const PROJECT_UPDATE_SCHEMA = {
  type: 'object', required: ['project'],
  properties: {
    project: {
      type: 'object',
      properties: {
        name: NAME, description: { type: ['string', 'null'], maxLength: 65535, pattern: '^[^\\x00]*$' }, enabled: { type: 'boolean' },
        domain_id: { type: 'string', enum: [DEFAULT_DOMAIN.id] }, is_domain: { type: 'boolean', enum: [false] },
        tags: { type: 'array', maxItems: 0 }, options: { type: 'object', maxProperties: 0 },
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
      method: 'PATCH', url: '/v3/projects/:project', policy: admin('identity:update_project'), schema: { body: PROJECT_UPDATE_SCHEMA },
      handler: async (req) => {
        const id = param(req, 'project');
        const b = (req.body as { project: { name?: string; description?: string | null; enabled?: boolean } }).project;
        const before = await projectOr404(id);
        const patch: ProjectPatch = {};
        if (b.name !== undefined) patch.name = b.name;
        if (b.enabled !== undefined) patch.enabled = b.enabled;
        if (b.description !== undefined) patch.description = b.description ?? '';
        const p = await identity.updateProject(id, patch);
        if (!p) throw notFound(`Could not find project: ${id}.`);
        // As Keystone: disabling a project revokes the tokens scoped to it.
        if (b.enabled === false && before.enabled) await d.tokens.revokeProject(id);
        return { project: projectView(p, links) };
      },
    },
    {
      method: 'DELETE', url: '/v3/projects/:project', policy: admin('identity:delete_project'),
      handler: async (req, reply) => {
        const id = param(req, 'project');
        // Its servers, images and key pairs are left as they are, as Keystone leaves them to each service.
        if (!(await identity.deleteProject(id))) throw notFound(`Could not find project: ${id}.`);
        d.tokens.forget((t) => t.projectId === id);
        return reply.code(204).send();
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
        // Validation resolves roles: this replica sees the new role at once, others within the cache window.
        d.tokens.forget((t) => t.userId === u.id && t.projectId === p.id);
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
        // The user's tokens on the project lose the role here at once, on other replicas within the cache window.
        d.tokens.forget((t) => t.userId === u.id && t.projectId === p.id);
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
