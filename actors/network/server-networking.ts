/**
 * What the compute API does to a server's networking after its build: attach and detach an
 * interface (`os-interface`), its security groups (`os-security-groups`, `addSecurityGroup`,
 * `removeSecurityGroup`: applied to every port of the server, as Nova does through Neutron),
 * `addFloatingIp`/`removeFloatingIp`, and the `ip`/`ip6` list filters. Errors are Nova's.
 */
import { badInput, inConflict } from '../../protocols/network/errors.js';
import { parseIp } from '../../protocols/network/ip.js';
import type { Nic, RequestedNic } from '../../protocols/catalog/network.js';
import { NotFoundError } from '../../protocols/errors.js';
import { portOps, type FixedIp } from './kinds/port.js';
import { floatingIpOps } from './kinds/floatingip.js';
import { view } from './net-views.js';
import { nicOf, plug, portsOf, unplug } from './instance-ports.js';
import { sees, type NetCtx } from './net-context.js';
import type { NetRow } from './net-state.js';

export function attach(ctx: NetCtx, instanceId: string, host: string, nic: RequestedNic): Nic {
  return nicOf(ctx, plug(ctx, instanceId, host, nic));
}

export function detach(ctx: NetCtx, instanceId: string, portId: string): void {
  const port = portsOf(ctx, instanceId).find((p) => p.id === portId);
  if (!port) throw new NotFoundError(`Port ${portId} is not attached`);
  unplug(ctx, port);
}

/** The group named `name` (or with that id) the project can use: Nova's 404 otherwise. */
function groupNamed(ctx: NetCtx, name: string): NetRow {
  const groups = [...ctx.state.of('security_group').values()].filter((g) => sees(ctx, g) && (g.projectId === ctx.by.projectId || ctx.by.isAdmin));
  const found = groups.filter((g) => g.id === name || g.attrs.name === name);
  if (found.length === 0) throw new NotFoundError(`Security group ${name} not found for project ${ctx.by.projectId}.`);
  if (found.length > 1) throw inConflict(`Multiple security groups found matching '${name}'. Use an ID to be more specific.`, 'NoUniqueMatch');
  return found[0]!;
}

/** A build's `security_groups` (names or ids) as the ids of the project's groups; Nova's 400 for an unknown one. */
export function groupIds(ctx: NetCtx, names: string[]): string[] {
  return [...new Set(names.map((n) => {
    try {
      return groupNamed(ctx, n).id;
    } catch (err) {
      if (err instanceof NotFoundError) throw badInput(`Security group ${n} not found for project ${ctx.by.projectId}.`);
      throw err;
    }
  }))];
}

export function groups(ctx: NetCtx, instanceId: string, action: 'list' | 'add' | 'remove', name?: string): Record<string, unknown>[] {
  const ports = portsOf(ctx, instanceId);
  if (action !== 'list') {
    const g = groupNamed(ctx, name!);
    if (ports.length === 0) throw badInput('Unable to add or remove a security group: the server has no port.');
    const have = ports.some((p) => (p.attrs.security_groups as string[]).includes(g.id));
    if (action === 'add') {
      if (ports.every((p) => (p.attrs.security_groups as string[]).includes(g.id))) throw badInput(`Security group ${String(g.attrs.name)} is already associated with the instance ${instanceId}`);
      for (const p of ports) {
        if (p.attrs.port_security_enabled !== true) throw badInput(`Cannot add security group ${String(g.attrs.name)} to ${instanceId} since the port ${p.id} does not meet security requirements`);
        const current = p.attrs.security_groups as string[];
        if (!current.includes(g.id)) portOps.update(ctx, p, { security_groups: [...current, g.id] });
      }
    } else {
      if (!have) throw badInput(`Security group ${String(g.attrs.name)} not associated with the instance ${instanceId}`);
      for (const p of ports) portOps.update(ctx, ctx.state.get('port', p.id)!, { security_groups: (p.attrs.security_groups as string[]).filter((x) => x !== g.id) });
    }
  }
  const ids = new Set(portsOf(ctx, instanceId).flatMap((p) => p.attrs.security_groups as string[]));
  return [...ids].flatMap((id) => {
    const g = ctx.state.get('security_group', id);
    return g ? [view(ctx, g)] : [];
  });
}

export function floating(ctx: NetCtx, instanceId: string, action: 'add' | 'remove', address: string, fixedAddress?: string): void {
  const fip = [...ctx.state.of('floatingip').values()].find((f) => f.attrs.floating_ip_address === address && (ctx.by.isAdmin || f.projectId === ctx.by.projectId));
  if (!fip) throw new NotFoundError(`floating IP not found`);
  const ports = portsOf(ctx, instanceId);
  if (action === 'remove') {
    if (!ports.some((p) => p.id === fip.attrs.port_id)) throw inConflict(`Floating IP ${address} is not associated with instance ${instanceId}.`, 'FloatingIpNotAssociated');
    floatingIpOps.update(ctx, fip, { port_id: null });
    return;
  }
  const port = fixedAddress !== undefined
    ? ports.find((p) => (p.attrs.fixed_ips as FixedIp[]).some((f) => f.ip_address === fixedAddress))
    : ports.find((p) => (p.attrs.fixed_ips as FixedIp[]).some((f) => parseIp(f.ip_address)?.version === 4));
  if (!port) {
    if (fixedAddress !== undefined) throw badInput(`Specified fixed address not assigned to instance`);
    throw badInput(`Unable to associate floating IP ${address} to any fixed IPs for instance ${instanceId}. Instance has no fixed IPv4 addresses to associate.`);
  }
  floatingIpOps.update(ctx, fip, { port_id: port.id, ...(fixedAddress !== undefined ? { fixed_ip_address: fixedAddress } : {}) });
}

/** Instances (of the caller's project, unless admin) with an address matching the regular expressions. */
export function matchIps(ctx: NetCtx, ip?: string | null, ip6?: string | null): string[] {
  const compile = (s: string) => {
    // A quantified group can backtrack exponentially even on a 39-character address, and this
    // process decides every network request: such patterns (and long ones) are refused.
    if (s.length > 64 || /\)[*+?{]/.test(s)) throw badInput(`Unsupported regular expression in the ip filter: ${s.slice(0, 64)}`);
    try {
      return new RegExp(s);
    } catch {
      throw badInput(`Invalid regular expression in the ip filter: ${s}`);
    }
  };
  const v4 = ip ? compile(ip) : undefined;
  const v6 = ip6 ? compile(ip6) : undefined;
  const out = new Set<string>();
  for (const p of ctx.state.of('port').values()) {
    if (!String(p.attrs.device_owner).startsWith('compute:') || (!ctx.by.isAdmin && p.projectId !== ctx.by.projectId)) continue;
    const fips = ctx.state.where('floatingip', 'port_id', p.id).map((f) => f.attrs.floating_ip_address as string);
    const addrs = [...(p.attrs.fixed_ips as FixedIp[]).map((f) => f.ip_address), ...fips];
    const hit = addrs.some((a) => {
      const version = parseIp(a)?.version;
      return (v4 !== undefined && version === 4 && v4.test(a)) || (v6 !== undefined && version === 6 && v6.test(a));
    });
    if (hit) out.add(p.attrs.device_id as string);
  }
  return [...out];
}

