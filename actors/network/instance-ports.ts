/**
 * The compute side of networking (Nova's network API over Neutron): a build's requested networks
 * checked before it is accepted, its ports made and bound to its host at spawn (found again on a
 * retry or an alternate host, so a spawn retried never makes two), its NICs for the server view,
 * and at its end the ports it made deleted and the ones it was given unbound.
 */
import type { Nic, RequestedNetworks, RequestedNic } from '../../protocols/catalog/network.js';
import { badInput, inConflict } from '../../protocols/network/errors.js';
import { parseCidr, parseIp } from '../../protocols/network/ip.js';
import { autoTopology } from './auto-topology.js';
import type { NetCtx } from './net-context.js';
import { sees } from './net-context.js';
import type { NetRow } from './net-state.js';
import { portOps, removePort, type FixedIp } from './kinds/port.js';
import { parseCreate } from '../../protocols/network/request.js';

export const COMPUTE_OWNER = 'compute:nova';
/** Marks a port the build made (deleted with the server), as Nova's `preserve_on_delete: false`. */
const MADE = '_made_for_instance';

/** Networks a project may boot on without naming one: its own and shared ones, not external. */
function bootable(ctx: NetCtx): NetRow[] {
  return [...ctx.state.of('network').values()].filter((n) => n.attrs['router:external'] !== true && sees(ctx, n) && (n.projectId === ctx.by.projectId || n.attrs.shared === true));
}

/** Nova's API checks of `networks`, answered as Nova answers them; `auto` resolved to what it means now. */
export function checkRequested(ctx: NetCtx, requested: RequestedNetworks, count: number): RequestedNetworks {
  if (requested === 'none') return 'none';
  if (requested === 'auto') {
    const nets = bootable(ctx);
    if (nets.length > 1) throw inConflict('Multiple possible networks found, use a Network ID to be more specific.', 'NetworkAmbiguous');
    if (nets.length === 1) return [{ network: nets[0]!.id }];
    // Nova's get-me-a-network, when the cloud offers it; else (a departure) a server without NICs.
    return ctx.config.autoAllocate ? [{ network: autoTopology(ctx, ctx.config.autoAllocate, ctx.by.projectId).id }] : 'none';
  }
  for (const nic of requested) {
    if (nic.port != null) {
      const port = ctx.state.get('port', nic.port);
      if (!port || (!ctx.by.isAdmin && port.projectId !== ctx.by.projectId)) throw badInput(`Port id ${nic.port} could not be found.`);
      if (port.attrs.device_id !== '') throw inConflict(`Port ${nic.port} is still in use.`, 'PortInUse');
      if (count > 1) throw inConflict('Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.', 'MultiplePortsNotApplicable');
      continue;
    }
    const net = nic.network != null ? ctx.state.get('network', nic.network) : undefined;
    if (!net || !sees(ctx, net)) throw badInput(`Network ${nic.network ?? ''} could not be found.`);
    if (nic.fixedIp != null) {
      const ip = parseIp(nic.fixedIp);
      if (!ip) throw badInput(`Invalid fixed IP address (${nic.fixedIp})`);
      if (count > 1) throw badInput('max_count cannot be greater than 1 if an fixed_ip is specified.');
      const onNet = ctx.state.where('subnet', 'network_id', net.id).some((s) => parseCidr(s.attrs.cidr as string)?.cidr.version === ip.version);
      if (!onNet) throw badInput(`Fixed IP address ${nic.fixedIp} is not on any subnet of network ${net.id}.`);
    }
  }
  return requested;
}

export function portsOf(ctx: NetCtx, instanceId: string): NetRow[] {
  return ctx.state.where('port', 'device_id', instanceId).filter((p) => String(p.attrs.device_owner).startsWith('compute:'));
}

export function allocate(ctx: NetCtx, instanceId: string, host: string, requested: RequestedNetworks, securityGroups?: string[]): Nic[] {
  const existing = portsOf(ctx, instanceId);
  if (existing.length > 0) {
    return existing.map((p) => nicOf(ctx, p.attrs['binding:host_id'] === host ? p : ctx.tx.update(p, { 'binding:host_id': host, status: 'ACTIVE' })));
  }
  const list = requested === 'none' ? [] : requested === 'auto' ? (checkRequested(ctx, 'auto', 1) as Exclude<RequestedNetworks, string> | 'none') : requested;
  if (list === 'none') return [];
  return list.map((nic) => nicOf(ctx, plug(ctx, instanceId, host, nic, securityGroups)));
}

/** One NIC of an instance: the given port bound to it, or a port made on the network (deleted with it). */
export function plug(ctx: NetCtx, instanceId: string, host: string, nic: RequestedNic, securityGroups?: string[]): NetRow {
  if (nic.port != null) {
    const port = ctx.state.get('port', nic.port);
    if (!port || (!ctx.by.isAdmin && port.projectId !== ctx.by.projectId)) throw badInput(`Port id ${nic.port} could not be found.`);
    if (port.attrs.device_id !== '' && port.attrs.device_id !== instanceId) throw inConflict(`Port ${nic.port} is still in use.`, 'PortInUse');
    return portOps.update(asSystem(ctx), port, { device_id: instanceId, device_owner: COMPUTE_OWNER, 'binding:host_id': host });
  }
  const net = nic.network != null ? ctx.state.get('network', nic.network) : undefined;
  if (!net || !sees(ctx, net)) throw badInput(`Network ${nic.network ?? ''} could not be found.`);
  const attrs = parseCreate('port', {
    network_id: net.id, device_id: instanceId, device_owner: COMPUTE_OWNER, 'binding:host_id': host, project_id: ctx.by.projectId,
    ...(nic.fixedIp != null ? { fixed_ips: [{ ip_address: nic.fixedIp }] } : {}),
    ...(securityGroups ? { security_groups: securityGroups } : {}),
  }, true);
  const port = portOps.create(asSystem(ctx), attrs);
  return ctx.tx.update(port, { [MADE]: true });
}

/** The compute service acts for the project with the rights to bind ports (Nova's admin client). */
const asSystem = (ctx: NetCtx): NetCtx => ({ ...ctx, by: { ...ctx.by, isAdmin: true } });

/** Unplugs one port of an instance: deleted when the build made it, unbound when the user gave it. */
export function unplug(ctx: NetCtx, port: NetRow): 'deleted' | 'unbound' {
  if (port.attrs[MADE] === true) {
    removePort(ctx, port);
    return 'deleted';
  }
  ctx.tx.update(port, { device_id: '', device_owner: '', 'binding:host_id': '', status: 'DOWN', 'binding:vif_type': 'unbound', 'binding:vif_details': {} });
  return 'unbound';
}

export function deallocate(ctx: NetCtx, instanceId: string): { deleted: number; unbound: number } {
  let deleted = 0;
  let unbound = 0;
  for (const p of portsOf(ctx, instanceId)) {
    if (unplug(ctx, p) === 'deleted') deleted++;
    else unbound++;
  }
  return { deleted, unbound };
}

export function nicOf(ctx: NetCtx, port: NetRow): Nic {
  const net = ctx.state.get('network', port.attrs.network_id as string);
  return {
    portId: port.id,
    networkId: port.attrs.network_id as string,
    networkName: (net?.attrs.name as string | undefined) || (port.attrs.network_id as string),
    mac: port.attrs.mac_address as string,
    mtu: (net?.attrs.mtu as number | undefined) ?? 1500,
    fixedIps: (port.attrs.fixed_ips as FixedIp[]).map((f) => {
      const s = ctx.state.get('subnet', f.subnet_id);
      const dns = (s?.attrs.dns_nameservers as string[] | undefined) ?? [];
      const routes = (s?.attrs.host_routes as { destination: string; nexthop: string }[] | undefined) ?? [];
      const mode = s?.attrs.ipv6_address_mode as string | null | undefined;
      return {
        address: f.ip_address, version: parseIp(f.ip_address)?.version ?? 4, subnetId: f.subnet_id, cidr: (s?.attrs.cidr as string | undefined) ?? '', gateway: (s?.attrs.gateway_ip as string | null | undefined) ?? null,
        ...(dns.length > 0 ? { dns: [...dns] } : {}),
        ...(routes.length > 0 ? { routes: routes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })) } : {}),
        ...(mode ? { ipv6AddressMode: mode } : {}),
      };
    }),
    floatingIps: ctx.state.where('floatingip', 'port_id', port.id).map((f) => f.attrs.floating_ip_address as string),
    securityGroups: (port.attrs.security_groups as string[]).map((id) => (ctx.state.get('security_group', id)?.attrs.name as string | undefined) ?? id),
    preserve: port.attrs[MADE] !== true,
  };
}
