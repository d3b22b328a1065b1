/**
 * Floating IPs: an address of an external network (held by a service port, as Neutron does),
 * associated with one fixed IPv4 address of a port that a router joins to that network.
 */
import { badInput, inConflict, notFoundOf, forbiddenBy } from '../../../protocols/network/errors.js';
import { parseIp } from '../../../protocols/network/ip.js';
import { checkQuota, find, newRow, type NetCtx } from '../net-context.js';
import type { Attrs, NetRow } from '../net-state.js';
import type { KindOps } from './kind-ops.js';
import { isExternal } from './network.js';
import { removePort, type FixedIp } from './port.js';
import { ROUTER_GATEWAY, ROUTER_INTERFACE, servicePort } from './router.js';

const FIP_OWNER = 'network:floatingip';

/** The association of `fip` with `portId` (and one of its fixed IPv4 addresses), checked. */
function association(ctx: NetCtx, fip: NetRow, portId: string | null, fixedIp: string | null | undefined): Attrs {
  if (portId === null) return { port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN' };
  const port = ctx.state.get('port', portId);
  if (!port || (!ctx.by.isAdmin && port.projectId !== ctx.by.projectId)) throw notFoundOf('port', portId);
  const v4 = (port.attrs.fixed_ips as FixedIp[]).filter((f) => parseIp(f.ip_address)?.version === 4);
  const chosen = fixedIp == null ? v4[0] : v4.find((f) => f.ip_address === fixedIp);
  if (!chosen) {
    if (fixedIp != null) throw badInput(`Bad floatingip request: Port ${portId} does not have fixed ip ${fixedIp}.`, 'BadRequest');
    throw badInput(`Bad floatingip request: Port ${portId} does not have any IPv4 address.`, 'BadRequest');
  }
  const taken = ctx.state.where('floatingip', 'port_id', portId).find((f) => f.id !== fip.id && f.attrs.fixed_ip_address === chosen.ip_address);
  if (taken) {
    throw inConflict(`Cannot associate floating IP ${String(fip.attrs.floating_ip_address)} (${fip.id}) with port ${portId} using fixed IP ${chosen.ip_address}, as that fixed IP already has a floating IP on external network ${String(fip.attrs.floating_network_id)}.`, 'FloatingIPPortAlreadyAssociated');
  }
  const extNet = fip.attrs.floating_network_id as string;
  const router = [...ctx.state.of('router').values()].find((r) => {
    const ports = ctx.state.where('port', 'device_id', r.id);
    return ports.some((p) => p.attrs.device_owner === ROUTER_GATEWAY && p.attrs.network_id === extNet)
      && ports.some((p) => p.attrs.device_owner === ROUTER_INTERFACE && (p.attrs.fixed_ips as FixedIp[]).some((f) => f.subnet_id === chosen.subnet_id));
  });
  if (!router) {
    throw Object.assign(notFoundOf('floatingip', fip.id), {
      message: `External network ${extNet} is not reachable from subnet ${chosen.subnet_id}.  Therefore, cannot associate Port ${portId} with a Floating IP.`,
      details: { type: 'ExternalGatewayForFloatingIPNotFound' },
    });
  }
  return { port_id: portId, fixed_ip_address: chosen.ip_address, router_id: router.id, status: 'ACTIVE' };
}

export const floatingIpOps: KindOps = {
  create(ctx, attrs) {
    const net = find(ctx, 'network', attrs.floating_network_id as string);
    if (!isExternal(net)) throw badInput(`Bad floatingip request: Network ${net.id} is not a valid external network.`, 'BadRequest');
    if (attrs.floating_ip_address !== undefined && !ctx.by.isAdmin) throw forbiddenBy('create_floatingip:floating_ip_address');
    const row = newRow(ctx, 'floatingip', attrs);
    checkQuota(ctx, 'floatingip', row.projectId);
    const subnetId = attrs.subnet_id as string | null | undefined;
    const v4Subnets = ctx.state.where('subnet', 'network_id', net.id).filter((s) => s.attrs.ip_version === 4);
    if (subnetId != null && !v4Subnets.some((s) => s.id === subnetId)) throw badInput(`Bad floatingip request: Subnet ${subnetId} is not on network ${net.id}.`, 'BadRequest');
    const request = attrs.floating_ip_address !== undefined
      ? [{ ip_address: attrs.floating_ip_address as string, ...(subnetId != null ? { subnet_id: subnetId } : {}) }]
      : subnetId != null ? [{ subnet_id: subnetId }] : v4Subnets.length > 0 ? undefined : [];
    if (v4Subnets.length === 0) throw inConflict(`No more IP addresses available on network ${net.id}.`, 'IpAddressGenerationFailure');
    let port: NetRow;
    if (request === undefined) {
      // The first IPv4 subnet with room.
      const s = v4Subnets.find((x) => ctx.ipam.freeCount(x.id) > 0n);
      if (!s) throw inConflict(`No more IP addresses available on network ${net.id}.`, 'IpAddressGenerationFailure');
      port = servicePort(ctx, net, FIP_OWNER, row.id, [{ subnet_id: s.id }]);
    } else {
      port = servicePort(ctx, net, FIP_OWNER, row.id, request);
    }
    const fixed = (port.attrs.fixed_ips as FixedIp[])[0]!;
    Object.assign(row.attrs, { floating_ip_address: fixed.ip_address, subnet_id: fixed.subnet_id, port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', tags: [], port_details: null, qos_policy_id: null, port_forwardings: [] });
    ctx.tx.put(row);
    if (attrs.port_id != null) return ctx.tx.update(row, association(ctx, row, attrs.port_id as string, attrs.fixed_ip_address as string | null | undefined));
    return row;
  },
  update(ctx, row, attrs) {
    const changes: Attrs = { ...attrs };
    if ('port_id' in attrs) Object.assign(changes, association(ctx, row, attrs.port_id as string | null, attrs.fixed_ip_address as string | null | undefined));
    else if ('fixed_ip_address' in attrs) Object.assign(changes, association(ctx, row, row.attrs.port_id as string | null, attrs.fixed_ip_address as string | null));
    return ctx.tx.update(row, changes);
  },
  remove(ctx, row) {
    for (const p of ctx.state.where('port', 'device_id', row.id)) if (p.attrs.device_owner === FIP_OWNER) removePort(ctx, p);
    ctx.tx.del(row);
  },
  computed(ctx, row) {
    const port = row.attrs.port_id ? ctx.state.get('port', row.attrs.port_id as string) : undefined;
    return {
      port_details: port ? { name: port.attrs.name, network_id: port.attrs.network_id, mac_address: port.attrs.mac_address, admin_state_up: port.attrs.admin_state_up, status: port.attrs.status, device_id: port.attrs.device_id, device_owner: port.attrs.device_owner } : null,
    };
  },
};
