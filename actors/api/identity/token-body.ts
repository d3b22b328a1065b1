/** Keystone's token body (`POST`/`GET /v3/auth/tokens`), from a token record and its user and project. */
import type { ProjectRow, TokenRow, UserRow } from '../../../runtime/db/entities/index.js';
import type { Links } from '../links.js';
import { catalog } from './catalog.js';
import { DEFAULT_DOMAIN } from './identity-store.js';
import { effectiveRoles, roleId } from './roles.js';

/** Keystone prints times with microseconds: `2015-11-05T22:00:11.000000Z`. */
export function keystoneTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** `roles`: what the token grants now (resolved at validation), not what it was issued with. */
export function tokenBody(t: TokenRow, roles: readonly string[], user: UserRow, project: ProjectRow, links: Links, withCatalog: boolean): Record<string, unknown> {
  const token: Record<string, unknown> = {
    methods: t.methods,
    user: { domain: { ...DEFAULT_DOMAIN }, id: user.id, name: user.name, password_expires_at: null },
    // Keystone's shape: the token's own audit id, then the chain's first (for token-method tokens).
    audit_ids: t.auditChainId ? [t.auditId, t.auditChainId] : [t.auditId],
    expires_at: keystoneTime(t.expiresAt),
    issued_at: keystoneTime(t.issuedAt),
    project: { domain: { ...DEFAULT_DOMAIN }, id: project.id, name: project.name },
    is_domain: false,
    roles: effectiveRoles(roles).map((r) => ({ id: roleId(r), name: r })),
  };
  if (withCatalog) token.catalog = catalog(links);
  return { token };
}
