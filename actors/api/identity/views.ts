/** Keystone's JSON for projects, users and roles. */
import type { ProjectRow, UserRow } from '../../../runtime/db/entities/index.js';
import type { Links } from '../links.js';
import { roleId, type RoleName } from './roles.js';

export function projectView(p: ProjectRow, links: Links): Record<string, unknown> {
  return {
    id: p.id, name: p.name, domain_id: p.domainId, description: p.description, enabled: p.enabled, is_domain: false,
    parent_id: p.domainId, tags: [], options: {}, links: { self: `${links.identity}/projects/${p.id}` },
  };
}

export function userView(u: UserRow, links: Links): Record<string, unknown> {
  return {
    id: u.id, name: u.name, domain_id: u.domainId, enabled: u.enabled, default_project_id: u.defaultProjectId ?? undefined,
    // Keystone shows these extra attributes only when they were set.
    description: u.description ?? undefined, email: u.email ?? undefined,
    password_expires_at: null, options: {}, links: { self: `${links.identity}/users/${u.id}` },
  };
}

export function roleView(r: RoleName, links: Links): Record<string, unknown> {
  return { id: roleId(r), name: r, domain_id: null, description: null, options: {}, links: { self: `${links.identity}/roles/${roleId(r)}` } };
}

export function collectionLinks(links: Links, path: string): Record<string, unknown> {
  return { self: `${links.identity}${path}`, previous: null, next: null };
}
