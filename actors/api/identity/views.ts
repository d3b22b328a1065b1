/** Keystone's JSON for its resources. */
import type { AppCredentialRow, DomainRow, EndpointRow, GroupRow, ProjectRow, RegionRow, RoleRow, ServiceRow, UserRow } from '../../../runtime/db/entities/index.js';
import type { Links } from '../links.js';
import { endpointUrl } from './catalog.js';
import { keystoneTime } from './token-body.js';

const self = (links: Links, path: string) => ({ self: `${links.identity}${path}` });

export function projectView(p: ProjectRow, links: Links): Record<string, unknown> {
  return {
    id: p.id, name: p.name, domain_id: p.domainId, description: p.description, enabled: p.enabled, is_domain: false,
    parent_id: p.domainId, tags: [], options: {}, links: self(links, `/projects/${p.id}`),
  };
}

export function userView(u: UserRow, links: Links): Record<string, unknown> {
  return {
    id: u.id, name: u.name, domain_id: u.domainId, enabled: u.enabled, default_project_id: u.defaultProjectId ?? undefined,
    // Keystone shows these extra attributes only when they were set.
    description: u.description ?? undefined, email: u.email ?? undefined,
    password_expires_at: null, options: {}, links: self(links, `/users/${u.id}`),
  };
}

export function domainView(d: DomainRow, links: Links): Record<string, unknown> {
  return { id: d.id, name: d.name, description: d.description, enabled: d.enabled, tags: [], options: {}, links: self(links, `/domains/${d.id}`) };
}

export function groupView(g: GroupRow, links: Links): Record<string, unknown> {
  return { id: g.id, name: g.name, domain_id: g.domainId, description: g.description, links: self(links, `/groups/${g.id}`) };
}

export function roleView(r: RoleRow, links: Links): Record<string, unknown> {
  return { id: r.id, name: r.name, domain_id: r.domainId === '' ? null : r.domainId, description: r.description, options: {}, links: self(links, `/roles/${r.id}`) };
}

/** A role as an implication names it (`prior_role`, `implies`). */
export function roleRef(r: RoleRow, links: Links): Record<string, unknown> {
  return { id: r.id, name: r.name, links: self(links, `/roles/${r.id}`) };
}

export function regionView(r: RegionRow, links: Links): Record<string, unknown> {
  return { id: r.id, description: r.description, parent_region_id: r.parentRegionId, links: self(links, `/regions/${r.id}`) };
}

export function serviceView(s: ServiceRow, links: Links): Record<string, unknown> {
  return { id: s.id, type: s.type, name: s.name, description: s.description ?? undefined, enabled: s.enabled, links: self(links, `/services/${s.id}`) };
}

export function endpointView(e: EndpointRow, links: Links): Record<string, unknown> {
  return {
    id: e.id, service_id: e.serviceId, interface: e.interface, region: e.regionId, region_id: e.regionId, url: endpointUrl(e.url, links),
    enabled: e.enabled, links: self(links, `/endpoints/${e.id}`),
  };
}

export function appCredView(c: AppCredentialRow, roles: RoleRow[], links: Links): Record<string, unknown> {
  return {
    id: c.id, name: c.name, description: c.description, user_id: c.userId, project_id: c.projectId,
    expires_at: c.expiresAt ? keystoneTime(c.expiresAt) : null, unrestricted: c.unrestricted, access_rules: [],
    roles: roles.map((r) => ({ id: r.id, name: r.name, domain_id: r.domainId === '' ? null : r.domainId })),
    links: self(links, `/users/${c.userId}/application_credentials/${c.id}`),
  };
}

export function collectionLinks(links: Links, path: string): Record<string, unknown> {
  return { self: `${links.identity}${path}`, previous: null, next: null };
}
