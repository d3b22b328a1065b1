/**
 * Nova's get-me-a-network (`networks: auto` with no network to boot on) and Neutron's
 * `auto-allocated-topology`: a project's own network, a subnet carved from a configured supernet
 * (the first free prefix of it), and a router joining it to the cloud's default external network
 * (`is_default`), when there is one. Made once per project, on demand; deleted only when unused.
 */
import { badInput, inConflict } from '../../protocols/network/errors.js';
import { cidrOverlaps, formatCidr, parseCidr, type Cidr } from '../../protocols/network/ip.js';
import { parseCreate } from '../../protocols/network/request.js';
import { OPS } from './kinds/index.js';
import { addInterface, removeInterface } from './kinds/router.js';
import type { AutoAllocate, NetCtx } from './net-context.js';
import type { NetRow } from './net-state.js';


const MARK = '_auto_allocated';

export function autoNetworkOf(ctx: NetCtx, projectId: string): NetRow | undefined {
  return [...ctx.state.of('network').values()].find((n) => n.projectId === projectId && n.attrs[MARK] === true);
}

/** The first `/prefixLength` of the supernet that overlaps no subnet in the cloud. */
function freePrefix(ctx: NetCtx, cfg: AutoAllocate): Cidr {
  const parsed = parseCidr(cfg.supernet);
  if (!parsed || cfg.prefixLength < parsed.cidr.prefix || cfg.prefixLength > (parsed.cidr.version === 4 ? 30 : 126)) throw badInput('The auto-allocation supernet is misconfigured.');
  const taken = [...ctx.state.of('subnet').values()].map((s) => parseCidr(s.attrs.cidr as string)!.cidr).filter((c) => c.version === parsed.cidr.version);
  const bits = parsed.cidr.version === 4 ? 32 : 128;
  const step = 1n << BigInt(bits - cfg.prefixLength);
  const count = 1n << BigInt(cfg.prefixLength - parsed.cidr.prefix);
  for (let i = 0n; i < count && i < 65_536n; i++) {
    const c: Cidr = { version: parsed.cidr.version, network: parsed.cidr.network + i * step, prefix: cfg.prefixLength };
    if (!taken.some((t) => cidrOverlaps(t, c))) return c;
  }
  throw inConflict('Deployment error: no free prefix is left for auto-allocated networks.', 'AutoAllocationFailure');
}

/** The project's auto-allocated network, made (network, subnet, router) if it has none. */
export function autoTopology(ctx: NetCtx, cfg: AutoAllocate, projectId: string): NetRow {
  const existing = autoNetworkOf(ctx, projectId);
  if (existing) return existing;
  const as = { ...ctx, by: { projectId, isAdmin: true } };
  const net = OPS.network.create(as, parseCreate('network', { name: 'auto_allocated_network', project_id: projectId }, true));
  as.tx.update(net, { [MARK]: true });
  const cidr = freePrefix(ctx, cfg);
  const subnet = OPS.subnet.create(as, parseCreate('subnet', { name: 'auto_allocated_subnet_v4', network_id: net.id, ip_version: cidr.version, cidr: formatCidr(cidr), project_id: projectId }, true));
  const external = [...ctx.state.of('network').values()].find((n) => n.attrs['router:external'] === true && n.attrs.is_default === true);
  if (external) {
    const router = OPS.router.create(as, parseCreate('router', { name: 'auto_allocated_router', project_id: projectId, external_gateway_info: { network_id: external.id } }, true));
    as.tx.update(router, { [MARK]: true });
    addInterface(as, ctx.state.get('router', router.id)!, subnet.id, undefined);
  }
  return ctx.state.get('network', net.id)!;
}

/** `DELETE /auto-allocated-topology/<project>`: refused (409) while a port other than the router's uses it. */
export function deleteAutoTopology(ctx: NetCtx, projectId: string): void {
  const net = autoNetworkOf(ctx, projectId);
  if (!net) return;
  const as = { ...ctx, by: { projectId, isAdmin: true } };
  const router = [...ctx.state.of('router').values()].find((r) => r.projectId === projectId && r.attrs[MARK] === true);
  if (router) {
    for (const s of ctx.state.where('subnet', 'network_id', net.id)) {
      const joined = ctx.state.where('port', 'device_id', router.id).some((p) => (p.attrs.fixed_ips as { subnet_id: string }[]).some((f) => f.subnet_id === s.id));
      if (joined) removeInterface(as, router, s.id, undefined);
    }
  }
  OPS.network.remove(as, ctx.state.get('network', net.id)!);
  if (router) OPS.router.remove(as, ctx.state.get('router', router.id)!);
}
