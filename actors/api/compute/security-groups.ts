/**
 * Nova's security group proxy (`/os-security-groups`, reads only), which older clients still use to
 * find a group by name before `addSecurityGroup`: the project's Neutron groups in Nova's shape
 * (ingress rules as `ip_protocol`/`from_port`/`to_port`/`ip_range`/`group`). Gone from 2.36, as in
 * Nova.
 */
import type { FastifyRequest } from 'fastify';
import { NetList } from '../../../protocols/catalog/network.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { notFound } from '../faults.js';
import { atLeast } from '../microversion.js';
import { reader } from '../policy.js';
import { param, type Route } from '../routes.js';

type Group = { id: string; name: string; description: string; project_id: string; security_group_rules: Rule[] };
type Rule = { id: string; direction: string; protocol: string | null; port_range_min: number | null; port_range_max: number | null; remote_ip_prefix: string | null; remote_group_id: string | null };

export function novaGroup(g: Group, all: Group[]): Record<string, unknown> {
  return {
    id: g.id, name: g.name, description: g.description, tenant_id: g.project_id,
    rules: g.security_group_rules.filter((r) => r.direction === 'ingress').map((r) => {
      const remote = r.remote_group_id ? all.find((x) => x.id === r.remote_group_id) : undefined;
      return {
        id: r.id, parent_group_id: g.id, ip_protocol: r.protocol, from_port: r.port_range_min ?? -1, to_port: r.port_range_max ?? -1,
        ip_range: r.remote_ip_prefix ? { cidr: r.remote_ip_prefix } : {}, group: remote ? { name: remote.name, tenant_id: remote.project_id } : {},
      };
    }),
  };
}

export function securityGroupProxyRoutes(d: ApiDeps): Route[] {
  const groups = async (req: FastifyRequest): Promise<Group[]> => {
    if (atLeast(req.microversion, 36)) throw notFound();
    const a = authOf(req);
    const page = await d.backend.net(NetList, 'security_group', { by: { projectId: a.projectId, userId: a.userId, isAdmin: false }, query: {} });
    return page.items as unknown as Group[];
  };
  return [
    {
      method: 'GET', url: '/v2.1/os-security-groups', policy: reader('os_compute_api:os-security-groups:get'),
      handler: async (req) => {
        const all = await groups(req);
        return { security_groups: all.map((g) => novaGroup(g, all)) };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-security-groups/:id', policy: reader('os_compute_api:os-security-groups:show'),
      handler: async (req) => {
        const all = await groups(req);
        const g = all.find((x) => x.id === param(req, 'id'));
        if (!g) throw notFound(`Security group ${param(req, 'id')} not found.`);
        return { security_group: novaGroup(g, all) };
      },
    },
  ];
}
