import { EntitySchema } from '@mikro-orm/core';

/**
 * Keystone's identity records, owned by the api role: projects, users (with a scrypt password hash)
 * the rest of Keystone's records are in keystone.ts.
 */
export interface ProjectRow {
  id: string;
  name: string;
  domainId: string;
  description: string;
  enabled: boolean;
  createdAt: Date;
}

export const Project = new EntitySchema<ProjectRow>({
  name: 'Project',
  tableName: 'keystone_projects',
  uniques: [{ properties: ['domainId', 'name'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    name: { type: 'string', length: 64 },
    domainId: { type: 'string', length: 64 },
    description: { type: 'text' },
    enabled: { type: 'boolean' },
    createdAt: { type: 'datetime' },
  },
});

export interface UserRow {
  id: string;
  name: string;
  domainId: string;
  /** `scrypt$N$r$p$<salt b64>$<key b64>` (see actors/api/identity/passwords.ts). */
  passwordHash: string;
  defaultProjectId: string | null;
  enabled: boolean;
  /** Keystone keeps these as extra attributes. */
  description: string | null;
  email: string | null;
  createdAt: Date;
}

export const User = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'keystone_users',
  uniques: [{ properties: ['domainId', 'name'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    name: { type: 'string', length: 255 },
    domainId: { type: 'string', length: 64 },
    passwordHash: { type: 'string', length: 255 },
    defaultProjectId: { type: 'string', length: 64, nullable: true },
    enabled: { type: 'boolean' },
    description: { type: 'text', nullable: true },
    email: { type: 'string', length: 255, nullable: true },
    createdAt: { type: 'datetime' },
  },
});
