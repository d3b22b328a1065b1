/**
 * Migration records over REST (nova/api/openstack/compute/migrations.py, server_migrations.py):
 * `GET /os-migrations` (admin; `migration_type` and links from 2.23, `uuid` and paging from 2.59,
 * `changes-before` 2.66, `user_id`/`project_id` 2.80), and from 2.23 a server's in-progress live
 * migrations, `GET /servers/{id}/migrations[/{mid}]`. force-complete and abort belong to the live
 * migration flow and are not routed here.
 */
import type { MigrationListRequest, MigrationView } from '../../../protocols/catalog/migrations.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import { atLeast } from '../microversion.js';
import { admin } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { parseLimit } from './server-filters.js';
import { visibleServer } from './server-lookup.js';

/** Nova prints these as naive datetimes with microseconds. */
const naive = (iso: string) => iso.replace(/\.(\d{3})Z$/, '.$1000');
const IN_PROGRESS = new Set(['queued', 'preparing', 'running', 'post-migrating']);
const MIGRATION_TYPES = new Set(['migration', 'resize', 'live-migration', 'evacuation']);

function timeParam(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = new Date(v).getTime();
  if (Number.isNaN(t)) throw badRequest(`Invalid input for query parameters ${name}. Value: ${v}. '${v}' is not a 'date-time'`);
  return t;
}

function osMigration(d: ApiDeps, m: MigrationView, mv: Parameters<typeof atLeast>[0]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: naive(m.createdAt), dest_compute: m.destCompute, dest_host: null, dest_node: m.destNode, id: m.id,
    instance_uuid: m.instanceUuid, new_instance_type_id: m.newInstanceTypeId, old_instance_type_id: m.oldInstanceTypeId,
    source_compute: m.sourceCompute, source_node: m.sourceNode, status: m.status, updated_at: naive(m.updatedAt),
  };
  if (atLeast(mv, 23)) {
    out.migration_type = m.migrationType;
    // Nova links an in-progress live migration to its server-migrations resource.
    if (m.migrationType === 'live-migration' && IN_PROGRESS.has(m.status)) {
      const href = `${d.links.compute}/servers/${m.instanceUuid}/migrations/${m.id}`;
      out.links = [{ rel: 'self', href }, { rel: 'bookmark', href }];
    }
  }
  if (atLeast(mv, 59)) out.uuid = m.uuid;
  if (atLeast(mv, 80)) Object.assign(out, { user_id: m.userId, project_id: m.projectId });
  return out;
}

function serverMigration(m: MigrationView, mv: Parameters<typeof atLeast>[0]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: naive(m.createdAt), dest_compute: m.destCompute, dest_host: null, dest_node: m.destNode,
    disk_processed_bytes: m.diskProcessed, disk_remaining_bytes: m.diskRemaining, disk_total_bytes: m.diskTotal, id: m.id,
    memory_processed_bytes: m.memoryProcessed, memory_remaining_bytes: m.memoryRemaining, memory_total_bytes: m.memoryTotal,
    server_uuid: m.instanceUuid, source_compute: m.sourceCompute, source_node: m.sourceNode, status: m.status, updated_at: naive(m.updatedAt),
  };
  if (atLeast(mv, 59)) out.uuid = m.uuid;
  if (atLeast(mv, 80)) Object.assign(out, { user_id: m.userId, project_id: m.projectId });
  return out;
}

/** A server's migration id: Nova's integer id (a uuid is not accepted in the path). */
function migrationId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw badRequest(`Invalid migration id ${raw}.`);
  return Number(raw);
}

export function migrationRoutes(d: ApiDeps): Route[] {
  return [
    {
      method: 'GET', url: '/v2.1/os-migrations', policy: admin('os_compute_api:os-migrations:index'),
      handler: async (req) => {
        const p = query(req);
        const mv = req.microversion;
        const q: MigrationListRequest = {};
        const host = one(p.host);
        if (host !== undefined) q.host = host;
        const status = one(p.status);
        if (status !== undefined) q.status = status;
        const instance = one(p.instance_uuid);
        if (instance !== undefined) q.instanceUuid = instance;
        const type = one(p.migration_type);
        if (type !== undefined) {
          if (!MIGRATION_TYPES.has(type)) return { migrations: [] };
          q.migrationType = type as NonNullable<MigrationListRequest['migrationType']>;
        }
        const since = timeParam('changes-since', one(p['changes-since']));
        if (since !== undefined && atLeast(mv, 59)) q.changesSince = since;
        let limit: number | undefined;
        if (atLeast(mv, 59)) {
          limit = parseLimit(one(p.limit));
          if (limit !== undefined) q.limit = limit;
          const marker = one(p.marker);
          if (marker !== undefined) q.marker = marker;
        }
        if (atLeast(mv, 66)) {
          const before = timeParam('changes-before', one(p['changes-before']));
          if (before !== undefined) q.changesBefore = before;
        }
        if (atLeast(mv, 80)) {
          const user = one(p.user_id);
          if (user !== undefined) q.userId = user;
          const project = one(p.project_id);
          if (project !== undefined) q.projectId = project;
        }
        const r = await d.backend.migrations(q);
        const out: Record<string, unknown> = { migrations: r.migrations.map((m) => osMigration(d, m, mv)) };
        const last = r.migrations[r.migrations.length - 1];
        if (atLeast(mv, 59) && last && (r.more || (limit !== undefined && r.migrations.length >= limit))) {
          const qs = new URLSearchParams({ ...(limit !== undefined ? { limit: String(limit) } : {}), marker: last.uuid });
          out.migrations_links = [{ rel: 'next', href: `${d.links.compute}/os-migrations?${qs}` }];
        }
        return out;
      },
    },
    {
      method: 'GET', url: '/v2.1/servers/:id/migrations', policy: admin('os_compute_api:servers:migrations:index'),
      handler: async (req) => {
        if (!atLeast(req.microversion, 23)) throw notFound(); // the resource exists from 2.23
        const s = await visibleServer(d.backend, authOf(req), param(req, 'id'));
        const r = await d.backend.migrations({ instanceUuid: s.id, migrationType: 'live-migration', inProgress: true });
        return { migrations: r.migrations.map((m) => serverMigration(m, req.microversion)) };
      },
    },
    {
      method: 'GET', url: '/v2.1/servers/:id/migrations/:mid', policy: admin('os_compute_api:servers:migrations:show'),
      handler: async (req) => {
        if (!atLeast(req.microversion, 23)) throw notFound(); // the resource exists from 2.23
        const s = await visibleServer(d.backend, authOf(req), param(req, 'id'));
        const id = migrationId(param(req, 'mid'));
        const m = await d.backend.migration(id, s.id).catch((err: { code?: number }) => {
          if (err.code === 404) throw notFound(`Migration ${id} for server ${s.id} could not be found.`);
          throw err;
        });
        if (m.migrationType !== 'live-migration' || !IN_PROGRESS.has(m.status)) throw notFound(`Migration ${id} for server ${s.id} is not in progress.`);
        return { migration: serverMigration(m, req.microversion) };
      },
    },
  ];
}
