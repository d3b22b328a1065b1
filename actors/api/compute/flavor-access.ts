/**
 * Flavor access lists (`os-flavor-access`): who may see and boot a private flavor. An admin lists a
 * flavor's projects (`GET /flavors/{id}/os-flavor-access`; a public flavor has no list: 404) and
 * grants or revokes one with the flavor actions `addTenantAccess` / `removeTenantAccess` (200 with
 * the list after the change). The conductor keeps the lists with its flavors, so a build checks
 * access without a database read; a project must exist in Keystone to be granted (400 otherwise).
 */
import type { Flavor } from '../../../protocols/resources.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import { admin } from '../policy.js';
import { param, type Route } from '../routes.js';
import { flavorVisible } from './flavors.js';

const TENANT = { type: 'object', required: ['tenant'], properties: { tenant: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]+$' } }, additionalProperties: false } as const;
const ACTION_SCHEMA = {
  type: 'object', minProperties: 1, maxProperties: 1,
  properties: { addTenantAccess: TENANT, removeTenantAccess: TENANT },
  additionalProperties: false,
} as const;

const accessView = (f: Flavor) => ({ flavor_access: (f.projects ?? []).map((p) => ({ flavor_id: f.id, tenant_id: p })) });

export function flavorAccessRoutes(d: ApiDeps): Route[] {
  const { backend } = d;
  const flavorById = async (id: string): Promise<Flavor> => {
    const f = (await backend.flavors()).find((x) => x.id === id);
    if (!f) throw notFound(`Flavor ${id} could not be found.`);
    return f;
  };
  return [
    {
      method: 'GET', url: '/v2.1/flavors/:id/os-flavor-access', policy: admin('os_compute_api:os-flavor-access'),
      handler: async (req) => {
        const f = await flavorById(param(req, 'id'));
        if (!flavorVisible(f, authOf(req))) throw notFound(`Flavor ${f.id} could not be found.`);
        if (f.isPublic) throw notFound('Access list not available for public flavors.');
        return accessView(f);
      },
    },
    {
      method: 'POST', url: '/v2.1/flavors/:id/action', policy: admin('os_compute_api:os-flavor-access:add_tenant_access'),
      schema: { body: ACTION_SCHEMA },
      handler: async (req) => {
        const body = req.body as { addTenantAccess?: { tenant: string }; removeTenantAccess?: { tenant: string } };
        const f = await flavorById(param(req, 'id'));
        if (body.addTenantAccess) {
          const tenant = body.addTenantAccess.tenant;
          // Nova asks Keystone whether the project exists before it grants anything.
          if (!(await d.identity.project(tenant))) throw badRequest(`Project ID ${tenant} is not a valid project.`);
          return accessView(await backend.flavorAccess(f.id, 'add', tenant, req.id));
        }
        return accessView(await backend.flavorAccess(f.id, 'remove', body.removeTenantAccess!.tenant, req.id));
      },
    },
  ];
}
