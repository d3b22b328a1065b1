import { EntitySchema } from '@mikro-orm/core';

/**
 * An issued Keystone token. Only a SHA-256 of the token is stored, so a database read does not
 * hand out working tokens. Roles are copied at issue time, as Keystone's token payload carries them.
 */
export interface TokenRow {
  idHash: string;
  userId: string;
  projectId: string;
  roles: string[];
  methods: string[];
  auditId: string;
  issuedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

export const Token = new EntitySchema<TokenRow>({
  name: 'Token',
  tableName: 'keystone_tokens',
  indexes: [{ properties: ['expiresAt'] }],
  properties: {
    idHash: { type: 'string', length: 64, primary: true },
    userId: { type: 'string', length: 64 },
    projectId: { type: 'string', length: 64 },
    roles: { type: 'json' },
    methods: { type: 'json' },
    auditId: { type: 'string', length: 64 },
    issuedAt: { type: 'datetime' },
    expiresAt: { type: 'datetime' },
    revokedAt: { type: 'datetime', nullable: true },
  },
});
