/**
 * Ports: a MAC unique in the cluster (generated from `base_mac`, or given), fixed IPs from the
 * network's subnets (by subnet, by address, or Neutron's default: one address of the first IPv4
 * subnet with room and one of the first IPv6 subnet), security groups (the project's `default` when
 * none are named, none when port security is off), and a binding to a host (`ACTIVE` once bound).
 */
import { badInput, inConflict, notFoundOf, forbiddenBy } from '../../../protocols/network/errors.js';
import { cidrContains, parseCidr, parseIp } from '../../../protocols/network/ip.js';
import { checkQuota, find, freshMac, newRow, type NetCtx } from '../net-context.js';
import type { Attrs, NetRow } from '../net-state.js';
import type { KindOps } from './kind-ops.js';
import { defaultGroupOf } from './security-group.js';

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

/** Owners whose ports only the network service itself may delete. */
const UNDELETABLE = new Set(['network:router_interface', 'network:router_gateway', 'network:floatingip', 'network:router_interface_distributed']);

/** Allocates the requested fixed IPs (or the default ones) for `portId` on `net`; 409s as Neutron. */
export function allocateFixedIps(ctx: NetCtx, net: NetRow, portId: string, requested: { subnet_id?: string; ip_address?: string }[] | undefined): FixedIp[] {
  const subnets = ctx.state.where('subnet', 'network_id', net.id);
  const out: FixedIp[] = [];
  if (requested === undefined) {
    for (const version of [4, 6]) {
      const candidates = subnets.filter((s) => s.attrs.ip_version === version);
      if (candidates.length === 0) continue;
      const s = candidates.find((c) => ctx.ipam.freeCount(c.id) > 0n);
      const a = s && ctx.ipam.allocate(ctx.tx, s, portId);
      if (!a) throw inConflict(`No more IP addresses available on network ${net.id}.`, 'IpAddressGenerationFailure');
      out.push({ subnet_id: a.subnetId, ip_address: a.ip });
    }
    return out;
  }
  for (const r of requested) {
    let subnet: NetRow | undefined;
    let ip: bigint | undefined;
    if (r.ip_address !== undefined) {
      const parsed = parseIp(r.ip_address);
      if (!parsed) throw badInput(`Invalid input for fixed_ips. Reason: '${r.ip_address}' is not a valid IP address.`);
      ip = parsed.value;
      subnet = r.subnet_id !== undefined ? subnets.find((s) => s.id === r.subnet_id) : subnets.find((s) => { const c = parseCidr(s.attrs.cidr as string)!.cidr; return c.version === parsed.version && cidrContains(c, parsed.value); });
      if (!subnet) {
        if (r.subnet_id !== undefined) throw badInput(`Invalid input for operation: Failed to create port on network ${net.id}, because fixed_ips included invalid subnet ${r.subnet_id}.`, 'InvalidInput');
        throw badInput(`Invalid input for operation: IP address ${r.ip_address} is not a valid IP for any of the subnets on the specified network.`, 'InvalidInput');
      }
      const c = parseCidr(subnet.attrs.cidr as string)!.cidr;
      if (c.version !== parsed.version || !cidrContains(c, parsed.value)) throw badInput(`Invalid input for operation: IP address ${r.ip_address} is not a valid IP for the specified subnet.`, 'InvalidInput');
    } else if (r.subnet_id !== undefined) {
      subnet = subnets.find((s) => s.id === r.subnet_id);
      if (!subnet) throw badInput(`Invalid input for operation: Failed to create port on network ${net.id}, because fixed_ips included invalid subnet ${r.subnet_id}.`, 'InvalidInput');
    } else {
      throw badInput('Invalid input for operation: IP allocation requires subnet_id or ip_address.', 'InvalidInput');
    }
    if (ip !== undefined) {
      const a = ctx.ipam.take(ctx.tx, subnet, ip, portId);
      out.push({ subnet_id: a.subnetId, ip_address: a.ip });
    } else {
      const a = ctx.ipam.allocate(ctx.tx, subnet, portId);
      if (!a) throw inConflict(`No more IP addresses available on network ${net.id}.`, 'IpAddressGenerationFailure');
      out.push({ subnet_id: a.subnetId, ip_address: a.ip });
    }
  }
  return out;
}

function groupsFor(ctx: NetCtx, projectId: string, requested: string[] | undefined, portSecurity: boolean): string[] {
  if (!portSecurity) {
    if (requested !== undefined && requested.length > 0) throw badInput('Port has no security group or port security is disabled: security groups cannot be applied.', 'PortSecurityAndIPRequiredForSecurityGroups');
    return [];
  }
  if (requested === undefined) return [defaultGroupOf(ctx, projectId).id];
  for (const id of requested) {
    const g = ctx.state.get('security_group', id);
    if (!g || (g.projectId !== projectId && !ctx.by.isAdmin && g.attrs.shared !== true)) throw notFoundOf('security_group', id);
  }
  return [...new Set(requested)];
}

function binding(host: string): Attrs {
  return host === ''
    ? { status: 'DOWN', 'binding:vif_type': 'unbound', 'binding:vif_details': {} }
    : { status: 'ACTIVE', 'binding:vif_type': 'ovs', 'binding:vif_details': { port_filter: true, connectivity: 'l2', bridge_name: 'br-int' } };
}

function checkPairs(attrs: Attrs): void {
  for (const p of (attrs.allowed_address_pairs as { ip_address: string }[] | undefined) ?? []) {
    const ok = parseIp(p.ip_address) !== undefined || parseCidr(p.ip_address) !== undefined;
    if (!ok) throw badInput(`Invalid input for allowed_address_pairs. Reason: '${p.ip_address}' is not a valid IP address.`);
  }
}

export function freeFixedIps(ctx: NetCtx, port: NetRow): void {
  for (const a of ctx.state.allocationsOfPort(port.id)) ctx.ipam.free(ctx.tx, a);
}

export const portOps: KindOps = {
  create(ctx, attrs) {
    const net = find(ctx, 'network', attrs.network_id as string);
    if (!ctx.by.isAdmin && net.projectId !== ctx.by.projectId && net.attrs.shared !== true) throw notFoundOf('network', net.id);
    const row = newRow(ctx, 'port', attrs);
    if (!ctx.by.isAdmin && row.projectId !== ctx.by.projectId) throw badInput('Specifying \'project_id\' or \'tenant_id\' other than the authenticated project in request requires admin privileges', 'HTTPBadRequest');
    checkQuota(ctx, 'port', row.projectId);
    checkPairs(attrs);
    const mac = (attrs.mac_address as string | undefined) ?? freshMac(ctx);
    const holder = ctx.state.macs.get(mac);
    if (holder !== undefined) throw inConflict(`Unable to complete operation for network ${net.id}. The mac address ${mac} is in use.`, 'MacAddressInUse');
    const portSecurity = (attrs.port_security_enabled as boolean | undefined) ?? (net.attrs.port_security_enabled as boolean);
    const fixed = allocateFixedIps(ctx, net, row.id, attrs.fixed_ips as FixedIp[] | undefined);
    Object.assign(row.attrs, {
      mac_address: mac, fixed_ips: fixed, port_security_enabled: portSecurity,
      security_groups: groupsFor(ctx, row.projectId, attrs.security_groups as string[] | undefined, portSecurity),
      ...binding(attrs['binding:host_id'] as string), tags: [],
    });
    return ctx.tx.put(row);
  },
  update(ctx, row, attrs) {
    const changes: Attrs = { ...attrs };
    checkPairs(attrs);
    if (attrs.mac_address !== undefined && attrs.mac_address !== row.attrs.mac_address) {
      if (!ctx.by.isAdmin) throw forbiddenBy('update_port:mac_address');
      if (row.attrs['binding:host_id'] !== '') throw inConflict(`Port ${row.id} is bound: its MAC address cannot change.`, 'PortBound');
      if (ctx.state.macs.has(attrs.mac_address as string)) throw inConflict(`Unable to complete operation for network ${String(row.attrs.network_id)}. The mac address ${String(attrs.mac_address)} is in use.`, 'MacAddressInUse');
    }
    if (attrs.fixed_ips !== undefined) {
      const net = ctx.state.get('network', row.attrs.network_id as string)!;
      const wanted = attrs.fixed_ips as { subnet_id?: string; ip_address?: string }[];
      const keep = new Set(wanted.filter((w) => w.ip_address !== undefined).map((w) => `${w.ip_address}`));
      const current = ctx.state.allocationsOfPort(row.id);
      for (const a of current) if (!keep.has(a.ip)) ctx.ipam.free(ctx.tx, a);
      const held = new Set(current.filter((a) => keep.has(a.ip)).map((a) => a.ip));
      const fresh = allocateFixedIps(ctx, net, row.id, wanted.filter((w) => w.ip_address === undefined || !held.has(w.ip_address)));
      changes.fixed_ips = [...current.filter((a) => held.has(a.ip)).map((a) => ({ subnet_id: a.subnetId, ip_address: a.ip })), ...fresh];
    }
    const portSecurity = (attrs.port_security_enabled as boolean | undefined) ?? (row.attrs.port_security_enabled as boolean);
    if (attrs.security_groups !== undefined || attrs.port_security_enabled !== undefined) {
      const groups = attrs.security_groups as string[] | undefined ?? (portSecurity ? (row.attrs.security_groups as string[]) : []);
      if (!portSecurity && groups.length > 0) throw inConflict(`Port ${row.id} has security groups: port security cannot be disabled while they apply.`, 'PortSecurityPortHasSecurityGroup');
      changes.security_groups = groupsFor(ctx, row.projectId, groups, portSecurity);
    }
    if (attrs['binding:host_id'] !== undefined) Object.assign(changes, binding(attrs['binding:host_id'] as string));
    return ctx.tx.update(row, changes);
  },
  remove(ctx, row) {
    if (UNDELETABLE.has(row.attrs.device_owner as string) && !ctx.by.isAdmin) {
      throw inConflict(`Port ${row.id} cannot be deleted directly via the port API: has device owner ${String(row.attrs.device_owner)}.`, 'ServicePortInUse');
    }
    removePort(ctx, row);
  },
};

/** Deletes a port, its addresses, and the floating IPs' association with it. */
export function removePort(ctx: NetCtx, row: NetRow): void {
  freeFixedIps(ctx, row);
  for (const fip of ctx.state.where('floatingip', 'port_id', row.id)) {
    ctx.tx.update(fip, { port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN' });
  }
  ctx.tx.del(row);
}
