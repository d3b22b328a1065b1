/**
 * Keystone v3 application credentials (`/v3/users/{user}/application_credentials`): a user makes
 * them for the project its token is scoped to, with a subset of its roles there (all of them by
 * default); the secret is in the creation answer only. A token from a restricted application
 * credential may not make or delete others (Keystone's rule, so a leaked credential cannot mint
 * more); deleting one revokes its tokens. Users manage their own; an admin may list and delete.
 */
import type { FastifyRequest } from 'fastify';
import type { AppCredentialRow, RoleRow } from '../../../runtime/db/entities/index.js';
import { authOf } from '../context.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import type { IdentityDeps } from './auth-routes.js';
import { LONG_NAME, TEXT } from './schemas.js';
import { isSystemToken } from './tokens.js';
import { appCredView, collectionLinks } from './views.js';

const ROLE_REF = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 255 }, domain_id: { type: ['string', 'null'], maxLength: 64 } },
  additionalProperties: false,
} as const;

const APP_CRED_SCHEMA = {
  type: 'object', required: ['application_credential'],
  properties: {
    application_credential: {
      type: 'object', required: ['name'],
      properties: {
        name: LONG_NAME, description: TEXT, secret: { type: 'string', minLength: 1, maxLength: 4096 },
        expires_at: { type: ['string', 'null'], maxLength: 64 }, roles: { type: 'array', maxItems: 64, items: ROLE_REF },
        unrestricted: { type: 'boolean' }, access_rules: { type: 'array', maxItems: 0 },
      },
      additionalProperties: false,
    },
  },
} as const;

interface AppCredBody {
  name: string;
  description?: string | null;
  secret?: string;
  expires_at?: string | null;
  roles?: { id?: string; name?: string }[];
  unrestricted?: boolean;
}

const RESTRICTED = "Using method 'application_credential' is not allowed for managing additional application credentials.";

export function appCredRoutes(d: IdentityDeps): Route[] {
  const { identity, links, tokens, clock } = d;
  const { appCreds, roles } = identity;

  /** The caller's token row (cached by the token service), to see whether it came from a restricted credential. */
  const callerToken = async (req: FastifyRequest) => (await tokens.validate(String(req.headers['x-auth-token']))).token;
  const ownOrAdmin = (req: FastifyRequest, rule: string) => {
    const auth = authOf(req);
    const userId = param(req, 'user');
    if (!auth.isAdmin && auth.userId !== userId) throw forbidden(`You are not authorized to perform the requested action: ${rule}.`);
    return userId;
  };
  const unrestrictedCaller = async (req: FastifyRequest) => {
    const t = await callerToken(req);
    if (t.appCredId && !(await appCreds.get(t.appCredId))?.unrestricted) throw forbidden(RESTRICTED);
    return t;
  };
  const view = async (c: AppCredentialRow) => appCredView(c, (await Promise.all(c.roles.map((id) => roles.get(id)))).filter((r): r is RoleRow => r !== undefined), links);
  const credOr404 = async (req: FastifyRequest, userId: string) => {
    const c = await appCreds.get(param(req, 'cred'));
    if (!c || c.userId !== userId) throw notFound(`Could not find Application Credential: ${param(req, 'cred')}.`);
    return c;
  };

  return [
    {
      method: 'POST', url: '/v3/users/:user/application_credentials', policy: reader('identity:create_application_credential'), schema: { body: APP_CRED_SCHEMA },
      handler: async (req, reply) => {
        const auth = authOf(req);
        const userId = param(req, 'user');
        // Only for oneself, even an admin: the credential acts as its user.
        if (auth.userId !== userId) throw forbidden('You are not authorized to perform the requested action: identity:create_application_credential.');
        const t = await unrestrictedCaller(req);
        if (isSystemToken(t)) throw badRequest('An application credential needs a project-scoped token.');
        const b = (req.body as { application_credential: AppCredBody }).application_credential;
        let expiresAt: Date | null = null;
        if (b.expires_at != null) {
          const ms = Date.parse(b.expires_at);
          if (Number.isNaN(ms)) throw badRequest(`Invalid input for field 'expires_at': ${b.expires_at} is not a valid date-time.`);
          if (ms <= clock.now()) throw badRequest('The expiration time of an application credential must be in the future.');
          expiresAt = new Date(ms);
        }
        // The roles must be among the caller's own on the project (implied ones included).
        const held = new Map((await roles.list()).filter((r) => auth.roles.includes(r.name) && r.domainId === '').map((r) => [r.name, r]));
        const wanted: RoleRow[] = [];
        const refs: { id?: string; name?: string }[] = b.roles ?? [...held.values()].map((r) => ({ id: r.id }));
        for (const ref of refs) {
          const r = ref.id !== undefined ? await roles.get(ref.id) : ref.name !== undefined ? held.get(ref.name) ?? (await roles.find(ref.name)) : undefined;
          if (!r) throw notFound(`Could not find role: ${ref.id ?? ref.name ?? ''}.`);
          if (!auth.roles.includes(r.name)) throw notFound(`Could not find role assignment with role: ${r.id}, user or group: ${userId}, project, domain, or system: ${t.projectId}.`);
          wanted.push(r);
        }
        if (wanted.length === 0) throw badRequest('An application credential needs at least one role.');
        const { row, secret } = await appCreds.create({
          userId, projectId: t.projectId, name: b.name, description: b.description ?? null, roles: [...new Set(wanted.map((r) => r.id))],
          unrestricted: b.unrestricted ?? false, expiresAt, ...(b.secret !== undefined ? { secret: b.secret } : {}),
        });
        reply.code(201);
        return { application_credential: { ...(await view(row)), secret } };
      },
    },
    {
      method: 'GET', url: '/v3/users/:user/application_credentials', policy: reader('identity:list_application_credentials'),
      handler: async (req) => {
        const userId = ownOrAdmin(req, 'identity:list_application_credentials');
        const list = await appCreds.list(userId, one(query(req).name));
        return { application_credentials: await Promise.all(list.map(view)), links: collectionLinks(links, `/users/${userId}/application_credentials`) };
      },
    },
    {
      method: 'GET', url: '/v3/users/:user/application_credentials/:cred', policy: reader('identity:get_application_credential'),
      handler: async (req) => ({ application_credential: await view(await credOr404(req, ownOrAdmin(req, 'identity:get_application_credential'))) }),
    },
    {
      method: 'DELETE', url: '/v3/users/:user/application_credentials/:cred', policy: reader('identity:delete_application_credential'),
      handler: async (req, reply) => {
        const userId = ownOrAdmin(req, 'identity:delete_application_credential');
        await unrestrictedCaller(req);
        const c = await credOr404(req, userId);
        await tokens.revokeAppCred(c.id);
        await appCreds.delete(userId, c.id);
        return reply.code(204).send();
      },
    },
  ];
}
