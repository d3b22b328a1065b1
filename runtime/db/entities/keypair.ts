import { EntitySchema } from '@mikro-orm/core';

/** Nova's key pairs: named per user, holding only the public half. */
export interface KeyPairRow {
  id: number;
  userId: string;
  name: string;
  type: 'ssh' | 'x509';
  publicKey: string;
  fingerprint: string;
  createdAt: Date;
}

export const KeyPair = new EntitySchema<KeyPairRow>({
  name: 'KeyPair',
  tableName: 'key_pairs',
  uniques: [{ properties: ['userId', 'name'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    userId: { type: 'string', length: 64 },
    name: { type: 'string', length: 255 },
    type: { type: 'string', length: 16 },
    publicKey: { type: 'text' },
    fingerprint: { type: 'string', length: 128 },
    createdAt: { type: 'datetime' },
  },
});
