import { EntitySchema } from '@mikro-orm/core';

/**
 * An issued Keystone token. Only a SHA-256 of the token is stored, so a database read does not
 * hand out working tokens. `roles` are those held at issue time (kept for the record); validation
 * resolves the current roles (see actors/api/identity/tokens.ts). A token obtained with the `token`
 * method records its parent's audit id, so revoking the parent revokes it, and the chain's first
 * audit id (Keystone's second `audit_ids` element).
 */
export interface TokenRow {
  idHash: string;
  userId: string;
  projectId: string;
  roles: string[];
  methods: string[];
  auditId: string;
  /** The audit id of the chain's first token (null for a token issued by password). */
  auditChainId: string | null;
  /** The audit id of the token this one was issued from (token method), for revocation. */
  parentAuditId: string | null;
  issuedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  /** The application credential the token was issued for (its roles bound the token's). */
  appCredId: string | null;
}

export const Token = new EntitySchema<TokenRow>({
  name: 'Token',
  tableName: 'keystone_tokens',
  indexes: [{ properties: ['expiresAt'] }, { properties: ['userId'] }, { properties: ['projectId'] }, { properties: ['parentAuditId'] }, { properties: ['auditId'] }, { properties: ['appCredId'] }],
  properties: {
    idHash: { type: 'string', length: 64, primary: true },
    userId: { type: 'string', length: 64 },
    projectId: { type: 'string', length: 64 },
    roles: { type: 'json' },
    methods: { type: 'json' },
    auditId: { type: 'string', length: 64 },
    auditChainId: { type: 'string', length: 64, nullable: true },
    parentAuditId: { type: 'string', length: 64, nullable: true },
    issuedAt: { type: 'datetime' },
    expiresAt: { type: 'datetime' },
    revokedAt: { type: 'datetime', nullable: true },
    appCredId: { type: 'string', length: 64, nullable: true },
  },
});
