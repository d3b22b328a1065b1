/**
 * A router's interfaces: `PUT /v2.0/routers/<id>/add_router_interface` and
 * `remove_router_interface` with `{subnet_id}` or `{port_id}`, answered 200 with what the role
 * answers (Neutron's interface info: router, port, subnet and network ids, project).
 */
import type { FastifyRequest } from 'fastify';
import { NetRouterInterface } from '../../../protocols/catalog/network.js';
import type { ApiDeps } from '../deps.js';
import type { Route } from '../routes.js';
import { interfaceBody } from './bodies.js';
import { netMember } from './net-policy.js';
import { V2, callerOf, idOf } from './net-request.js';

export function routerInterfaceRoutes(d: ApiDeps): Route[] {
  const { backend } = d;
  const route = (action: 'add' | 'remove'): Route => ({
    method: 'PUT', url: `${V2}/routers/:id/${action}_router_interface`, policy: netMember(`${action}_router_interface`),
    handler: async (req: FastifyRequest) => {
      const target = interfaceBody(req.body, action === 'remove');
      return backend.net(NetRouterInterface, 'router', { by: callerOf(req), id: idOf(req, 'router'), action, ...target }, req.id);
    },
  });
  return [route('add'), route('remove')];
}
