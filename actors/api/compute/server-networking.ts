/**
 * A server's networking after its build, in Nova's API, done by the network role:
 * `os-interface` (list, show, attach a port or a network, detach), `os-security-groups` of a server,
 * and the actions `addSecurityGroup`, `removeSecurityGroup`, `addFloatingIp`, `removeFloatingIp`
 * (the last two gone from 2.44, as in Nova). The NIC is bound to the server's host; the guest sees a
 * new NIC at its next hard reboot (no hot-plug into a running guest yet).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NetInstanceAttach, NetInstanceDetach, NetInstanceFloating, NetInstanceGroups, type NetCaller, type Nic } from '../../../protocols/catalog/network.js';
import { authOf, type AuthContext } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, conflict, notFound } from '../faults.js';
import { atLeast } from '../microversion.js';
import { member, reader } from '../policy.js';
import { param, type Route } from '../routes.js';
import { visibleServer } from './server-lookup.js';
import { novaGroup } from './security-groups.js';
import { isUuid } from '../../../protocols/validate.js';

const callerOf = (a: AuthContext): NetCaller => ({ projectId: a.projectId, userId: a.userId, isAdmin: a.isAdmin });

function attachment(n: Nic, req: FastifyRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {
    port_state: 'ACTIVE', port_id: n.portId, net_id: n.networkId, mac_addr: n.mac,
    fixed_ips: n.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.address })),
  };
  if (atLeast(req.microversion, 70)) out.tag = null;
  return out;
}

const ATTACH_SCHEMA = {
  type: 'object', required: ['interfaceAttachment'], additionalProperties: false,
  properties: {
    interfaceAttachment: {
      type: 'object', additionalProperties: false,
      properties: {
        port_id: { type: 'string', format: 'uuid' }, net_id: { type: 'string', format: 'uuid' },
        fixed_ips: { type: 'array', maxItems: 1, items: { type: 'object', required: ['ip_address'], additionalProperties: false, properties: { ip_address: { type: 'string', maxLength: 64 } } } },
        tag: { type: 'string', minLength: 1, maxLength: 60 },
      },
    },
  },
} as const;

/** Server actions that are the network role's, not the instance actor's. */
export type NetworkAction = (d: ApiDeps, req: FastifyRequest, reply: FastifyReply, serverId: string, value: unknown) => Promise<unknown>;

const groupName = (api: string, value: unknown): string => {
  const name = (value as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 255) throw badRequest(`Invalid input for field/attribute ${api}. 'name' is a required property`);
  return name.trim();
};
const address = (api: string, value: unknown, key: string, required: boolean): string | undefined => {
  const v = (value as Record<string, unknown> | null)?.[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) throw badRequest(`Invalid input for field/attribute ${api}. '${key}' is a required property`);
  return v;
};

export const NETWORK_ACTIONS: Readonly<Record<string, { maxVersion?: number; run: NetworkAction }>> = {
  addSecurityGroup: {
    run: async (d, req, reply, id, value) => {
      await d.backend.serverNetworking(NetInstanceGroups, { by: callerOf(authOf(req)), instanceId: id, action: 'add', name: groupName('addSecurityGroup', value) }, req.id);
      return reply.code(202).send();
    },
  },
  removeSecurityGroup: {
    run: async (d, req, reply, id, value) => {
      await d.backend.serverNetworking(NetInstanceGroups, { by: callerOf(authOf(req)), instanceId: id, action: 'remove', name: groupName('removeSecurityGroup', value) }, req.id);
      return reply.code(202).send();
    },
  },
  addFloatingIp: {
    maxVersion: 43,
    run: async (d, req, reply, id, value) => {
      const fixed = address('addFloatingIp', value, 'fixed_address', false);
      await d.backend.serverNetworking(NetInstanceFloating, { by: callerOf(authOf(req)), instanceId: id, action: 'add', address: address('addFloatingIp', value, 'address', true)!, ...(fixed ? { fixedAddress: fixed } : {}) }, req.id);
      return reply.code(202).send();
    },
  },
  removeFloatingIp: {
    maxVersion: 43,
    run: async (d, req, reply, id, value) => {
      await d.backend.serverNetworking(NetInstanceFloating, { by: callerOf(authOf(req)), instanceId: id, action: 'remove', address: address('removeFloatingIp', value, 'address', true)! }, req.id);
      return reply.code(202).send();
    },
  },
};

export function serverNetworkingRoutes(d: ApiDeps): Route[] {
  const nicsOf = async (req: FastifyRequest) => {
    const s = await visibleServer(d.backend, authOf(req), param(req, 'id'));
    return { s, nics: (await d.backend.nics([s.id]))[s.id] ?? [] };
  };
  return [
    {
      method: 'GET', url: '/v2.1/servers/:id/os-interface', policy: reader('os_compute_api:os-attach-interfaces:list'),
      handler: async (req) => ({ interfaceAttachments: (await nicsOf(req)).nics.map((n) => attachment(n, req)) }),
    },
    {
      method: 'GET', url: '/v2.1/servers/:id/os-interface/:port', policy: reader('os_compute_api:os-attach-interfaces:show'),
      handler: async (req) => {
        const nic = (await nicsOf(req)).nics.find((n) => n.portId === param(req, 'port').toLowerCase());
        if (!nic) throw notFound(`Port ${param(req, 'port')} is not attached`);
        return { interfaceAttachment: attachment(nic, req) };
      },
    },
    {
      method: 'POST', url: '/v2.1/servers/:id/os-interface', policy: member('os_compute_api:os-attach-interfaces:create'), schema: { body: ATTACH_SCHEMA },
      handler: async (req) => {
        const auth = authOf(req);
        const s = await visibleServer(d.backend, auth, param(req, 'id'));
        const a = (req.body as { interfaceAttachment: { port_id?: string; net_id?: string; fixed_ips?: { ip_address: string }[] } }).interfaceAttachment;
        if (a.port_id !== undefined && a.net_id !== undefined) throw badRequest('Must not input both network_id and port_id');
        if (a.port_id !== undefined && a.fixed_ips !== undefined) throw badRequest('Must input network_id when request IP address');
        if (!['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED', 'STOPPED'].includes(s.status) || s.taskState !== null) {
          throw conflict(`Cannot 'attach_interface' instance ${s.id} while it is in vm_state ${s.vmState}`);
        }
        const nic = a.port_id !== undefined ? { port: a.port_id.toLowerCase() } : a.net_id !== undefined ? { network: a.net_id.toLowerCase(), ...(a.fixed_ips?.[0] ? { fixedIp: a.fixed_ips[0].ip_address } : {}) } : undefined;
        if (!nic) throw badRequest('Attaching an interface needs a port_id or a net_id.');
        const r = await d.backend.serverNetworking(NetInstanceAttach, { by: callerOf(auth), instanceId: s.id, host: s.host ?? '', nic }, req.id);
        return { interfaceAttachment: attachment(r.nic, req) };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/servers/:id/os-interface/:port', policy: member('os_compute_api:os-attach-interfaces:delete'),
      handler: async (req, reply) => {
        const auth = authOf(req);
        const s = await visibleServer(d.backend, auth, param(req, 'id'));
        const port = param(req, 'port');
        if (!isUuid(port)) throw notFound(`Port ${port} is not attached`);
        await d.backend.serverNetworking(NetInstanceDetach, { by: callerOf(auth), instanceId: s.id, portId: port.toLowerCase() }, req.id);
        return reply.code(202).send();
      },
    },
    {
      method: 'GET', url: '/v2.1/servers/:id/os-security-groups', policy: reader('os_compute_api:os-security-groups:list'),
      handler: async (req) => {
        const auth = authOf(req);
        const s = await visibleServer(d.backend, auth, param(req, 'id'));
        const r = await d.backend.serverNetworking(NetInstanceGroups, { by: callerOf(auth), instanceId: s.id, action: 'list' }, req.id);
        const groups = r.groups as unknown as Parameters<typeof novaGroup>[1];
        return { security_groups: groups.map((g) => novaGroup(g, groups)) };
      },
    },
  ];
}
