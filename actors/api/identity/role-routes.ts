/**
 * Keystone v3 roles: create, list (`?name=`, `?domain_id=`), show, update, delete (with its
 * assignments), and implied roles (`PUT /v3/roles/{prior}/implies/{implied}`, `GET
 * /v3/role_inferences`). Anyone may read roles; changing them is an admin's.
 */
import type { RoleRow } from '../../../runtime/db/entities/index.js';
import { badRequest, notFound } from '../faults.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import type { IdentityDeps } from './auth-routes.js';
import { ID_REF, LONG_NAME, TEXT } from './schemas.js';
import { collectionLinks, roleRef, roleView } from './views.js';

const ROLE_FIELDS = { name: LONG_NAME, description: TEXT, domain_id: { ...ID_REF, type: ['string', 'null'] }, options: { type: 'object', maxProperties: 0 } } as const;
const ROLE_SCHEMA = { type: 'object', required: ['role'], properties: { role: { type: 'object', required: ['name'], properties: ROLE_FIELDS, additionalProperties: false } } } as const;
const ROLE_UPDATE_SCHEMA = { type: 'object', required: ['role'], properties: { role: { type: 'object', properties: ROLE_FIELDS, additionalProperties: false } } } as const;

export function roleRoutes(d: IdentityDeps): Route[] {
  const { identity, links, tokens } = d;
  const { roles, directory } = identity;

  /** By id, or a global role by name (as this API has always answered). */
  const roleOr404 = async (id: string): Promise<RoleRow> => {
    const r = await roles.find(id);
    if (!r) throw notFound(`Could not find role: ${id}.`);
    return r;
  };
  const inference = (prior: RoleRow, implied: RoleRow) => ({ role_inference: { prior_role: roleRef(prior, links), implies: roleRef(implied, links) } });
  const pair = async (req: Parameters<Route['handler']>[0]) => Promise.all([roleOr404(param(req, 'prior')), roleOr404(param(req, 'implied'))]);
  /** Every cached validation may change (a role's implications feed every token's roles). */
  const changed = () => tokens.forget(() => true);

  return [
    {
      method: 'GET', url: '/v3/roles', policy: reader('identity:list_roles'),
      handler: async (req) => {
        const q = query(req);
        const list = await roles.list({ ...(one(q.name) !== undefined ? { name: one(q.name)! } : {}), domainId: one(q.domain_id) ?? '' });
        return { roles: list.map((r) => roleView(r, links)), links: collectionLinks(links, '/roles') };
      },
    },
    { method: 'GET', url: '/v3/roles/:role', policy: reader('identity:get_role'), handler: async (req) => ({ role: roleView(await roleOr404(param(req, 'role')), links) }) },
    {
      method: 'POST', url: '/v3/roles', policy: admin('identity:create_role'), schema: { body: ROLE_SCHEMA },
      handler: async (req, reply) => {
        const b = (req.body as { role: { name: string; description?: string | null; domain_id?: string | null } }).role;
        if (b.domain_id && !(await directory.domain(b.domain_id))) throw badRequest(`Could not find domain: ${b.domain_id}.`);
        const r = await roles.create({ name: b.name, domainId: b.domain_id ?? '', description: b.description ?? null });
        reply.code(201);
        return { role: roleView(r, links) };
      },
    },
    {
      method: 'PATCH', url: '/v3/roles/:role', policy: admin('identity:update_role'), schema: { body: ROLE_UPDATE_SCHEMA },
      handler: async (req) => {
        const before = await roleOr404(param(req, 'role'));
        const b = (req.body as { role: { name?: string; description?: string | null; domain_id?: string | null } }).role;
        if (b.domain_id !== undefined && (b.domain_id ?? '') !== before.domainId) throw badRequest('Update of `domain_id` is not allowed.');
        const r = await roles.update(before.id, { ...(b.name !== undefined ? { name: b.name } : {}), ...(b.description !== undefined ? { description: b.description } : {}) });
        changed();
        return { role: roleView(r ?? before, links) };
      },
    },
    {
      method: 'DELETE', url: '/v3/roles/:role', policy: admin('identity:delete_role'),
      handler: async (req, reply) => {
        const id = param(req, 'role');
        if (!(await roles.delete(id))) throw notFound(`Could not find role: ${id}.`);
        changed();
        return reply.code(204).send();
      },
    },
    {
      method: 'PUT', url: '/v3/roles/:prior/implies/:implied', policy: admin('identity:create_implied_role'), body: 'none',
      handler: async (req, reply) => {
        const [prior, implied] = await pair(req);
        await roles.imply(prior.id, implied.id);
        changed();
        reply.code(201);
        return inference(prior, implied);
      },
    },
    {
      method: 'GET', url: '/v3/roles/:prior/implies/:implied', policy: reader('identity:get_implied_role'),
      handler: async (req) => {
        const [prior, implied] = await pair(req);
        if (!(await roles.implications(prior.id)).some((l) => l.impliedRoleId === implied.id)) throw notFound(`${prior.id} does not imply ${implied.id}.`);
        return inference(prior, implied);
      },
    },
    {
      method: 'HEAD', url: '/v3/roles/:prior/implies/:implied', policy: reader('identity:check_implied_role'),
      handler: async (req, reply) => {
        const [prior, implied] = await pair(req);
        return reply.code((await roles.implications(prior.id)).some((l) => l.impliedRoleId === implied.id) ? 204 : 404).send();
      },
    },
    {
      method: 'DELETE', url: '/v3/roles/:prior/implies/:implied', policy: admin('identity:delete_implied_role'),
      handler: async (req, reply) => {
        const [prior, implied] = await pair(req);
        if (!(await roles.unimply(prior.id, implied.id))) throw notFound(`${prior.id} does not imply ${implied.id}.`);
        changed();
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/v3/roles/:prior/implies', policy: reader('identity:list_implied_roles'),
      handler: async (req) => {
        const prior = await roleOr404(param(req, 'prior'));
        const implied = await Promise.all((await roles.implications(prior.id)).map((l) => roles.get(l.impliedRoleId)));
        return { role_inference: { prior_role: roleRef(prior, links), implies: implied.filter((r): r is RoleRow => r !== undefined).map((r) => roleRef(r, links)) } };
      },
    },
    {
      method: 'GET', url: '/v3/role_inferences', policy: reader('identity:list_role_inference_rules'),
      handler: async () => {
        const byPrior = new Map<string, RoleRow[]>();
        for (const l of await roles.implications()) {
          const implied = await roles.get(l.impliedRoleId);
          if (implied) byPrior.set(l.priorRoleId, [...(byPrior.get(l.priorRoleId) ?? []), implied]);
        }
        const out = [];
        for (const [priorId, implied] of byPrior) {
          const prior = await roles.get(priorId);
          if (prior) out.push({ prior_role: roleRef(prior, links), implies: implied.map((r) => roleRef(r, links)) });
        }
        return { role_inferences: out };
      },
    },
  ];
}
