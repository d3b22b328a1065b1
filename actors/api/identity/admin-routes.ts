/**
 * Keystone v3 administration of projects (create, update, enable/disable, delete, each in a
 * domain) and role assignments: users or groups holding roles on projects, domains or the system,
 * and `GET /v3/role_assignments` with Keystone's filters, `effective` and `include_names`. Admin
 * only, except that anyone may read the project they are scoped to.
 */
import type { FastifyRequest } from 'fastify';
import type { AssignmentRow, RoleRow } from '../../../runtime/db/entities/index.js';
import { authOf } from '../context.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { SYSTEM_TARGET, type Actor, type Target } from './assignment-store.js';
import { appCredRoutes } from './app-cred-routes.js';
import type { IdentityDeps } from './auth-routes.js';
import { catalogRoutes } from './catalog-routes.js';
import { domainRoutes } from './domain-routes.js';
import { groupRoutes } from './group-routes.js';
import { roleRoutes } from './role-routes.js';
import { DEFAULT_DOMAIN, type ProjectPatch } from './identity-store.js';
import { enabledFilter, ID_REF, NAME, TEXT } from './schemas.js';
import { collectionLinks, projectView } from './views.js';

const PROJECT_FIELDS = {
  name: NAME, description: TEXT, enabled: { type: 'boolean' }, domain_id: ID_REF, is_domain: { type: 'boolean', enum: [false] },
  tags: { type: 'array', maxItems: 0 },
  // Keystone's resource options (immutable, …) are not kept here: only an empty set is accepted.
  options: { type: 'object', maxProperties: 0 },
} as const;

const PROJECT_SCHEMA = {
  type: 'object', required: ['project'],
  properties: { project: { type: 'object', required: ['name'], properties: { ...PROJECT_FIELDS, parent_id: { type: ['string', 'null'], maxLength: 64 } }, additionalProperties: false } },
} as const;

const PROJECT_UPDATE_SCHEMA = {
  type: 'object', required: ['project'],
  properties: { project: { type: 'object', properties: PROJECT_FIELDS, additionalProperties: false } },
} as const;

/** Keystone's grant routes: each target kind with each actor kind. */
const GRANT_TARGETS = [
  { kind: 'Project', prefix: '/v3/projects/:target' },
  { kind: 'Domain', prefix: '/v3/domains/:target' },
  { kind: 'System', prefix: '/v3/system' },
] as const;
const GRANT_ACTORS = [
  { kind: 'User', segment: 'users' },
  { kind: 'Group', segment: 'groups' },
] as const;

export function identityAdminRoutes(d: IdentityDeps): Route[] {
  const { identity, links, tokens } = d;
  const { directory, assignments, roles } = identity;

  const projectOr404 = async (id: string) => {
    const p = await identity.project(id);
    if (!p) throw notFound(`Could not find project: ${id}.`);
    return p;
  };
  const domainOr404 = async (id: string) => {
    const dom = await directory.domain(id);
    if (!dom) throw notFound(`Could not find domain: ${id}.`);
    return dom;
  };
  const roleOr404 = async (id: string): Promise<RoleRow> => {
    const r = await roles.find(id);
    if (!r) throw notFound(`Could not find role: ${id}.`);
    return r;
  };
  const actorOr404 = async (kind: Actor['kind'], id: string): Promise<Actor> => {
    const found = kind === 'User' ? await identity.user(id) : await directory.group(id);
    if (!found) throw notFound(`Could not find ${kind.toLowerCase()}: ${id}.`);
    return { kind, id };
  };
  const targetOr404 = async (kind: Target['kind'], id: string): Promise<Target> => {
    if (kind === 'Project') await projectOr404(id);
    if (kind === 'Domain') await domainOr404(id);
    return { kind, id: kind === 'System' ? SYSTEM_TARGET : id };
  };

  const grantRoutes: Route[] = GRANT_TARGETS.flatMap((t) =>
    GRANT_ACTORS.flatMap((a) => {
      const url = `${t.prefix}/${a.segment}/:actor/roles/:role`;
      const args = async (req: FastifyRequest) => {
        const [target, actor, role] = await Promise.all([
          targetOr404(t.kind, t.kind === 'System' ? SYSTEM_TARGET : param(req, 'target')), actorOr404(a.kind, param(req, 'actor')), roleOr404(param(req, 'role')),
        ]);
        return { target, actor, role };
      };
      // Validation resolves roles: this replica sees a change at once, others within the cache window.
      const forget = (actor: Actor) => (actor.kind === 'User' ? tokens.forget((tk) => tk.userId === actor.id) : tokens.forget(() => true));
      const check = async (req: FastifyRequest, reply: { code: (n: number) => { send: () => unknown } }) => {
        const { target, actor, role } = await args(req);
        if (!(await assignments.held(actor, target, role.id))) throw notFound(`Could not find role assignment with role: ${role.id}, user or group: ${actor.id}, project, domain, or system: ${target.id}.`);
        return reply.code(204).send();
      };
      return [
        {
          method: 'PUT', url, policy: admin('identity:create_grant'), body: 'none',
          handler: async (req, reply) => {
            const { target, actor, role } = await args(req);
            await assignments.grant(actor, target, role.id);
            forget(actor);
            return reply.code(204).send();
          },
        },
        { method: 'HEAD', url, policy: admin('identity:check_grant'), handler: check },
        { method: 'GET', url, policy: admin('identity:check_grant'), handler: check },
        {
          method: 'DELETE', url, policy: admin('identity:revoke_grant'),
          handler: async (req, reply) => {
            const { target, actor, role } = await args(req);
            if (!(await assignments.revoke(actor, target, role.id))) throw notFound(`Could not find role assignment with role: ${role.id}, user or group: ${actor.id}, project, domain, or system: ${target.id}.`);
            forget(actor);
            return reply.code(204).send();
          },
        },
      ] satisfies Route[];
    }),
  );

  /** `GET /v3/role_assignments`, as Keystone answers it. */
  const listAssignments = async (req: FastifyRequest) => {
    const q = query(req);
    const flag = (k: string) => q[k] !== undefined && one(q[k])?.toLowerCase() !== 'false' && one(q[k]) !== '0';
    const effective = flag('effective');
    const named = flag('include_names');
    const userId = one(q['user.id']);
    const groupId = one(q['group.id']);
    const system = one(q['scope.system']);
    if (system !== undefined && system !== 'all') throw badRequest(`Invalid scope.system: ${system}.`);
    if (effective && groupId !== undefined) throw badRequest('Combining effective and group filter will always result in an empty list.');
    const filter = {
      ...(groupId !== undefined ? { groupId } : {}),
      ...(one(q['scope.project.id']) !== undefined ? { projectId: one(q['scope.project.id'])! } : {}),
      ...(one(q['scope.domain.id']) !== undefined ? { domainId: one(q['scope.domain.id'])! } : {}),
      ...(system !== undefined ? { system: true } : {}),
    };
    // Effective: a user's own assignments plus its groups', each group one expanded to its members.
    let rows: (AssignmentRow & { viaGroup?: string })[];
    if (effective) {
      const all = await assignments.list(filter);
      rows = [];
      for (const r of all) {
        if (r.type.startsWith('User')) {
          if (userId === undefined || r.actorId === userId) rows.push(r);
          continue;
        }
        for (const member of await directory.memberIds(r.actorId)) {
          if (userId === undefined || member === userId) rows.push({ ...r, type: r.type.replace('Group', 'User') as AssignmentRow['type'], actorId: member, viaGroup: r.actorId });
        }
      }
    } else {
      rows = await assignments.list({ ...filter, ...(userId !== undefined ? { userId } : {}) });
    }
    const roleFilter = one(q['role.id']);
    // Effective also adds the roles each assigned one implies (Keystone names the prior role).
    const expanded: (typeof rows[number] & { priorRoleId?: string })[] = [];
    for (const r of rows) {
      if (!effective) {
        expanded.push(r);
        continue;
      }
      for (const role of await roles.expand([r.roleId])) expanded.push({ ...r, roleId: role.id, ...(role.id !== r.roleId ? { priorRoleId: r.roleId } : {}) });
    }
    const shown = expanded.filter((r) => roleFilter === undefined || r.roleId === roleFilter);
    const names = named ? await namesFor(shown) : undefined;
    return { role_assignments: shown.map((r) => assignmentView(r, names)), links: collectionLinks(links, '/role_assignments') };
  };

  /** Names (and domains) for `include_names`, looked up once per listing. */
  const namesFor = async (rows: AssignmentRow[]) => {
    const ids = (p: string) => [...new Set(rows.filter((r) => r.type.includes(p)).map((r) => (p === 'User' || p === 'Group' ? r.actorId : r.targetId)))];
    const [users, groups, projects, domains, roleRows] = await Promise.all([
      identity.users({ ids: ids('User') }), directory.groups({ ids: ids('Group') }), identity.projects({ ids: ids('Project') }), directory.domains(), roles.list(),
    ]);
    const domainRef = (id: string) => ({ id, name: domains.find((x) => x.id === id)?.name });
    const out = new Map<string, Record<string, unknown>>();
    for (const u of users) out.set(u.id, { id: u.id, name: u.name, domain: domainRef(u.domainId) });
    for (const g of groups) out.set(g.id, { id: g.id, name: g.name, domain: domainRef(g.domainId) });
    for (const p of projects) out.set(p.id, { id: p.id, name: p.name, domain: domainRef(p.domainId) });
    for (const x of domains) out.set(x.id, { id: x.id, name: x.name });
    for (const r of roleRows) out.set(r.id, { id: r.id, name: r.name, ...(r.domainId !== '' ? { domain: domainRef(r.domainId) } : {}) });
    return out;
  };

  const assignmentView = (r: AssignmentRow & { viaGroup?: string; priorRoleId?: string }, names?: Map<string, Record<string, unknown>>) => {
    const ref = (id: string) => names?.get(id) ?? { id };
    const actorKey = r.type.startsWith('User') ? 'user' : 'group';
    const targetKind = r.type.replace(/^(User|Group)/, '');
    const scope = targetKind === 'System' ? { system: { all: true } } : { [targetKind.toLowerCase()]: ref(r.targetId) };
    const targetPath = targetKind === 'System' ? '/system' : `/${targetKind.toLowerCase()}s/${r.targetId}`;
    const actorPath = r.viaGroup ? `/groups/${r.viaGroup}` : `/${actorKey}s/${r.actorId}`;
    return {
      role: ref(r.roleId), [actorKey]: ref(r.actorId), scope,
      links: {
        assignment: `${links.identity}${targetPath}${actorPath}/roles/${r.priorRoleId ?? r.roleId}`,
        ...(r.viaGroup ? { membership: `${links.identity}/groups/${r.viaGroup}/users/${r.actorId}` } : {}),
        ...(r.priorRoleId ? { prior_role: `${links.identity}/roles/${r.priorRoleId}` } : {}),
      },
    };
  };

  return [
    {
      method: 'GET', url: '/v3/projects', policy: admin('identity:list_projects'),
      handler: async (req) => {
        const q = query(req);
        const filter = { name: one(q.name), domainId: one(q.domain_id), enabled: enabledFilter(one(q.enabled)) };
        return { projects: (await identity.projects(filter)).map((p) => projectView(p, links)), links: collectionLinks(links, '/projects') };
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
        const b = (req.body as { project: { name?: string; description?: string | null; enabled?: boolean; domain_id?: string } }).project;
        const before = await projectOr404(id);
        if (b.domain_id !== undefined && b.domain_id !== before.domainId) throw badRequest('Update of `domain_id` is not allowed.');
        const patch: ProjectPatch = {};
        if (b.name !== undefined) patch.name = b.name;
        if (b.enabled !== undefined) patch.enabled = b.enabled;
        if (b.description !== undefined) patch.description = b.description ?? '';
        const p = await identity.updateProject(id, patch);
        if (!p) throw notFound(`Could not find project: ${id}.`);
        // As Keystone: disabling a project revokes the tokens scoped to it.
        if (b.enabled === false && before.enabled) await tokens.revokeProject(id);
        return { project: projectView(p, links) };
      },
    },
    {
      method: 'DELETE', url: '/v3/projects/:project', policy: admin('identity:delete_project'),
      handler: async (req, reply) => {
        const id = param(req, 'project');
        // Its servers, images and key pairs are left as they are, as Keystone leaves them to each service.
        if (!(await identity.deleteProject(id))) throw notFound(`Could not find project: ${id}.`);
        tokens.forget((t) => t.projectId === id);
        return reply.code(204).send();
      },
    },
    {
      method: 'POST', url: '/v3/projects', policy: admin('identity:create_project'), schema: { body: PROJECT_SCHEMA },
      handler: async (req, reply) => {
        const b = (req.body as { project: { name: string; description?: string | null; enabled?: boolean; domain_id?: string; parent_id?: string | null } }).project;
        const domainId = b.domain_id ?? b.parent_id ?? DEFAULT_DOMAIN.id;
        // Projects live directly in a domain here (no project hierarchy): a parent must be the domain.
        if (b.parent_id != null && b.parent_id !== domainId) throw badRequest('novact keeps projects directly in their domain: parent_id must be the domain.');
        if (!(await directory.domain(domainId))) throw badRequest(`Could not find domain: ${domainId}.`);
        const p = await identity.createProject({ name: b.name, description: b.description ?? '', enabled: b.enabled ?? true, domainId });
        reply.code(201);
        return { project: projectView(p, links) };
      },
    },
    ...grantRoutes,
    { method: 'GET', url: '/v3/role_assignments', policy: admin('identity:list_role_assignments'), handler: listAssignments },
    // The rest of Keystone's administration, registered with these (api-role.ts lists this module).
    ...domainRoutes(d),
    ...groupRoutes(d),
    ...roleRoutes(d),
    ...catalogRoutes(d),
    ...appCredRoutes(d),
  ];
}
