/**
 * Keystone v3 authentication: version discovery (`GET /v3`), token issue (`POST /v3/auth/tokens`,
 * password or token method, project scope; 201 with the token in `X-Subject-Token`), validation
 * (`GET`/`HEAD`), revocation (`DELETE`), and the caller's catalog and projects.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProjectRow, TokenRow, UserRow } from '../../../runtime/db/entities/index.js';
import type { Clock } from '../../../runtime/clock.js';
import { authOf } from '../context.js';
import { ApiError, badRequest, notFound, unauthorized } from '../faults.js';
import type { Links } from '../links.js';
import { open, reader } from '../policy.js';
import { one, query, type Route } from '../routes.js';
import { catalog } from './catalog.js';
import { DEFAULT_DOMAIN, type IdentityStore } from './identity-store.js';
import type { LoginLimiter } from './login-limiter.js';
import type { PasswordPolicy } from './password-policy.js';
import { projectView } from './views.js';
import type { TokenService } from './tokens.js';
import { tokenBody } from './token-body.js';

export interface IdentityDeps {
  identity: IdentityStore;
  tokens: TokenService;
  links: Links;
  limiter: LoginLimiter;
  passwordPolicy: PasswordPolicy;
  clock: Clock;
}

/** Keystone-style 429 when a login limit is spent; `waitMs` 0 lets the attempt through. */
export function checkLimit(waitMs: number): void {
  if (waitMs > 0) {
    throw new ApiError(429, 'Too many authentication attempts. Retry later.', { 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))) });
  }
}

const nameOrId = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    name: { type: 'string', minLength: 1, maxLength: 255 },
    domain: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 255 } } },
  },
} as const;

const AUTH_SCHEMA = {
  type: 'object',
  required: ['auth'],
  properties: {
    auth: {
      type: 'object',
      required: ['identity'],
      properties: {
        identity: {
          type: 'object',
          required: ['methods'],
          properties: {
            methods: { type: 'array', minItems: 1, maxItems: 4, items: { type: 'string', maxLength: 64 } },
            password: {
              type: 'object',
              required: ['user'],
              properties: { user: { ...nameOrId, required: ['password'], properties: { ...nameOrId.properties, password: { type: 'string', maxLength: 4096 } } } },
            },
            token: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 512 } } },
          },
        },
        scope: { type: ['object', 'string'], properties: { project: nameOrId } },
      },
    },
  },
} as const;

interface NameOrId {
  id?: string;
  name?: string;
  domain?: { id?: string; name?: string };
}

interface AuthBody {
  auth: {
    identity: { methods: string[]; password?: { user: NameOrId & { password: string } }; token?: { id: string } };
    scope?: { project?: NameOrId; domain?: unknown; system?: unknown } | string;
  };
}

/**
 * Only the default domain exists; naming another one finds nothing. A domain must be named by id or
 * name (`domain: {}` is Keystone's 400, not the default domain).
 */
function inDefaultDomain(d: NameOrId['domain']): boolean {
  if (d === undefined) return true;
  if (d.id === undefined && d.name === undefined) {
    throw badRequest('Expecting to find id or name in domain. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  }
  return (d.id === undefined || d.id === DEFAULT_DOMAIN.id) && (d.name === undefined || d.name === DEFAULT_DOMAIN.name);
}

/**
 * The key a user's login limit is kept under: the user's id once found (so naming them by id or by
 * name spends from one bucket), else the name as given.
 */
function userKey(u: NameOrId, found: UserRow | null): string {
  return found ? `id:${found.id}` : u.id !== undefined ? `id:${u.id}` : `name:${JSON.stringify(u.domain ?? null)}:${u.name ?? ''}`;
}

export function authRoutes(d: IdentityDeps): Route[] {
  const { identity, tokens, links, limiter, clock } = d;

  const findUser = async (u: NameOrId): Promise<UserRow | null> => {
    if (u.id !== undefined) return identity.user(u.id);
    if (u.name === undefined || u.domain === undefined) throw badRequest('Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect.');
    return inDefaultDomain(u.domain) ? identity.userByName(u.name) : null;
  };

  const findProject = async (p: NameOrId): Promise<ProjectRow | null> => {
    if (p.id !== undefined) return identity.project(p.id);
    if (p.name === undefined || p.domain === undefined) throw badRequest('Expecting to find domain in project. The server could not comply with the request since it is either malformed or otherwise incorrect.');
    return inDefaultDomain(p.domain) ? identity.projectByName(p.name) : null;
  };

  const issue = async (req: FastifyRequest, reply: FastifyReply) => {
    const { identity: id, scope } = (req.body as AuthBody).auth;
    let user: UserRow | null = null;
    let methods: string[];
    let parent: TokenRow | undefined;
    // Every attempt spends from its source's bucket before any work (a password check is ~0.5 s of scrypt).
    checkLimit(limiter.source(req.ip, clock.now()));
    if (id.methods.includes('password')) {
      if (!id.password) throw badRequest('Expecting to find password in identity.');
      const named = id.password.user;
      user = await findUser(named);
      checkLimit(limiter.user(userKey(named, user), clock.now()));
      if (!(await identity.authenticate(user, named.password)) || !user) throw unauthorized();
      methods = ['password'];
    } else if (id.methods.includes('token')) {
      if (!id.token) throw badRequest('Expecting to find token in identity.');
      parent = (await tokens.validate(id.token.id)).token;
      user = await identity.user(parent.userId);
      if (!user || !user.enabled) throw unauthorized();
      // Keystone keeps the parent's methods after `token`, so the chain shows how it began.
      methods = [...new Set(['token', ...parent.methods])];
    } else {
      throw unauthorized(`Attempted to authenticate with an unsupported method: ${id.methods.join(', ')}.`);
    }
    if (typeof scope === 'string' || (scope !== undefined && scope.project === undefined)) {
      throw badRequest('novact issues project-scoped tokens only: give scope.project.');
    }
    const project = scope?.project ? await findProject(scope.project) : user.defaultProjectId ? await identity.project(user.defaultProjectId) : null;
    if (!scope?.project && !project) throw badRequest('novact issues project-scoped tokens only: give scope.project.');
    if (!project || !project.enabled) throw unauthorized(`Could not find project or it is disabled.`);
    const roles = await identity.rolesOn(user.id, project.id);
    if (roles.length === 0) throw unauthorized(`User ${user.id} has no access to project ${project.id}`);
    const { token, row } = await tokens.issue(user.id, project.id, roles, methods, parent);
    reply.code(201).header('X-Subject-Token', token);
    return tokenBody(row, roles, user, project, links, one(query(req).nocatalog) === undefined);
  };

  /** The token named by `X-Subject-Token`, which the caller may inspect (its own, or any for an admin). */
  const subject = async (req: FastifyRequest) => {
    const auth = authOf(req);
    const raw = req.headers['x-subject-token'];
    if (typeof raw !== 'string' || raw.length === 0) throw badRequest('Missing X-Subject-Token header.');
    const t = await tokens.validate(raw).catch((err) => {
      if (err instanceof ApiError && err.code === 401) throw notFound('Could not find token.');
      throw err;
    });
    if (t.token.userId !== auth.userId && !auth.isAdmin) throw new ApiError(403, "You are not authorized to perform the requested action: identity:validate_token.");
    return { raw, t };
  };

  return [
    {
      method: 'GET', url: '/v3', policy: open,
      handler: async () => ({
        version: {
          id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z',
          links: [{ rel: 'self', href: `${links.identity}/` }],
          'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
        },
      }),
    },
    { method: 'POST', url: '/v3/auth/tokens', policy: open, schema: { body: AUTH_SCHEMA }, handler: issue },
    {
      method: 'GET', url: '/v3/auth/tokens', policy: reader('identity:validate_token'),
      handler: async (req, reply) => {
        const { raw, t } = await subject(req);
        const [user, project] = await Promise.all([identity.user(t.token.userId), identity.project(t.token.projectId)]);
        if (!user || !project) throw notFound('Could not find token.');
        reply.header('X-Subject-Token', raw);
        return tokenBody(t.token, t.roles, user, project, links, one(query(req).nocatalog) === undefined);
      },
    },
    {
      method: 'HEAD', url: '/v3/auth/tokens', policy: reader('identity:check_token'),
      handler: async (req, reply) => {
        await subject(req);
        return reply.code(200).send();
      },
    },
    {
      method: 'DELETE', url: '/v3/auth/tokens', policy: reader('identity:revoke_token'),
      handler: async (req, reply) => {
        const { raw } = await subject(req);
        await tokens.revoke(raw);
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/v3/auth/catalog', policy: reader('identity:get_auth_catalog'),
      handler: async () => ({ catalog: catalog(links), links: { self: `${links.identity}/auth/catalog`, previous: null, next: null } }),
    },
    {
      method: 'GET', url: '/v3/auth/projects', policy: reader('identity:get_auth_projects'),
      handler: async (req) => ({
        projects: (await identity.projectsOf(authOf(req).userId)).map((p) => projectView(p, links)),
        links: { self: `${links.identity}/auth/projects`, previous: null, next: null },
      }),
    },
  ];
}
