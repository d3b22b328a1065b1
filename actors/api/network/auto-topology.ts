/**
 * `GET|DELETE /v2.0/auto-allocated-topology/<project_id>`: Neutron's get-me-a-network, the
 * project's auto-allocated network (made on the first GET when the cloud is configured for it).
 */
import { NetAutoTopology } from '../../../protocols/catalog/network.js';
import type { ApiDeps } from '../deps.js';
import { param, type Route } from '../routes.js';
import { netMember } from './net-policy.js';
import { V2, callerOf } from './net-request.js';

export function autoTopologyRoutes(d: ApiDeps): Route[] {
  const url = `${V2}/auto-allocated-topology/:project_id`;
  return [
    {
      method: 'GET', url, policy: netMember('get_auto_allocated_topology'),
      handler: async (req) => d.backend.net(NetAutoTopology, 'topology', { by: callerOf(req), action: 'get', id: param(req, 'project_id') }, req.id),
    },
    {
      method: 'DELETE', url, policy: netMember('delete_auto_allocated_topology'),
      handler: async (req, reply) => {
        await d.backend.net(NetAutoTopology, 'topology', { by: callerOf(req), action: 'delete', id: param(req, 'project_id') }, req.id);
        return reply.code(204).send();
      },
    },
  ];
}
