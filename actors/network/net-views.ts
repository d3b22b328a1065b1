/**
 * A resource as Neutron shows it: the stored attributes (private `_` ones dropped, the ones only
 * admins may see dropped for members), what is computed from other rows, and the standard
 * attributes (project, timestamps, revision, tags).
 */
import type { NetKind } from '../../protocols/network/resources.js';
import type { NetCtx } from './net-context.js';
import { neutronTime, type NetRow } from './net-state.js';
import { OPS } from './kinds/index.js';

const ADMIN_ONLY = new Set(['provider:network_type', 'provider:physical_network', 'provider:segmentation_id', 'binding:host_id', 'binding:profile', 'binding:vif_type', 'binding:vif_details', 'distributed', 'ha']);


export function view(ctx: NetCtx, row: NetRow): Record<string, unknown> {
  const out: Record<string, unknown> = { id: row.id };
  for (const [k, v] of Object.entries(row.attrs)) {
    if (k.startsWith('_') || (!ctx.by.isAdmin && ADMIN_ONLY.has(k))) continue;
    out[k] = v;
  }
  Object.assign(out, OPS[row.kind as NetKind].computed?.(ctx, row));
  out.project_id = row.projectId;
  out.tenant_id = row.projectId;
  out.created_at = neutronTime(row.createdAt);
  out.updated_at = neutronTime(row.updatedAt);
  out.revision_number = row.version - 1;
  out.tags ??= [];
  return out;
}
