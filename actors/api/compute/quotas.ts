/**
 * Quotas and limits: `GET /os-quota-sets/{project}[/defaults|/detail]`, admin `PUT` and `DELETE`
 * (back to defaults, 202), and `GET /limits` (`absolute` limits with usage; `rate` is empty, as in
 * Nova since Newton). Non-admins see only their own project. By microversion: the network quotas
 * (fixed_ips, floating_ips, security groups and rules) go at 2.36, the file-injection ones at 2.57.
 * A new limit below current usage is a 400 unless `force` is given, as in Nova.
 */
import type { FastifyRequest } from 'fastify';
import { authOf, type AuthContext } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden } from '../faults.js';
import { atLeast, type Microversion } from '../microversion.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { QUOTA_RESOURCES, type QuotaLimits, type QuotaResource } from './quota-store.js';

/** Nova-network quotas: shown (fixed, unenforced) before 2.36 for old clients. */
export const LEGACY_NETWORK = { fixed_ips: -1, floating_ips: 10, security_group_rules: 20, security_groups: 10 } as const;
export const INJECTION: readonly QuotaResource[] = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];
const MAX_INT = 2 ** 31 - 1;

export const QUOTA_VALUE = { anyOf: [{ type: 'integer', minimum: -1, maximum: MAX_INT }, { type: 'string', pattern: '^(-1|[0-9]{1,10})$' }] } as const;
const UPDATE_SCHEMA = {
  type: 'object', required: ['quota_set'],
  properties: {
    quota_set: {
      type: 'object',
      properties: { ...Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, QUOTA_VALUE])), force: { type: ['boolean', 'string'] } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

function shown(mv: Microversion): QuotaResource[] {
  return QUOTA_RESOURCES.filter((r) => atLeast(mv, 57) ? !INJECTION.includes(r) : true);
}

type Usage = Record<QuotaResource, number>;

async function usageOf(d: ApiDeps, auth: AuthContext, projectId: string): Promise<Usage> {
  const [u, keys, groups] = await Promise.all([
    d.backend.usage(projectId),
    d.keypairs.count(auth.userId),
    d.backend.serverGroup<{ serverGroups: unknown[] }>('list', { projectId }),
  ]);
  const zero = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, 0])) as Usage;
  return { ...zero, instances: u.instances, cores: u.cores, ram: u.ram, key_pairs: keys, server_groups: groups.serverGroups.length };
}

function quotaSet(limits: QuotaLimits, mv: Microversion, value: (r: QuotaResource, limit: number) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of shown(mv)) out[r] = value(r, limits[r]);
  if (!atLeast(mv, 36)) for (const [k, v] of Object.entries(LEGACY_NETWORK)) out[k] = value(k as QuotaResource, v);
  return out;
}

/** The project a quota call is about; a non-admin may only name their own. */
function targetProject(req: FastifyRequest, rule: string): string {
  const auth = authOf(req);
  const project = param(req, 'project');
  if (!auth.isAdmin && project !== auth.projectId) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
  return project;
}

export function quotaRoutes(d: ApiDeps): Route[] {
  const { quotas } = d;
  return [
    {
      method: 'GET', url: '/v2.1/os-quota-sets/:project', policy: reader('os_compute_api:os-quota-sets:show'),
      handler: async (req) => {
        const project = targetProject(req, 'os_compute_api:os-quota-sets:show');
        return { quota_set: { id: project, ...quotaSet(await quotas.limits(project), req.microversion, (_r, v) => v) } };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-quota-sets/:project/defaults', policy: reader('os_compute_api:os-quota-sets:defaults'),
      handler: async (req) => ({ quota_set: { id: param(req, 'project'), ...quotaSet(await quotas.defaultLimits(), req.microversion, (_r, v) => v) } }),
    },
    {
      method: 'GET', url: '/v2.1/os-quota-sets/:project/detail', policy: reader('os_compute_api:os-quota-sets:detail'),
      handler: async (req) => {
        const project = targetProject(req, 'os_compute_api:os-quota-sets:detail');
        const [limits, used] = await Promise.all([quotas.limits(project), usageOf(d, authOf(req), project)]);
        return { quota_set: { id: project, ...quotaSet(limits, req.microversion, (r, limit) => ({ in_use: used[r] ?? 0, limit, reserved: 0 })) } };
      },
    },
    {
      method: 'PUT', url: '/v2.1/os-quota-sets/:project', policy: admin('os_compute_api:os-quota-sets:update'), schema: { body: UPDATE_SCHEMA },
      handler: async (req) => {
        const project = param(req, 'project');
        if (one(query(req).user_id) !== undefined) throw badRequest('Per-user quotas are not supported by novact.');
        const body = (req.body as { quota_set: Record<string, unknown> }).quota_set;
        const force = body.force === true || String(body.force).toLowerCase() === 'true';
        const changes: Partial<QuotaLimits> = {};
        for (const r of QUOTA_RESOURCES) if (body[r] !== undefined) changes[r] = Number(body[r]);
        const used = await usageOf(d, authOf(req), project);
        if (!force) {
          for (const [r, v] of Object.entries(changes) as [QuotaResource, number][]) {
            if (v !== -1 && v < used[r]) throw badRequest(`Quota limit ${v} for ${r} must be greater than or equal to already used and reserved ${used[r]}.`);
          }
        }
        await quotas.set(project, changes);
        return { quota_set: quotaSet(await quotas.limits(project), req.microversion, (_r, v) => v) };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/os-quota-sets/:project', policy: admin('os_compute_api:os-quota-sets:delete'),
      handler: async (req, reply) => {
        await quotas.reset(param(req, 'project'));
        return reply.code(202).send();
      },
    },
    {
      method: 'GET', url: '/v2.1/limits', policy: reader('os_compute_api:limits'),
      handler: async (req) => {
        const auth = authOf(req);
        const other = one(query(req).tenant_id);
        if (other !== undefined && other !== auth.projectId && !auth.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:limits:other_project to be performed.");
        const project = other ?? auth.projectId;
        const [l, u] = await Promise.all([quotas.limits(project), usageOf(d, auth, project)]);
        const mv = req.microversion;
        const absolute: Record<string, number> = {
          maxTotalInstances: l.instances, maxTotalCores: l.cores, maxTotalRAMSize: l.ram, maxTotalKeypairs: l.key_pairs,
          maxServerMeta: l.metadata_items, maxServerGroups: l.server_groups, maxServerGroupMembers: l.server_group_members,
          totalInstancesUsed: u.instances, totalCoresUsed: u.cores, totalRAMUsed: u.ram, totalServerGroupsUsed: u.server_groups,
        };
        if (!atLeast(mv, 36)) {
          Object.assign(absolute, {
            maxSecurityGroups: LEGACY_NETWORK.security_groups, maxSecurityGroupRules: LEGACY_NETWORK.security_group_rules,
            maxTotalFloatingIps: LEGACY_NETWORK.floating_ips, totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0,
          });
        }
        if (!atLeast(mv, 39)) absolute.maxImageMeta = l.metadata_items;
        if (!atLeast(mv, 57)) Object.assign(absolute, { maxPersonality: l.injected_files, maxPersonalitySize: l.injected_file_content_bytes });
        return { limits: { rate: [], absolute } };
      },
    },
  ];
}
