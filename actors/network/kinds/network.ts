/**
 * Networks: provider attributes (admins), tenant networks as VLANs from the configured ranges,
 * external and shared flags; a network with ports in use cannot be deleted, its subnets go with it.
 */
import { badInput, inConflict } from '../../../protocols/network/errors.js';
import { NovactError } from '../../../protocols/errors.js';

/** Neutron's 503 when the segment ranges are used up. */
const noNetworkAvailable = (m: string) => new NovactError('serviceUnavailable', 503, m, true, { type: 'NoNetworkAvailable' });
import { checkQuota, type NetCtx } from '../net-context.js';
import { newRow } from '../net-context.js';
import type { Attrs, NetRow } from '../net-state.js';
import type { KindOps } from './kind-ops.js';
import { removeSubnet, SERVICE_OWNERS } from './subnet.js';

function segmentFor(ctx: NetCtx, attrs: Attrs): Attrs {
  const type = attrs['provider:network_type'] as string | undefined;
  const physnet = attrs['provider:physical_network'] as string | null | undefined;
  const seg = attrs['provider:segmentation_id'] as number | null | undefined;
  const ranges = ctx.config.vlanRanges;
  const inUse = (p: string, id: number) => [...ctx.state.of('network').values()].some((n) => n.attrs['provider:physical_network'] === p && n.attrs['provider:segmentation_id'] === id);
  if (type === undefined) {
    // A tenant network: the first free VLAN of the configured ranges, else a local network.
    for (const [p, [lo, hi]] of Object.entries(ranges)) {
      for (let id = lo; id <= hi; id++) if (!inUse(p, id)) return { 'provider:network_type': 'vlan', 'provider:physical_network': p, 'provider:segmentation_id': id };
    }
    if (Object.keys(ranges).length > 0) throw noNetworkAvailable('Unable to create the network. No tenant network is available for allocation.');
    return { 'provider:network_type': 'local', 'provider:physical_network': null, 'provider:segmentation_id': null };
  }
  if (type === 'local') {
    if (physnet != null || seg != null) throw badInput('Invalid input for operation: provider:physical_network and provider:segmentation_id are prohibited for local provider network.', 'InvalidInput');
    return { 'provider:network_type': 'local', 'provider:physical_network': null, 'provider:segmentation_id': null };
  }
  if (physnet == null) throw badInput(`Invalid input for operation: physical_network required for ${type} provider network.`, 'InvalidInput');
  if (type === 'flat') {
    if (seg != null) throw badInput('Invalid input for operation: segmentation_id prohibited for flat provider network.', 'InvalidInput');
    if ([...ctx.state.of('network').values()].some((n) => n.attrs['provider:network_type'] === 'flat' && n.attrs['provider:physical_network'] === physnet)) {
      throw inConflict(`Unable to create the flat network. Physical network ${physnet} is in use.`, 'FlatNetworkInUse');
    }
    return { 'provider:network_type': 'flat', 'provider:physical_network': physnet, 'provider:segmentation_id': null };
  }
  let id = seg ?? undefined;
  if (id === undefined) {
    const [lo, hi] = ranges[physnet] ?? [1, 4094];
    for (let v = lo; v <= hi && id === undefined; v++) if (!inUse(physnet, v)) id = v;
    if (id === undefined) throw noNetworkAvailable(`Unable to create the network. No VLAN is free on physical network ${physnet}.`);
  } else if (inUse(physnet, id)) {
    throw inConflict(`Unable to create the network. The VLAN ${id} on physical network ${physnet} is in use.`, 'VlanIdInUse');
  }
  return { 'provider:network_type': 'vlan', 'provider:physical_network': physnet, 'provider:segmentation_id': id };
}

export const networkOps: KindOps = {
  create(ctx, attrs) {
    const row = newRow(ctx, 'network', attrs);
    checkQuota(ctx, 'network', row.projectId);
    Object.assign(row.attrs, segmentFor(ctx, attrs), { status: 'ACTIVE', tags: [] });
    return ctx.tx.put(row);
  },
  update(ctx, row, attrs) {
    if (attrs.shared === false && row.attrs.shared === true) {
      const others = [...ctx.state.of('port').values()].some((p) => p.attrs.network_id === row.id && p.projectId !== row.projectId);
      if (others) throw inConflict(`Unable to reconfigure sharing settings for network ${row.id}. Multiple tenants are using it.`, 'InvalidSharedSetting');
    }
    return ctx.tx.update(row, attrs);
  },
  remove(ctx, row) {
    const ports = ctx.state.where('port', 'network_id', row.id);
    if (ports.some((p) => !SERVICE_OWNERS.has(p.attrs.device_owner as string))) {
      throw inConflict(`Unable to complete operation on network ${row.id}. There are one or more ports still in use on the network.`, 'NetworkInUse');
    }
    if (ctx.state.where('floatingip', 'floating_network_id', row.id).length > 0) {
      throw inConflict(`Unable to complete operation on network ${row.id}. There are one or more floating IPs still in use on the network.`, 'NetworkInUse');
    }
    for (const s of ctx.state.where('subnet', 'network_id', row.id)) removeSubnet(ctx, s, true);
    ctx.tx.del(row);
  },
  computed(ctx, row) {
    const subnets = ctx.state.where('subnet', 'network_id', row.id).map((s) => s.id);
    return { subnets, availability_zones: [ctx.config.zone], ipv4_address_scope: null, ipv6_address_scope: null, l2_adjacency: true, qos_policy_id: null };
  },
};

export function isExternal(row: NetRow | undefined): boolean {
  return row?.attrs['router:external'] === true;
}
