/**
 * Server groups (`os-server-groups`), over the scheduler's catalog: list (own project; an admin's
 * `all_projects`), create (200), show, delete (204). By microversion: `policies` and `metadata`
 * before 2.64, `policy` and `rules` from 2.64; `project_id`/`user_id` from 2.13; the soft policies
 * from 2.15. Creation counts against the `server_groups` quota (403 when full, as Nova).
 */
import { NotFoundError } from '../../../protocols/errors.js';
import { NAME_PATTERN } from '../../../protocols/text.js';
import type { ServerGroupView } from '../../../protocols/scheduler-views.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { atLeast, type Microversion } from '../microversion.js';
import { member, reader, sees } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';

const NAME = { type: 'string', minLength: 1, maxLength: 255, pattern: NAME_PATTERN } as const;
const POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] as const;
const CREATE_SCHEMA = {
  type: 'object', required: ['server_group'],
  properties: {
    server_group: {
      type: 'object', required: ['name'],
      properties: {
        name: NAME,
        policies: { type: 'array', minItems: 1, maxItems: 1, items: { type: 'string', enum: [...POLICIES] } },
        policy: { type: 'string', enum: [...POLICIES] },
        rules: {
          type: 'object',
          properties: { max_server_per_host: { anyOf: [{ type: 'integer', minimum: 1, maximum: 1000 }, { type: 'string', pattern: '^[1-9][0-9]{0,3}$' }] } },
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

function groupView(g: ServerGroupView, mv: Microversion): Record<string, unknown> {
  const out: Record<string, unknown> = { id: g.id, name: g.name, members: g.members };
  if (atLeast(mv, 64)) Object.assign(out, { policy: g.policy, rules: g.rules });
  else Object.assign(out, { policies: [g.policy], metadata: {} });
  if (atLeast(mv, 13)) Object.assign(out, { project_id: g.projectId, user_id: g.userId });
  return out;
}

export function serverGroupRoutes(d: ApiDeps): Route[] {
  const { backend } = d;
  const visibleGroup = async (auth: ReturnType<typeof authOf>, id: string): Promise<ServerGroupView> => {
    const missing = () => notFound(`Server group ${id} could not be found.`);
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw missing();
    const g = await backend.serverGroup<{ serverGroup: ServerGroupView }>('get', { id }).then((r) => r.serverGroup).catch((err) => {
      if (err instanceof NotFoundError) throw missing();
      throw err;
    });
    if (!sees(auth, g.projectId)) throw missing();
    return g;
  };
  return [
    {
      method: 'GET', url: '/v2.1/os-server-groups', policy: reader('os_compute_api:os-server-groups:index'),
      handler: async (req) => {
        const auth = authOf(req);
        const all = one(query(req).all_projects);
        const everyone = all !== undefined && ['1', 'true', 'yes', 'True'].includes(all);
        if (everyone && !auth.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-server-groups:index:all_projects to be performed.");
        const { serverGroups } = await backend.serverGroup<{ serverGroups: ServerGroupView[] }>('list', everyone ? {} : { projectId: auth.projectId });
        return { server_groups: serverGroups.map((g) => groupView(g, req.microversion)) };
      },
    },
    {
      method: 'POST', url: '/v2.1/os-server-groups', policy: member('os_compute_api:os-server-groups:create'), schema: { body: CREATE_SCHEMA },
      handler: async (req) => {
        const auth = authOf(req);
        const mv = req.microversion;
        const b = (req.body as { server_group: { name: string; policies?: string[]; policy?: string; rules?: { max_server_per_host?: number | string } } }).server_group;
        const policy = atLeast(mv, 64) ? b.policy : b.policies?.[0];
        const misshapen = atLeast(mv, 64) ? b.policies !== undefined : b.policy !== undefined || b.rules !== undefined;
        if (policy === undefined || misshapen) {
          throw badRequest(atLeast(mv, 64) ? "Invalid input: 'policy' is required (and 'policies' gone) from 2.64." : "Invalid input: 'policies' is required before 2.64.");
        }
        if (policy.startsWith('soft') && !atLeast(mv, 15)) throw badRequest(`Invalid input: the ${policy} policy needs microversion 2.15.`);
        const limits = await d.quotas.limits(auth.projectId);
        if (limits.server_groups >= 0) {
          const { serverGroups } = await backend.serverGroup<{ serverGroups: unknown[] }>('list', { projectId: auth.projectId });
          if (serverGroups.length >= limits.server_groups) throw forbidden('Quota exceeded, too many server groups.');
        }
        // The scheduler checks the quota again as it inserts (a concurrent create may have won meanwhile).
        const body: Record<string, unknown> = { name: b.name, policy, projectId: auth.projectId, userId: auth.userId, maxGroups: limits.server_groups };
        if (b.rules?.max_server_per_host !== undefined) body.maxServerPerHost = Number(b.rules.max_server_per_host);
        const { serverGroup } = await backend.serverGroup<{ serverGroup: ServerGroupView }>('create', body, req.id);
        return { server_group: groupView(serverGroup, mv) };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-server-groups/:id', policy: reader('os_compute_api:os-server-groups:show'),
      handler: async (req) => ({ server_group: groupView(await visibleGroup(authOf(req), param(req, 'id')), req.microversion) }),
    },
    {
      method: 'DELETE', url: '/v2.1/os-server-groups/:id', policy: member('os_compute_api:os-server-groups:delete'),
      handler: async (req, reply) => {
        const g = await visibleGroup(authOf(req), param(req, 'id'));
        await backend.serverGroup('delete', { id: g.id }, req.id);
        return reply.code(204).send();
      },
    },
  ];
}
