/**
 * Keystone's default roles (keystone-manage bootstrap) and their implications: `admin` implies
 * `member`, which implies `reader`, so a token lists every role its holder effectively has. Roles are
 * a fixed set here; their ids are stable across deployments so clients may cache them.
 */
import { createHash } from 'node:crypto';

export const ROLES = ['admin', 'member', 'reader', 'manager', 'service'] as const;
export type RoleName = (typeof ROLES)[number];

const IMPLIES: Record<RoleName, RoleName[]> = {
  admin: ['manager', 'member', 'reader'],
  manager: ['member', 'reader'],
  member: ['reader'],
  reader: [],
  service: [],
};

export function isRole(name: string): name is RoleName {
  return (ROLES as readonly string[]).includes(name);
}

/** The role's id: a hash of its name, 32 hex characters like Keystone's ids. */
export function roleId(name: RoleName): string {
  return createHash('sha256').update(`novact-role:${name}`).digest('hex').slice(0, 32);
}

export function roleById(id: string): RoleName | undefined {
  return ROLES.find((r) => roleId(r) === id);
}

/** Assigned roles plus everything they imply, in a stable order. */
export function effectiveRoles(assigned: readonly string[]): RoleName[] {
  const out = new Set<RoleName>();
  const add = (r: RoleName) => {
    if (out.has(r)) return;
    out.add(r);
    IMPLIES[r].forEach(add);
  };
  assigned.filter(isRole).forEach(add);
  return ROLES.filter((r) => out.has(r));
}
