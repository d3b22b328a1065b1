/**
 * Keystone v3 domains: create, list (`?name=`, `?enabled=`), show, update, enable/disable and
 * delete. A domain must be disabled before it is deleted (Keystone's 403), and deleting one deletes
 * its users, projects and groups. Disabling or deleting a domain revokes every token of its users
 * and on its projects. `default` cannot be disabled or deleted here: the bootstrap admin lives in it.
 */
import { authOf } from '../context.js';
import { forbidden, notFound } from '../faults.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import type { IdentityDeps } from './auth-routes.js';
import { DEFAULT_DOMAIN } from './directory-store.js';
import { enabledFilter, NAME, TEXT } from './schemas.js';
import { collectionLinks, domainView } from './views.js';

const DOMAIN_FIELDS = { name: NAME, description: TEXT, enabled: { type: 'boolean' }, tags: { type: 'array', maxItems: 0 }, options: { type: 'object', maxProperties: 0 } } as const;
const DOMAIN_SCHEMA = { type: 'object', required: ['domain'], properties: { domain: { type: 'object', required: ['name'], properties: DOMAIN_FIELDS, additionalProperties: false } } } as const;
const DOMAIN_UPDATE_SCHEMA = { type: 'object', required: ['domain'], properties: { domain: { type: 'object', properties: DOMAIN_FIELDS, additionalProperties: false } } } as const;

interface DomainBody {
  name?: string;
  description?: string | null;
  enabled?: boolean;
}

export function domainRoutes(d: IdentityDeps): Route[] {
  const { identity, links, tokens } = d;
  const { directory } = identity;

  const domainOr404 = async (id: string) => {
    const dom = await directory.domain(id);
    if (!dom) throw notFound(`Could not find domain: ${id}.`);
    return dom;
  };

  return [
    {
      method: 'GET', url: '/v3/domains', policy: admin('identity:list_domains'),
      handler: async (req) => {
        const q = query(req);
        const list = await directory.domains({ ...(one(q.name) !== undefined ? { name: one(q.name)! } : {}), ...(q.enabled !== undefined ? { enabled: enabledFilter(one(q.enabled))! } : {}) });
        return { domains: list.map((x) => domainView(x, links)), links: collectionLinks(links, '/domains') };
      },
    },
    {
      method: 'GET', url: '/v3/domains/:domain', policy: reader('identity:get_domain'),
      handler: async (req) => {
        const auth = authOf(req);
        const id = param(req, 'domain');
        // A user may read its own domain; others are an admin's business.
        if (!auth.isAdmin && (await identity.user(auth.userId))?.domainId !== id) throw forbidden('You are not authorized to perform the requested action: identity:get_domain.');
        return { domain: domainView(await domainOr404(id), links) };
      },
    },
    {
      method: 'POST', url: '/v3/domains', policy: admin('identity:create_domain'), schema: { body: DOMAIN_SCHEMA },
      handler: async (req, reply) => {
        const b = (req.body as { domain: DomainBody & { name: string } }).domain;
        const dom = await directory.createDomain({ name: b.name, description: b.description ?? '', enabled: b.enabled ?? true });
        reply.code(201);
        return { domain: domainView(dom, links) };
      },
    },
    {
      method: 'PATCH', url: '/v3/domains/:domain', policy: admin('identity:update_domain'), schema: { body: DOMAIN_UPDATE_SCHEMA },
      handler: async (req) => {
        const id = param(req, 'domain');
        const b = (req.body as { domain: DomainBody }).domain;
        const before = await domainOr404(id);
        if (id === DEFAULT_DOMAIN.id && b.enabled === false) throw forbidden('The default domain cannot be disabled: the cloud administrator lives in it.');
        const dom = await directory.updateDomain(id, {
          ...(b.name !== undefined ? { name: b.name } : {}), ...(b.description !== undefined ? { description: b.description ?? '' } : {}), ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
        });
        if (!dom) throw notFound(`Could not find domain: ${id}.`);
        if (b.enabled === false && before.enabled) await tokens.revokeDomain(id);
        return { domain: domainView(dom, links) };
      },
    },
    {
      method: 'DELETE', url: '/v3/domains/:domain', policy: admin('identity:delete_domain'),
      handler: async (req, reply) => {
        const id = param(req, 'domain');
        const dom = await domainOr404(id);
        if (id === DEFAULT_DOMAIN.id) throw forbidden('The default domain cannot be deleted: the cloud administrator lives in it.');
        if (dom.enabled) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
        await tokens.revokeDomain(id);
        await directory.deleteDomain(id);
        identity.roles.invalidate();
        return reply.code(204).send();
      },
    },
  ];
}
