/**
 * What a resource's rules see while deciding one request: the state, its open `Tx`, the address
 * allocator, the caller, the role's settings, and the checks every kind shares (who may see a row,
 * quotas, ids).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { NetCaller } from '../../protocols/catalog/network.js';
import { inConflict, notFoundOf } from '../../protocols/network/errors.js';
import type { NetKind } from '../../protocols/network/resources.js';
import { macFromBase } from '../../protocols/network/mac.js';
import type { Ipam } from './ipam.js';
import type { Attrs, NetRow, NetState, Tx } from './net-state.js';

/** Get-me-a-network's address space (`auto-topology.ts`). */
export interface AutoAllocate {
  /** Where projects' subnets come from, e.g. `10.128.0.0/9`. */
  supernet: string;
  /** Each project's subnet size, e.g. 24. */
  prefixLength: number;
}

export interface NetConfig {
  /** Neutron's `base_mac`: generated MACs keep its first three octets (four when the fourth is not 00). */
  macBase: string;
  /** Tenant networks are VLANs from these ranges (`physnet` → [min, max]); empty: `local` networks. */
  vlanRanges: Record<string, [number, number]>;
  /** Neutron's default per-project quotas (-1: unlimited). */
  quotas: Record<QuotaResource, number>;
  /** The one availability zone networks and routers are in. */
  zone: string;
  /** Nova's get-me-a-network: `auto` with nothing to boot on makes the project a network (off when absent). */
  autoAllocate?: AutoAllocate;
}

export const QUOTA_RESOURCES = ['network', 'subnet', 'port', 'router', 'floatingip', 'security_group', 'security_group_rule', 'rbac_policy', 'subnetpool'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

export const DEFAULT_NET_CONFIG: NetConfig = {
  macBase: 'fa:16:3e:00:00:00',
  vlanRanges: { physnet1: [100, 4094] },
  quotas: { network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, security_group: 10, security_group_rule: 100, rbac_policy: 10, subnetpool: -1 },
  zone: 'nova',
};

export interface NetCtx {
  state: NetState;
  tx: Tx;
  ipam: Ipam;
  by: NetCaller;
  config: NetConfig;
}

/** May the caller see this row? Admins see all; others their project's, and shared or external networks. */
export function sees(ctx: NetCtx, row: NetRow): boolean {
  if (ctx.by.isAdmin || row.projectId === ctx.by.projectId) return true;
  if (row.kind === 'network') return row.attrs.shared === true || row.attrs['router:external'] === true;
  if (row.kind === 'subnet') {
    const net = ctx.state.get('network', row.attrs.network_id as string);
    return net !== undefined && net.attrs.shared === true;
  }
  return false;
}

/** The row of `kind` with this id that the caller can see, else Neutron's 404. */
export function find(ctx: NetCtx, kind: NetKind, id: string): NetRow {
  const row = ctx.state.get(kind, id);
  if (!row || !sees(ctx, row)) throw notFoundOf(kind, id);
  return row;
}

/** The caller may change it: its project's, or an admin. A row seen but not owned is Neutron's 404 too. */
export function owned(ctx: NetCtx, kind: NetKind, id: string): NetRow {
  const row = find(ctx, kind, id);
  if (!ctx.by.isAdmin && row.projectId !== ctx.by.projectId) throw notFoundOf(kind, id);
  return row;
}

export function newRow(ctx: NetCtx, kind: NetKind, attrs: Attrs, id: string = randomUUID()): NetRow {
  const projectId = (attrs.project_id as string | undefined) ?? ctx.by.projectId;
  const { project_id: _p, ...rest } = attrs;
  return { kind, id, projectId, attrs: rest, version: 1, createdAt: ctx.tx.now, updatedAt: ctx.tx.now };
}

/** The project's limit for a resource: its override, else the default. */
export function quotaOf(ctx: NetCtx, projectId: string, resource: QuotaResource): number {
  const own = ctx.state.get('quota', projectId)?.attrs[resource];
  return typeof own === 'number' ? own : ctx.config.quotas[resource];
}

export function countOf(ctx: NetCtx, kind: NetKind, projectId: string): number {
  return ctx.state.countOf(kind, projectId);
}

/** Neutron's 409 OverQuota when one more `kind` would exceed the project's limit. */
export function checkQuota(ctx: NetCtx, kind: NetKind & QuotaResource, projectId: string, adding = 1): void {
  const limit = quotaOf(ctx, projectId, kind);
  if (limit >= 0 && countOf(ctx, kind, projectId) + adding > limit) throw inConflict(`Quota exceeded for resources: ['${kind}'].`, 'OverQuota');
}

/** A MAC no port has (`base_mac` rules). */
export function freshMac(ctx: NetCtx): string {
  for (;;) {
    const mac = macFromBase(ctx.config.macBase, (n) => randomBytes(n));
    if (!ctx.state.macs.has(mac)) return mac;
  }
}
