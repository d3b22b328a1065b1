/** Keystone's token body (`POST`/`GET /v3/auth/tokens`), from a token record and what it names. */
import type { DomainRow, ProjectRow, TokenRow, UserRow } from '../../../runtime/db/entities/index.js';
import type { CatalogEntry } from './catalog.js';

/** Keystone prints times with microseconds: `2015-11-05T22:00:11.000000Z`. */
export function keystoneTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface TokenSubject {
  user: UserRow;
  userDomain: DomainRow;
  /** The project and its domain, or null for a system-scoped token. */
  project: { row: ProjectRow; domain: DomainRow } | null;
  /** What the token grants now (resolved at validation), not what it was issued with. */
  roles: { id: string; name: string }[];
  catalog: CatalogEntry[] | null;
  /** The application credential the token came from. */
  appCred?: { id: string; name: string; restricted: boolean } | undefined;
}

const ref = (d: DomainRow) => ({ id: d.id, name: d.name });

export function tokenBody(t: TokenRow, s: TokenSubject): Record<string, unknown> {
  const token: Record<string, unknown> = {
    methods: t.methods,
    user: { domain: ref(s.userDomain), id: s.user.id, name: s.user.name, password_expires_at: null },
    // Keystone's shape: the token's own audit id, then the chain's first (for token-method tokens).
    audit_ids: t.auditChainId ? [t.auditId, t.auditChainId] : [t.auditId],
    expires_at: keystoneTime(t.expiresAt),
    issued_at: keystoneTime(t.issuedAt),
    roles: s.roles,
  };
  if (s.project) {
    token.project = { domain: ref(s.project.domain), id: s.project.row.id, name: s.project.row.name };
    token.is_domain = false;
  } else {
    token.system = { all: true };
  }
  if (s.appCred) token.application_credential = s.appCred;
  if (s.catalog) token.catalog = s.catalog;
  return { token };
}
