/**
 * Quota classes (`GET/PUT /os-quota-class-sets/{id}`, admin): limits by class name over the
 * configured defaults. As in Nova, only the `default` class applies to projects (it is what a
 * project without a limit of its own gets, and what `/os-quota-sets/{p}/defaults` shows); other
 * names are stored and shown, and change nothing. Keys by microversion: before 2.50 the nova-network
 * ones (fixed, unenforced) and no server groups; from 2.57 no file injection.
 */
import type { ApiDeps } from '../deps.js';
import { badRequest } from '../faults.js';
import { admin } from '../policy.js';
import { param, type Route } from '../routes.js';
import { atLeast, type Microversion } from '../microversion.js';
import { QUOTA_RESOURCES, type QuotaLimits, type QuotaResource } from './quota-store.js';
import { INJECTION, LEGACY_NETWORK, QUOTA_VALUE } from './quotas.js';

const GROUPS: readonly QuotaResource[] = ['server_groups', 'server_group_members'];
const UPDATE_SCHEMA = {
  type: 'object', required: ['quota_class_set'],
  properties: {
    quota_class_set: {
      type: 'object', properties: Object.fromEntries([...QUOTA_RESOURCES, ...Object.keys(LEGACY_NETWORK)].map((k) => [k, QUOTA_VALUE])), additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

function resourcesAt(mv: Microversion): QuotaResource[] {
  if (!atLeast(mv, 50)) return QUOTA_RESOURCES.filter((r) => !GROUPS.includes(r));
  return atLeast(mv, 57) ? QUOTA_RESOURCES.filter((r) => !INJECTION.includes(r)) : [...QUOTA_RESOURCES];
}

function classSet(limits: QuotaLimits, mv: Microversion): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(resourcesAt(mv).map((r) => [r, limits[r]]));
  return atLeast(mv, 50) ? out : { ...out, ...LEGACY_NETWORK };
}

/** A body may set the keys its microversion shows (before 2.50 the legacy ones too: accepted, not enforced). */
function refuseOtherKeys(body: Record<string, unknown>, mv: Microversion): void {
  const allowed = new Set<string>([...resourcesAt(mv), ...(atLeast(mv, 50) ? [] : Object.keys(LEGACY_NETWORK))]);
  const extra = Object.keys(body).find((k) => !allowed.has(k));
  if (extra) throw badRequest(`Invalid input for field/attribute quota_class_set. Additional properties are not allowed ('${extra}' was unexpected)`);
}

export function quotaClassRoutes(d: ApiDeps): Route[] {
  const { quotas } = d;
  return [
    {
      method: 'GET', url: '/v2.1/os-quota-class-sets/:id', policy: admin('os_compute_api:os-quota-class-sets:show'),
      handler: async (req) => {
        const id = param(req, 'id');
        return { quota_class_set: { id, ...classSet(await quotas.classLimits(id), req.microversion) } };
      },
    },
    {
      method: 'PUT', url: '/v2.1/os-quota-class-sets/:id', policy: admin('os_compute_api:os-quota-class-sets:update'),
      schema: { body: UPDATE_SCHEMA },
      handler: async (req) => {
        const id = param(req, 'id');
        if (id.length > 255) throw badRequest('Quota class names are at most 255 characters.');
        const body = (req.body as { quota_class_set: Record<string, unknown> }).quota_class_set;
        refuseOtherKeys(body, req.microversion);
        const changes: Partial<QuotaLimits> = {};
        for (const r of QUOTA_RESOURCES) if (body[r] !== undefined) changes[r] = Number(body[r]);
        await quotas.setClass(id, changes);
        return { quota_class_set: classSet(await quotas.classLimits(id), req.microversion) };
      },
    },
  ];
}
