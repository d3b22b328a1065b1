/**
 * Keystone's default roles (keystone-manage bootstrap). Roles are rows (role-store.ts); the
 * built-in ones keep ids derived from their names, stable across deployments so clients may cache
 * them (the migration that seeds them computes the same hash).
 */
import { createHash } from 'node:crypto';

export const ROLES = ['admin', 'member', 'reader', 'manager', 'service'] as const;
/** A role's name: one of the built-in ones or any an admin created. */
export type RoleName = string;

/** A built-in role's id: a hash of its name, 32 hex characters like Keystone's ids. */
export function roleId(name: (typeof ROLES)[number]): string {
  return createHash('sha256').update(`novact-role:${name}`).digest('hex').slice(0, 32);
}

export function roleById(id: string): (typeof ROLES)[number] | undefined {
  return ROLES.find((r) => roleId(r) === id);
}
