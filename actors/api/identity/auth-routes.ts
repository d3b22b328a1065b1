/**
 * Keystone v3 authentication: version discovery (`GET /v3`), token issue (`POST /v3/auth/tokens`,
 * password, token or application_credential method, project or system scope; 201 with the token in
 * `X-Subject-Token`), validation (`GET`/`HEAD`), revocation (`DELETE`), and the caller's catalog,
 * projects, domains and system.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppCredentialRow, DomainRow, ProjectRow, TokenRow, UserRow } from '../../../runtime/db/entities/index.js';
import type { Clock } from '../../../runtime/clock.js';
import { authOf } from '../context.js';
import { ApiError, badRequest, notFound, unauthorized } from '../faults.js';
import type { Links } from '../links.js';
import { open, reader } from '../policy.js';
import { one, query, type Route } from '../routes.js';
import { SYSTEM_TARGET } from './assignment-store.js';
import type { IdentityStore } from './identity-store.js';
import type { LoginLimiter } from './login-limiter.js';
import type { PasswordPolicy } from './password-policy.js';
import { domainView, projectView } from './views.js';
import { isSystemToken, type TokenService } from './tokens.js';
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
            application_credential: {
              type: 'object', required: ['secret'],
              properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 255 }, secret: { type: 'string', minLength: 1, maxLength: 4096 }, user: nameOrId },
            },
          },
        },
        scope: { type: ['object', 'string'], properties: { project: nameOrId, domain: nameOrId, system: { type: 'object', properties: { all: { type: 'boolean' } } } } },
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
    identity: {
      methods: string[];
      password?: { user: NameOrId & { password: string } };
      token?: { id: string };
      application_credential?: { id?: string; name?: string; secret: string; user?: NameOrId };
    };
    scope?: { project?: NameOrId; domain?: NameOrId; system?: { all?: boolean } } | string;
  };
}

/**
 * The key a user's login limit is kept under: the user's id once found (so naming them by id or by
 * name spends from one bucket), else the name as given.
 */
function userKey(u: NameOrId, found: UserRow | null): string {
  return found ? `id:${found.id}` : u.id !== undefined ? `id:${u.id}` : `name:${JSON.stringify(u.domain ?? null)}:${u.name ?? ''}`;
}

const MALFORMED = 'The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.';

export function authRoutes(d: IdentityDeps): Route[] {
  const { identity, tokens, links, limiter, clock } = d;
  const { directory, appCreds, assignments } = identity;

  /** The domain named by id or name (`domain: {}` is Keystone's 400, not the default domain). */
  const findDomain = async (dom: { id?: string; name?: string }): Promise<DomainRow | null> => {
    if (dom.id === undefined && dom.name === undefined) throw badRequest(`Expecting to find id or name in domain. ${MALFORMED}`);
    const found = dom.id !== undefined ? await directory.domain(dom.id) : await directory.domainByName(dom.name!);
    return found && (dom.name === undefined || found.name === dom.name) ? found : null;
  };

  const findUser = async (u: NameOrId): Promise<UserRow | null> => {
    if (u.id !== undefined) return identity.user(u.id);
    if (u.name === undefined || u.domain === undefined) throw badRequest(`Expecting to find domain in user. ${MALFORMED}`);
    const dom = await findDomain(u.domain);
    return dom ? identity.userByName(u.name, dom.id) : null;
  };

  const findProject = async (p: NameOrId): Promise<ProjectRow | null> => {
    if (p.id !== undefined) return identity.project(p.id);
    if (p.name === undefined || p.domain === undefined) throw badRequest(`Expecting to find domain in project. ${MALFORMED}`);
    const dom = await findDomain(p.domain);
    return dom ? identity.projectByName(p.name, dom.id) : null;
  };

  /** A user may act only while it and its domain are enabled. */
  const enabledUser = async (u: UserRow | null): Promise<UserRow | null> => (u && u.enabled && (await directory.domain(u.domainId))?.enabled ? u : null);

  const findAppCred = async (c: NonNullable<AuthBody['auth']['identity']['application_credential']>): Promise<AppCredentialRow | null> => {
    if (c.id !== undefined) return appCreds.get(c.id);
    if (c.name === undefined || c.user === undefined) throw badRequest(`Expecting to find id or name and user in application_credential. ${MALFORMED}`);
    const user = await findUser(c.user);
    return user ? appCreds.byName(user.id, c.name) : null;
  };

  /** Who authenticates, how, and (for an application credential) on what. */
  const identify = async (req: FastifyRequest, id: AuthBody['auth']['identity']): Promise<{ user: UserRow; methods: string[]; parent?: TokenRow; appCred?: AppCredentialRow }> => {
    if (id.methods.includes('password')) {
      if (!id.password) throw badRequest('Expecting to find password in identity.');
      const named = id.password.user;
      const user = await findUser(named);
      checkLimit(limiter.user(userKey(named, user), clock.now()));
      if (!(await identity.authenticate(user, named.password)) || !user || !(await enabledUser(user))) throw unauthorized();
      return { user, methods: ['password'] };
    }
    if (id.methods.includes('token')) {
      if (!id.token) throw badRequest('Expecting to find token in identity.');
      const parent = (await tokens.validate(id.token.id)).token;
      const user = await enabledUser(await identity.user(parent.userId));
      if (!user) throw unauthorized();
      // A token from an application credential's token stays bound by it.
      const appCred = parent.appCredId ? await appCreds.get(parent.appCredId) : null;
      if (parent.appCredId && !appCred) throw unauthorized();
      // Keystone keeps the parent's methods after `token`, so the chain shows how it began.
      return { user, methods: [...new Set(['token', ...parent.methods])], parent, ...(appCred ? { appCred } : {}) };
    }
    if (id.methods.includes('application_credential')) {
      const given = id.application_credential;
      if (!given) throw badRequest('Expecting to find application_credential in identity.');
      const cred = await findAppCred(given);
      checkLimit(limiter.user(cred ? `id:${cred.userId}` : `appcred:${given.id ?? given.name ?? ''}`, clock.now()));
      const user = cred ? await enabledUser(await identity.user(cred.userId)) : null;
      if (!cred || !user || !(await appCreds.verify(cred, given.secret))) throw unauthorized();
      return { user, methods: ['application_credential'], appCred: cred };
    }
    throw unauthorized(`Attempted to authenticate with an unsupported method: ${id.methods.join(', ')}.`);
  };

  const issue = async (req: FastifyRequest, reply: FastifyReply) => {
    const { identity: id, scope } = (req.body as AuthBody).auth;
    // Every attempt spends from its source's bucket before any work (a password check is ~0.5 s of scrypt).
    checkLimit(limiter.source(req.ip, clock.now()));
    const { user, methods, parent, appCred } = await identify(req, id);
    if (typeof scope === 'string' || scope?.domain !== undefined) throw badRequest('novact issues project- and system-scoped tokens only: give scope.project or scope.system.');
    const system = scope?.system !== undefined;
    if (system && scope.system!.all !== true) throw badRequest(`Expecting to find all in system. ${MALFORMED}`);
    // An application credential is bound to its project; a scope naming another is refused.
    let project: ProjectRow | null = null;
    if (appCred) {
      if (system) throw unauthorized('Application credentials cannot request a scope.');
      project = await identity.project(appCred.projectId);
      if (scope?.project && (await findProject(scope.project))?.id !== appCred.projectId) throw unauthorized('Application credentials cannot request a scope.');
    } else if (!system) {
      project = scope?.project ? await findProject(scope.project) : user.defaultProjectId ? await identity.project(user.defaultProjectId) : null;
      if (!scope?.project && !project) throw badRequest('novact issues project- and system-scoped tokens only: give scope.project or scope.system.');
    }
    if (!system && (!project || !project.enabled || !(await directory.domain(project.domainId))?.enabled)) throw unauthorized('Could not find project or it is disabled.');
    const target = system ? SYSTEM_TARGET : project!.id;
    let roles = await identity.rolesOn(user.id, { kind: system ? 'System' : 'Project', id: target });
    if (appCred) {
      const allowed = new Set((await identity.roles.expand(appCred.roles)).map((r) => r.name));
      roles = roles.filter((r) => allowed.has(r));
    }
    if (roles.length === 0) throw unauthorized(system ? `User ${user.id} has no access to the system` : `User ${user.id} has no access to project ${target}`);
    const { token, row } = await tokens.issue(user.id, target, roles, methods, parent, appCred?.id ?? null);
    reply.code(201).header('X-Subject-Token', token);
    return body(row, roles, user, req);
  };

  /** The token body for a token row and the roles it grants. */
  const body = async (row: TokenRow, roles: readonly string[], user: UserRow, req: FastifyRequest) => {
    const [userDomain, project, allRoles, cred] = await Promise.all([
      directory.domain(user.domainId),
      isSystemToken(row) ? null : identity.project(row.projectId),
      identity.roles.list({ domainId: '' }),
      row.appCredId ? appCreds.get(row.appCredId) : null,
    ]);
    const projectDomain = project ? await directory.domain(project.domainId) : null;
    if (!userDomain || (!isSystemToken(row) && (!project || !projectDomain))) throw notFound('Could not find token.');
    const ids = new Map(allRoles.map((r) => [r.name, r.id]));
    return tokenBody(row, {
      user, userDomain,
      project: project && projectDomain ? { row: project, domain: projectDomain } : null,
      roles: roles.map((name) => ({ id: ids.get(name) ?? name, name })),
      catalog: one(query(req).nocatalog) === undefined ? await identity.catalog.catalog(links) : null,
      appCred: cred ? { id: cred.id, name: cred.name, restricted: !cred.unrestricted } : undefined,
    });
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

  const listLinks = (path: string) => ({ self: `${links.identity}${path}`, previous: null, next: null });

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
        const user = await identity.user(t.token.userId);
        if (!user) throw notFound('Could not find token.');
        const b = await body(t.token, t.roles, user, req);
        reply.header('X-Subject-Token', raw);
        return b;
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
      handler: async () => ({ catalog: await identity.catalog.catalog(links), links: listLinks('/auth/catalog') }),
    },
    {
      method: 'GET', url: '/v3/auth/projects', policy: reader('identity:get_auth_projects'),
      handler: async (req) => ({ projects: (await identity.projectsOf(authOf(req).userId)).map((p) => projectView(p, links)), links: listLinks('/auth/projects') }),
    },
    {
      method: 'GET', url: '/v3/auth/domains', policy: reader('identity:get_auth_domains'),
      handler: async (req) => {
        const ids = await assignments.targetIdsOf(authOf(req).userId, 'Domain');
        const domains = ids.length === 0 ? [] : await directory.domains({ ids, enabled: true });
        return { domains: domains.map((x) => domainView(x, links)), links: listLinks('/auth/domains') };
      },
    },
    {
      method: 'GET', url: '/v3/auth/system', policy: reader('identity:get_auth_system'),
      handler: async (req) => {
        const held = (await assignments.roleIdsOn(authOf(req).userId, { kind: 'System', id: SYSTEM_TARGET })).length > 0;
        return { system: held ? [{ all: true }] : [], links: listLinks('/auth/system') };
      },
    },
  ];
}
