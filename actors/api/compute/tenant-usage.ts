/**
 * `os-simple-tenant-usage`: what each project's servers used over a period (`start`, `end`; both
 * default to now, as in Nova), in hours and hours × vCPUs, MiB and GiB of disk. Admins list every
 * project (`GET /os-simple-tenant-usage`, per-server rows with `detailed=1`); a member asks for
 * their own (`GET /os-simple-tenant-usage/{project}`). A server counts from the later of its launch
 * and the start to the earlier of its termination and the end (Nova's `_hours_for`), deleted
 * servers included. From 2.40 both page by server (`limit`, `marker`, `…_links`).
 */
import type { FastifyRequest } from 'fastify';
import type { TenantUsageServer } from '../../../protocols/catalog/conductor.js';
import { isUuid } from '../../../protocols/validate.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden } from '../faults.js';
import { atLeast } from '../microversion.js';
import { admin, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { parseLimit } from './server-filters.js';
import { usageTime } from './server-views.js';

const HOUR_MS = 3_600_000;
/** Nova's accepted forms: `2012-10-08T21:14:41`, with microseconds, or with a space for the `T`. */
const WHEN = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,6})?$/;

function instant(v: string | undefined, now: number): number {
  if (v === undefined || v === '') return now;
  const m = WHEN.exec(v);
  const t = m ? Date.parse(`${m[1]}T${m[2]}${m[3] ? m[3].slice(0, 4) : ''}Z`) : NaN;
  if (!Number.isFinite(t)) throw badRequest('Datetime is in invalid format');
  return t;
}

function period(req: FastifyRequest): { start: number; end: number } {
  const p = query(req);
  const now = Date.now();
  const start = instant(one(p.start), now);
  const end = instant(one(p.end), now + 1);
  if (!(start < end)) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
  return { start, end };
}

const iso = (ms: number) => usageTime(new Date(ms).toISOString())!;

function serverUsage(s: TenantUsageServer, start: number, end: number, now: number) {
  const from = Math.max(s.launchedAt, start);
  const to = s.terminatedAt === null ? end : Math.min(s.terminatedAt, end);
  const hours = Math.max(0, to - from) / HOUR_MS;
  return {
    instance_id: s.uuid, name: s.name, hours, memory_mb: s.memoryMb, local_gb: s.localGb, vcpus: s.vcpus, tenant_id: s.projectId, flavor: s.flavorName,
    started_at: iso(s.launchedAt), ended_at: s.terminatedAt === null ? null : iso(s.terminatedAt),
    state: s.terminatedAt === null ? s.vmState : 'terminated',
    uptime: Math.floor(((s.terminatedAt ?? now) - s.launchedAt) / 1000),
  };
}

type ServerUsage = ReturnType<typeof serverUsage>;

function tenantTotals(tenantId: string, rows: ServerUsage[], start: number, end: number) {
  const sum = (f: (r: ServerUsage) => number) => rows.reduce((a, r) => a + f(r), 0);
  return {
    tenant_id: tenantId, total_local_gb_usage: sum((r) => r.local_gb * r.hours), total_vcpus_usage: sum((r) => r.vcpus * r.hours),
    total_memory_mb_usage: sum((r) => r.memory_mb * r.hours), total_hours: sum((r) => r.hours), start: iso(start), stop: iso(end),
  };
}

export function tenantUsageRoutes(d: ApiDeps): Route[] {
  /** One page of servers (2.40+: `limit`, `marker`), and the link to the next when it is full. */
  const page = async (req: FastifyRequest, projectId: string | undefined) => {
    const { start, end } = period(req);
    const p = query(req);
    const paged = atLeast(req.microversion, 40);
    const limit = paged ? parseLimit(one(p.limit)) : undefined;
    const marker = paged ? one(p.marker) : undefined;
    if (marker !== undefined && !isUuid(marker)) throw badRequest(`marker [${marker}] not found`);
    const servers: TenantUsageServer[] = [];
    let after = marker?.toLowerCase();
    // Without a limit every server of the period is read, a thousand at a time.
    for (;;) {
      const want = limit === undefined ? 1000 : Math.min(1000, limit - servers.length);
      if (want === 0) break;
      const r = await d.backend.tenantUsage({ start, end, ...(projectId ? { projectId } : {}), limit: want, ...(after ? { marker: after } : {}) });
      servers.push(...r.servers);
      if (!r.more || r.servers.length === 0) break;
      after = r.servers[r.servers.length - 1]!.uuid;
    }
    const now = Date.now();
    const rows = servers.map((s) => serverUsage(s, start, end, now));
    const last = servers[servers.length - 1];
    let next: { rel: string; href: string }[] | undefined;
    if (limit !== undefined && last && servers.length === limit) {
      // The same period and detail, from the last server of this page.
      const q = new URLSearchParams();
      for (const k of ['start', 'end', 'detailed']) if (one(p[k])) q.set(k, one(p[k])!);
      q.set('limit', String(limit));
      q.set('marker', last.uuid);
      next = [{ rel: 'next', href: `${d.links.compute}/os-simple-tenant-usage${projectId ? `/${projectId}` : ''}?${q}` }];
    }
    return { rows, start, end, next };
  };
  return [
    {
      method: 'GET', url: '/v2.1/os-simple-tenant-usage', policy: admin('os_compute_api:os-simple-tenant-usage:list'),
      handler: async (req) => {
        const { rows, start, end, next } = await page(req, undefined);
        const detailed = ['1', 'true', 'True'].includes(one(query(req).detailed) ?? '');
        const byTenant = new Map<string, ServerUsage[]>();
        for (const r of rows) byTenant.set(r.tenant_id, [...(byTenant.get(r.tenant_id) ?? []), r]);
        const tenant_usages = [...byTenant].map(([id, list]) => ({ ...tenantTotals(id, list, start, end), ...(detailed ? { server_usages: list } : {}) }));
        return { tenant_usages, ...(next ? { tenant_usages_links: next } : {}) };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-simple-tenant-usage/:project', policy: reader('os_compute_api:os-simple-tenant-usage:show'),
      handler: async (req) => {
        const auth = authOf(req);
        const project = param(req, 'project');
        if (!auth.isAdmin && project !== auth.projectId) throw forbidden("Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.");
        const { rows, start, end, next } = await page(req, project);
        // Nova answers an empty object for a project that used nothing in the period.
        const tenant_usage = rows.length === 0 ? {} : { ...tenantTotals(project, rows, start, end), server_usages: rows };
        return { tenant_usage, ...(next ? { tenant_usage_links: next } : {}) };
      },
    },
  ];
}
