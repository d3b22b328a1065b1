/** Neutron's quota API: per-project overrides of the defaults, kept as `quota` rows keyed by project. */
import { badInput, forbiddenBy } from '../../protocols/network/errors.js';
import { countOf, QUOTA_RESOURCES, quotaOf, type NetCtx, type QuotaResource } from './net-context.js';

type QuotaBody = { action: string; id?: string | null; limits?: Record<string, number> | null };

const limitsOf = (ctx: NetCtx, project: string) => Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, quotaOf(ctx, project, r)]));

export function quotaVerb(ctx: NetCtx, b: QuotaBody): Record<string, unknown> {
  const project = b.id ?? ctx.by.projectId;
  const admin = ctx.by.isAdmin;
  if (b.action === 'list') {
    if (!admin) throw forbiddenBy('get_quota');
    return { quotas: [...ctx.state.of('quota').values()].map((q) => ({ ...limitsOf(ctx, q.id), project_id: q.id, tenant_id: q.id })) };
  }
  if (project !== ctx.by.projectId && !admin) throw forbiddenBy(b.action === 'set' || b.action === 'reset' ? 'update_quota' : 'get_quota');
  switch (b.action) {
    case 'default':
      return { quota: { ...ctx.config.quotas } };
    case 'get':
      return { quota: limitsOf(ctx, project) };
    case 'details':
      return {
        quota: Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, {
          limit: quotaOf(ctx, project, r), reserved: 0,
          used: r === 'rbac_policy' || r === 'subnetpool' ? 0 : countOf(ctx, r, project),
        }])),
      };
    case 'set': {
      if (!admin) throw forbiddenBy('update_quota');
      const limits = b.limits ?? {};
      for (const k of Object.keys(limits)) if (!(QUOTA_RESOURCES as readonly string[]).includes(k)) throw badInput(`Unrecognized attribute(s) '${k}'`);
      const row = ctx.state.get('quota', project);
      const attrs = { ...(row?.attrs ?? {}), ...(limits as Partial<Record<QuotaResource, number>>) };
      if (row) ctx.tx.update(row, attrs);
      else ctx.tx.put({ kind: 'quota', id: project, projectId: project, attrs, version: 1, createdAt: ctx.tx.now, updatedAt: ctx.tx.now });
      return { quota: limitsOf(ctx, project) };
    }
    case 'reset': {
      if (!admin) throw forbiddenBy('delete_quota');
      const row = ctx.state.get('quota', project);
      if (row) ctx.tx.del(row);
      return {};
    }
  }
  throw badInput(`unknown quota action ${b.action}`);
}
