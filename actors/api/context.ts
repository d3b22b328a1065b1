/**
 * What the API knows about a request once its hooks have run: who is calling (from the token), which
 * compute microversion they asked for, and which OpenStack service the path belongs to (for the
 * fault body style and the version headers). Declared on Fastify's request and route config.
 */
import type { Microversion } from './microversion.js';
import type { RoleName } from './identity/roles.js';

export interface AuthContext {
  userId: string;
  projectId: string;
  /** Effective roles (implied ones included). */
  roles: readonly RoleName[];
  isAdmin: boolean;
  auditId: string;
  issuedAt: Date;
  expiresAt: Date;
  methods: string[];
}

export type ApiService = 'compute' | 'image' | 'identity' | 'network';

/** Who may call a route: anyone, any authenticated role, members (writers), or admins. */
export type PolicyLevel = 'public' | 'reader' | 'member' | 'admin';

export interface RoutePolicy {
  level: PolicyLevel;
  /** Nova/Glance/Keystone/Neutron policy rule name, quoted in 403 messages. */
  rule: string;
  /** The refusal when the caller is below `level`, for a service whose 403 is not Nova's (Neutron's PolicyNotAuthorized). */
  denied?: () => Error;
}

/** What a route's body must be: JSON, Glance's JSON-patch, raw bytes, or nothing at all. */
export type BodyKind = 'json' | 'json-patch' | 'octet' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
    microversion: Microversion;
    service: ApiService;
  }
  interface FastifyContextConfig {
    policy?: RoutePolicy;
    body?: BodyKind;
  }
}

/** The authenticated caller; routes reached it only through the auth hook, so it is always set. */
export function authOf(req: { auth: AuthContext | null }): AuthContext {
  if (!req.auth) throw new Error('route reached without authentication');
  return req.auth;
}
