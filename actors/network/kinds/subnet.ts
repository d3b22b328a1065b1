/**
 * Subnets: a CIDR of the network's (no overlap with its other subnets), a gateway (the first
 * address by default, `null` for none) and allocation pools (all but the network, broadcast and
 * gateway addresses by default), checked as Neutron checks them. Pools may change while ports hold
 * addresses: the allocator is rebuilt from both. A subnet with addresses in use cannot be deleted.
 */
import { badInput, inConflict } from '../../../protocols/network/errors.js';
import { cidrContains, cidrOverlaps, formatAddress, formatCidr, parseCidr, parseIp, type Cidr } from '../../../protocols/network/ip.js';
import { defaultGateway, defaultPools, validatePools, type IpRange } from '../../../protocols/network/ip-pools.js';
import { checkQuota, newRow, owned, type NetCtx } from '../net-context.js';
import type { Attrs, NetRow } from '../net-state.js';
import type { KindOps } from './kind-ops.js';

/** Ports a network's deletion removes itself (Neutron's "auto-delete" owners). */
export const SERVICE_OWNERS = new Set(['network:dhcp', 'network:router_interface_distributed']);

function addressIn(cidr: Cidr, text: unknown, what: string): bigint {
  const ip = typeof text === 'string' ? parseIp(text) : undefined;
  if (!ip) throw badInput(`Invalid input for ${what}. Reason: '${String(text)}' is not a valid IP address.`);
  if (ip.version !== cidr.version) throw badInput(`Invalid input for operation: ${what} ${String(text)} does not match the subnet's IP version ${cidr.version}.`, 'InvalidInput');
  return ip.value;
}

function poolsOf(cidr: Cidr, pools: { start: string; end: string }[]): IpRange[] {
  return pools.map((p) => ({ start: addressIn(cidr, p.start, 'allocation_pools'), end: addressIn(cidr, p.end, 'allocation_pools') }));
}

const poolsJson = (cidr: Cidr, pools: IpRange[]) => pools.map((p) => ({ start: formatAddress(cidr.version, p.start), end: formatAddress(cidr.version, p.end) }));

function gatewayOf(cidr: Cidr, attrs: Attrs, current?: string | null): bigint | null {
  if (!('gateway_ip' in attrs)) return current === undefined ? defaultGateway(cidr) : current === null ? null : parseIp(current)!.value;
  if (attrs.gateway_ip === null) return null;
  return addressIn(cidr, attrs.gateway_ip, 'gateway_ip');
}

function checkNameservers(cidr: Cidr, attrs: Attrs): void {
  const ns = attrs.dns_nameservers as string[] | undefined;
  if (!ns) return;
  for (const n of ns) if (!parseIp(n)) throw badInput(`Invalid input for dns_nameservers. Reason: '${n}' is not a valid nameserver.`);
  if (new Set(ns).size !== ns.length) throw badInput('Invalid input for dns_nameservers. Reason: Duplicate nameserver.');
  const routes = attrs.host_routes as { destination: string; nexthop: string }[] | undefined;
  for (const r of routes ?? []) {
    const d = parseCidr(r.destination);
    if (!d || d.cidr.version !== cidr.version) throw badInput(`Invalid input for host_routes. Reason: '${r.destination}' is not a valid IP subnet.`);
    addressIn(cidr, r.nexthop, 'host_routes');
  }
}

export const subnetOps: KindOps = {
  create(ctx, attrs) {
    const net = owned(ctx, 'network', attrs.network_id as string);
    const parsed = parseCidr(attrs.cidr as string);
    if (!parsed) throw badInput(`Invalid input for cidr. Reason: '${String(attrs.cidr)}' is not a valid IP subnet.`);
    const { cidr, hostBitsSet } = parsed;
    if (hostBitsSet) throw badInput(`Invalid input for cidr. Reason: '${String(attrs.cidr)}' isn't a recommended CIDR, use '${formatCidr(cidr)}' instead.`);
    if (cidr.version !== attrs.ip_version) throw badInput(`Invalid input for operation: Requested subnet with cidr: ${formatCidr(cidr)} does not match ip_version ${String(attrs.ip_version)}.`, 'InvalidInput');
    if ((cidr.version === 4 && cidr.prefix > 30) || (cidr.version === 6 && cidr.prefix > 126)) {
      throw badInput(`Invalid input for operation: Invalid CIDR ${formatCidr(cidr)} for IPv${cidr.version} address mode.`, 'InvalidInput');
    }
    if (cidr.version === 4 && (attrs.ipv6_ra_mode != null || attrs.ipv6_address_mode != null)) {
      throw badInput('Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.', 'InvalidInput');
    }
    for (const other of ctx.state.where('subnet', 'network_id', net.id)) {
      if (cidrOverlaps(parseCidr(other.attrs.cidr as string)!.cidr, cidr)) {
        throw badInput(`Invalid input for operation: Requested subnet with cidr: ${formatCidr(cidr)} for network: ${net.id} overlaps with another subnet.`, 'InvalidInput');
      }
    }
    const gateway = gatewayOf(cidr, attrs);
    if (gateway !== null && !cidrContains(cidr, gateway)) throw badInput(`Invalid input for operation: Gateway IP ${String(attrs.gateway_ip)} is not in subnet ${formatCidr(cidr)}.`, 'InvalidInput');
    const pools = attrs.allocation_pools === undefined ? defaultPools(cidr, gateway) : poolsOf(cidr, attrs.allocation_pools as { start: string; end: string }[]);
    const poolError = validatePools(cidr, pools, gateway);
    if (poolError) throw badInput(poolError, 'InvalidInput');
    checkNameservers(cidr, attrs);
    const row = newRow(ctx, 'subnet', { ...attrs, project_id: attrs.project_id ?? net.projectId });
    checkQuota(ctx, 'subnet', row.projectId);
    Object.assign(row.attrs, { cidr: formatCidr(cidr), gateway_ip: gateway === null ? null : formatAddress(cidr.version, gateway), allocation_pools: poolsJson(cidr, pools), tags: [] });
    ctx.tx.put(row);
    ctx.ipam.build(row);
    ctx.tx.onUndo(() => ctx.ipam.drop(row.id));
    return row;
  },
  update(ctx, row, attrs) {
    const cidr = parseCidr(row.attrs.cidr as string)!.cidr;
    const gateway = gatewayOf(cidr, attrs, row.attrs.gateway_ip as string | null);
    const pools = attrs.allocation_pools === undefined
      ? poolsOf(cidr, row.attrs.allocation_pools as { start: string; end: string }[])
      : poolsOf(cidr, attrs.allocation_pools as { start: string; end: string }[]);
    if (gateway !== null && !cidrContains(cidr, gateway)) throw badInput(`Invalid input for operation: Gateway IP ${String(attrs.gateway_ip)} is not in subnet ${formatCidr(cidr)}.`, 'InvalidInput');
    const poolError = validatePools(cidr, pools, gateway);
    if (poolError) throw badInput(poolError, 'InvalidInput');
    checkNameservers(cidr, attrs);
    const next = ctx.tx.update(row, { ...attrs, gateway_ip: gateway === null ? null : formatAddress(cidr.version, gateway), allocation_pools: poolsJson(cidr, pools) });
    ctx.ipam.build(next);
    ctx.tx.onUndo(() => ctx.ipam.build(row));
    return next;
  },
  remove(ctx, row) {
    removeSubnet(ctx, row, false);
  },
};

/** Deletes a subnet; refused (409) while a port other than a service port holds one of its addresses. */
export function removeSubnet(ctx: NetCtx, row: NetRow, withNetwork: boolean): void {
  const held = [...ctx.state.allocations.values()].filter((a) => a.subnetId === row.id);
  for (const a of held) {
    const port = ctx.state.get('port', a.portId);
    if (port && !SERVICE_OWNERS.has(port.attrs.device_owner as string) && !withNetwork) {
      throw inConflict(`Unable to complete operation on subnet ${row.id}: One or more ports have an IP allocation from this subnet.`, 'SubnetInUse');
    }
  }
  for (const a of held) {
    ctx.ipam.free(ctx.tx, a);
    const port = ctx.state.get('port', a.portId);
    if (port) ctx.tx.update(port, { fixed_ips: (port.attrs.fixed_ips as { subnet_id: string }[]).filter((f) => f.subnet_id !== row.id) });
  }
  ctx.tx.del(row);
  ctx.ipam.drop(row.id);
  ctx.tx.onUndo(() => ctx.ipam.build(row));
}
