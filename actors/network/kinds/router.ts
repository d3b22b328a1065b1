/**
 * Routers, as far as floating IPs need them: an external gateway (a port on an external network,
 * holding one of its addresses) and interfaces on subnets (a port holding the subnet's gateway
 * address, or a given port). A floating IP can be associated with a port only if a router joins
 * the port's subnet to the floating IP's network.
 */
import { randomUUID } from 'node:crypto';
import { badInput, inConflict, notFoundOf, forbiddenBy } from '../../../protocols/network/errors.js';
import { parseIp } from '../../../protocols/network/ip.js';
import { checkQuota, find, freshMac, newRow, owned, type NetCtx } from '../net-context.js';
import type { Attrs, NetRow } from '../net-state.js';
import type { KindOps } from './kind-ops.js';
import { isExternal } from './network.js';
import { allocateFixedIps, removePort, type FixedIp } from './port.js';

export const ROUTER_INTERFACE = 'network:router_interface';
export const ROUTER_GATEWAY = 'network:router_gateway';

/** A port the network service owns (gateway, interface, floating IP): no project, no security groups. */
export function servicePort(ctx: NetCtx, net: NetRow, owner: string, deviceId: string, fixed: { subnet_id?: string; ip_address?: string }[] | undefined, projectId = ''): NetRow {
  const id = randomUUID();
  const fixedIps = allocateFixedIps(ctx, net, id, fixed);
  return ctx.tx.put({
    kind: 'port', id, projectId,
    attrs: {
      name: '', description: '', network_id: net.id, admin_state_up: true, mac_address: freshMac(ctx), fixed_ips: fixedIps,
      device_id: deviceId, device_owner: owner, security_groups: [], allowed_address_pairs: [], port_security_enabled: false,
      'binding:host_id': '', 'binding:vnic_type': 'normal', 'binding:profile': {}, 'binding:vif_type': 'unbound', 'binding:vif_details': {},
      dns_name: '', extra_dhcp_opts: [], status: 'ACTIVE', tags: [],
    },
    version: 1, createdAt: ctx.tx.now, updatedAt: ctx.tx.now,
  });
}

function gatewayPort(ctx: NetCtx, router: NetRow): NetRow | undefined {
  return ctx.state.where('port', 'device_id', router.id).find((p) => p.attrs.device_owner === ROUTER_GATEWAY);
}

function setGateway(ctx: NetCtx, router: NetRow, info: Attrs | null): Attrs | null {
  const old = gatewayPort(ctx, router);
  if (info === null) {
    if (old) {
      const used = ctx.state.where('floatingip', 'router_id', router.id);
      if (used.length > 0) throw inConflict(`Gateway cannot be updated for router ${router.id}, since a gateway to external network ${String(old.attrs.network_id)} is required by one or more floating IPs.`, 'RouterExternalGatewayInUseByFloatingIp');
      removePort(ctx, old);
    }
    return null;
  }
  const net = find(ctx, 'network', info.network_id as string);
  if (!isExternal(net)) throw badInput(`Bad router request: Network ${net.id} is not an external network.`, 'BadRequest');
  if (info.enable_snat !== undefined && !ctx.by.isAdmin) throw forbiddenBy('update_router:external_gateway_info:enable_snat');
  if (old && old.attrs.network_id === net.id && info.external_fixed_ips === undefined) return { ...(router.attrs.external_gateway_info as Attrs), enable_snat: info.enable_snat ?? (router.attrs.external_gateway_info as Attrs).enable_snat };
  if (old) removePort(ctx, old);
  const port = servicePort(ctx, net, ROUTER_GATEWAY, router.id, info.external_fixed_ips as FixedIp[] | undefined);
  return { network_id: net.id, enable_snat: info.enable_snat ?? true, external_fixed_ips: port.attrs.fixed_ips };
}

export const routerOps: KindOps = {
  create(ctx, attrs) {
    const row = newRow(ctx, 'router', attrs);
    checkQuota(ctx, 'router', row.projectId);
    Object.assign(row.attrs, { status: 'ACTIVE', tags: [], external_gateway_info: null, routes: [], flavor_id: null });
    ctx.tx.put(row);
    const gw = setGateway(ctx, row, (attrs.external_gateway_info as Attrs | null) ?? null);
    return gw === null ? row : ctx.tx.update(row, { external_gateway_info: gw });
  },
  update(ctx, row, attrs) {
    const changes: Attrs = { ...attrs };
    if ('external_gateway_info' in attrs) {
      const info = attrs.external_gateway_info as Attrs | null;
      changes.external_gateway_info = setGateway(ctx, row, info === null || Object.keys(info).length === 0 ? null : info);
    }
    if (attrs.routes !== undefined) {
      for (const r of attrs.routes as { destination: string; nexthop: string }[]) if (!parseIp(r.nexthop)) throw badInput(`Invalid input for routes. Reason: '${r.nexthop}' is not a valid IP address.`);
    }
    return ctx.tx.update(row, changes);
  },
  remove(ctx, row) {
    if (ctx.state.where('port', 'device_id', row.id).some((p) => p.attrs.device_owner === ROUTER_INTERFACE)) {
      throw inConflict(`Router ${row.id} still has ports`, 'RouterInUse');
    }
    setGateway(ctx, row, null);
    ctx.tx.del(row);
  },
  computed(ctx) {
    return { availability_zones: [ctx.config.zone] };
  },
};

/** `add_router_interface`: a port on the subnet holding its gateway address (or the given port). */
export function addInterface(ctx: NetCtx, router: NetRow, subnetId: string | undefined, portId: string | undefined): Attrs {
  if ((subnetId === undefined) === (portId === undefined)) throw badInput('Bad router request: Cannot specify both subnet-id and port-id', 'BadRequest');
  const interfaces = ctx.state.where('port', 'device_id', router.id).filter((p) => p.attrs.device_owner === ROUTER_INTERFACE);
  let port: NetRow;
  if (portId !== undefined) {
    const p = owned(ctx, 'port', portId);
    if (p.attrs.device_id !== '' && p.attrs.device_id !== router.id) throw inConflict(`Port ${p.id} is still in use.`, 'PortInUse');
    if ((p.attrs.fixed_ips as FixedIp[]).length === 0) throw badInput(`Bad router request: Router port must have at least one fixed IP.`, 'BadRequest');
    port = ctx.tx.update(p, { device_id: router.id, device_owner: ROUTER_INTERFACE, status: 'ACTIVE' });
  } else {
    const subnet = find(ctx, 'subnet', subnetId!);
    if (!ctx.by.isAdmin && subnet.projectId !== ctx.by.projectId && router.projectId !== ctx.by.projectId) throw notFoundOf('subnet', subnet.id);
    if (subnet.attrs.gateway_ip === null) throw badInput(`Bad router request: Subnet for router interface must have a gateway IP.`, 'BadRequest');
    if (interfaces.some((p) => (p.attrs.fixed_ips as FixedIp[]).some((f) => f.subnet_id === subnet.id))) {
      throw badInput(`Bad router request: Router already has a port on subnet ${subnet.id}.`, 'BadRequest');
    }
    const net = ctx.state.get('network', subnet.attrs.network_id as string)!;
    port = servicePort(ctx, net, ROUTER_INTERFACE, router.id, [{ subnet_id: subnet.id, ip_address: subnet.attrs.gateway_ip as string }], router.projectId);
  }
  const fixed = port.attrs.fixed_ips as FixedIp[];
  return {
    id: router.id, tenant_id: router.projectId, project_id: router.projectId, port_id: port.id, network_id: port.attrs.network_id,
    subnet_id: fixed[0]?.subnet_id, subnet_ids: fixed.map((f) => f.subnet_id),
  };
}

/** `remove_router_interface`: refused while a floating IP relies on the subnet it joins. */
export function removeInterface(ctx: NetCtx, router: NetRow, subnetId: string | undefined, portId: string | undefined): Attrs {
  const interfaces = ctx.state.where('port', 'device_id', router.id).filter((p) => p.attrs.device_owner === ROUTER_INTERFACE);
  const port = portId !== undefined
    ? interfaces.find((p) => p.id === portId)
    : interfaces.find((p) => (p.attrs.fixed_ips as FixedIp[]).some((f) => f.subnet_id === subnetId));
  if (!port) {
    const what = portId !== undefined ? `port ${portId}` : `subnet ${String(subnetId)}`;
    throw Object.assign(notFoundOf('router', router.id), { message: `Router ${router.id} does not have an interface with ${what}`, details: { type: 'RouterInterfaceNotFound' } });
  }
  const subnets = (port.attrs.fixed_ips as FixedIp[]).map((f) => f.subnet_id);
  const reliant = ctx.state.where('floatingip', 'router_id', router.id).filter((f) => {
    const p = ctx.state.get('port', f.attrs.port_id as string);
    return p !== undefined && (p.attrs.fixed_ips as FixedIp[]).some((x) => subnets.includes(x.subnet_id));
  });
  if (reliant.length > 0) throw inConflict(`Router interface for subnet ${subnets[0]} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`, 'RouterInterfaceInUseByFloatingIP');
  removePort(ctx, port);
  return {
    id: router.id, tenant_id: router.projectId, project_id: router.projectId, port_id: port.id, network_id: port.attrs.network_id,
    subnet_id: subnets[0], subnet_ids: subnets,
  };
}
