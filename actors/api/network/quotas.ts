/**
 * Neutron's quotas: `GET /v2.0/quotas` (admin: every project with limits of its own), and per
 * project `GET|PUT|DELETE /v2.0/quotas/<project>`, `…/details` (limit, used, reserved) and
 * `…/default`, all through the role's `quota` verb, whose answers are Neutron's bodies
 * (`{"quota": …}`, `{"quotas": […]}`) and pass through as they are. Changing quotas is an admin's
 * (Neutron's update_quota and delete_quota rules); who may read which project's, the role decides.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NetQuota } from '../../../protocols/catalog/network.js';
import { ForbiddenError } from '../../../protocols/errors.js';
import { badInput } from '../../../protocols/network/errors.js';
import type { RoutePolicy } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { param, type Route } from '../routes.js';
import { noBody, quotaBody } from './bodies.js';
import { netAdmin, netReader } from './net-policy.js';
import { V2, callerOf } from './net-request.js';

type Action = 'get' | 'details' | 'set' | 'reset' | 'list' | 'default';

/** Neutron's quota listing refuses a non-admin with AdminRequired rather than a policy failure. */
const adminRequired: RoutePolicy = {
  level: 'admin', rule: 'get_quota',
  denied: () => Object.assign(new ForbiddenError('User does not have admin privileges: Only admin can view or configure quota.'), { details: { type: 'AdminRequired' } }),
};

/** A project id from the path, within the catalog's bound (Keystone's ids are 32 hex digits). */
function projectOf(req: FastifyRequest): string {
  const id = param(req, 'project_id');
  if (id.length > 64) throw badInput(`Invalid input for project_id. Reason: '${id.slice(0, 64)}…' exceeds maximum length of 64.`);
  return id;
}

export function quotaRoutes(d: ApiDeps): Route[] {
  const { backend } = d;
  const url = `${V2}/quotas/:project_id`;
  const ask = (req: FastifyRequest, action: Action, extra: { id?: string; limits?: Record<string, number> } = {}) =>
    backend.net(NetQuota, 'quota', { by: callerOf(req), action, ...extra }, req.id);
  const read = (suffix: string, action: Action): Route => ({
    method: 'GET', url: `${url}${suffix}`, policy: netReader('get_quota'),
    handler: async (req) => ask(req, action, { id: projectOf(req) }),
  });
  return [
    { method: 'GET', url: `${V2}/quotas`, policy: adminRequired, handler: async (req) => ask(req, 'list') },
    read('', 'get'),
    read('/details', 'details'),
    read('/default', 'default'),
    {
      method: 'PUT', url, policy: netAdmin('update_quota'),
      handler: async (req) => ask(req, 'set', { id: projectOf(req), limits: quotaBody(req.body) }),
    },
    {
      method: 'DELETE', url, policy: netAdmin('delete_quota'),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        noBody(req.body);
        await ask(req, 'reset', { id: projectOf(req) });
        return reply.code(204).send();
      },
    },
  ];
}
