/**
 * Keystone v3 users: list, show, create, update (`PATCH`: enable/disable, password, name,
 * description, e-mail, default project), delete, and a user's own password change
 * (`POST /v3/users/{id}/password`, which needs no token: it proves itself with the original
 * password, as Keystone's does, so it passes the same login limits). Disabling a user, deleting one
 * or setting a password revokes the user's tokens. Users live in a domain (`domain_id`, default
 * `default`); names are unique within it.
 */
import { authOf } from '../context.js';
import { badRequest, forbidden, notFound, unauthorized } from '../faults.js';
import { admin, open, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { checkLimit, type IdentityDeps } from './auth-routes.js';
import { DEFAULT_DOMAIN, type UserPatch } from './identity-store.js';
import { checkPasswordPolicy } from './password-policy.js';
import { enabledFilter, ID_REF } from './schemas.js';
import { collectionLinks, userView } from './views.js';

const NAME = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]+$' } as const;
const PASSWORD = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const TEXT = { type: ['string', 'null'], maxLength: 65535, pattern: '^[^\\x00]*$' } as const;
const EMAIL = { type: ['string', 'null'], maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]*$' } as const;
const PROJECT_REF = { type: ['string', 'null'], maxLength: 64 } as const;

const USER_SCHEMA = {
  type: 'object', required: ['user'],
  properties: {
    user: {
      type: 'object', required: ['name', 'password'],
      properties: {
        name: NAME, password: PASSWORD, enabled: { type: 'boolean' },
        default_project_id: PROJECT_REF, domain_id: ID_REF,
        description: TEXT, email: EMAIL, options: { type: 'object', maxProperties: 0 },
      },
      additionalProperties: false,
    },
  },
} as const;

const USER_UPDATE_SCHEMA = {
  type: 'object', required: ['user'],
  properties: {
    user: {
      type: 'object',
      properties: {
        name: NAME, password: PASSWORD, enabled: { type: 'boolean' }, default_project_id: PROJECT_REF,
        description: TEXT, email: EMAIL, domain_id: ID_REF, options: { type: 'object', maxProperties: 0 },
      },
      additionalProperties: false,
    },
  },
} as const;

const PASSWORD_CHANGE_SCHEMA = {
  type: 'object', required: ['user'],
  properties: {
    user: {
      type: 'object', required: ['password', 'original_password'],
      properties: { password: PASSWORD, original_password: PASSWORD },
      additionalProperties: false,
    },
  },
} as const;

interface UserBody {
  name?: string;
  password?: string;
  enabled?: boolean;
  default_project_id?: string | null;
  description?: string | null;
  email?: string | null;
  domain_id?: string;
}

export function userRoutes(d: IdentityDeps): Route[] {
  const { identity, tokens, links, limiter, clock, passwordPolicy } = d;

  const userOr404 = async (id: string) => {
    const u = await identity.user(id);
    if (!u) throw notFound(`Could not find user: ${id}.`);
    return u;
  };
  const checkProject = async (id: string | null | undefined) => {
    if (id && !(await identity.project(id))) throw notFound(`Could not find project: ${id}.`);
  };

  return [
    {
      method: 'GET', url: '/v3/users', policy: admin('identity:list_users'),
      handler: async (req) => {
        const q = query(req);
        const filter = { name: one(q.name), domainId: one(q.domain_id), enabled: enabledFilter(one(q.enabled)) };
        return { users: (await identity.users(filter)).map((u) => userView(u, links)), links: collectionLinks(links, '/users') };
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
        const b = (req.body as { user: UserBody & { name: string; password: string } }).user;
        checkPasswordPolicy(b.password, passwordPolicy);
        await checkProject(b.default_project_id);
        const domainId = b.domain_id ?? DEFAULT_DOMAIN.id;
        if (!(await identity.directory.domain(domainId))) throw badRequest(`Could not find domain: ${domainId}.`);
        const u = await identity.createUser({
          name: b.name, password: b.password, defaultProjectId: b.default_project_id ?? null, enabled: b.enabled ?? true,
          description: b.description ?? null, email: b.email ?? null, domainId,
        });
        reply.code(201);
        return { user: userView(u, links) };
      },
    },
    {
      method: 'PATCH', url: '/v3/users/:user', policy: admin('identity:update_user'), schema: { body: USER_UPDATE_SCHEMA },
      handler: async (req) => {
        const id = param(req, 'user');
        const b = (req.body as { user: UserBody }).user;
        const before = await userOr404(id);
        if (b.domain_id !== undefined && b.domain_id !== before.domainId) throw badRequest('Update of `domain_id` is not allowed.');
        if (b.password !== undefined) checkPasswordPolicy(b.password, passwordPolicy);
        await checkProject(b.default_project_id);
        const patch: UserPatch = {};
        for (const [k, v] of [['name', b.name], ['enabled', b.enabled], ['password', b.password], ['description', b.description], ['email', b.email], ['defaultProjectId', b.default_project_id]] as const) {
          if (v !== undefined) Object.assign(patch, { [k]: v });
        }
        const u = await identity.updateUser(id, patch);
        if (!u) throw notFound(`Could not find user: ${id}.`);
        // As Keystone: disabling a user or setting a password revokes every token the user holds.
        if ((b.enabled === false && before.enabled) || b.password !== undefined) await tokens.revokeUser(id);
        return { user: userView(u, links) };
      },
    },
    {
      method: 'DELETE', url: '/v3/users/:user', policy: admin('identity:delete_user'),
      handler: async (req, reply) => {
        const id = param(req, 'user');
        if (!(await identity.deleteUser(id))) throw notFound(`Could not find user: ${id}.`);
        tokens.forget((t) => t.userId === id);
        return reply.code(204).send();
      },
    },
    {
      method: 'POST', url: '/v3/users/:user/password', policy: open, schema: { body: PASSWORD_CHANGE_SCHEMA },
      handler: async (req, reply) => {
        const id = param(req, 'user');
        const b = (req.body as { user: { password: string; original_password: string } }).user;
        checkLimit(limiter.source(req.ip, clock.now()));
        checkLimit(limiter.user(`id:${id}`, clock.now()));
        checkPasswordPolicy(b.password, passwordPolicy);
        const user = await identity.user(id);
        // Unknown, disabled or wrong: one 401 at the cost of one hash check, as at login.
        if (!(await identity.authenticate(user, b.original_password)) || !user) throw unauthorized();
        await identity.setPassword(id, b.password);
        await tokens.revokeUser(id);
        return reply.code(204).send();
      },
    },
  ];
}
