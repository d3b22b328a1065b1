/**
 * `conductor.tenant-usage`: the instances whose running time overlaps a period, for Nova's
 * os-simple-tenant-usage. Deleted instances count for the time they ran (their rows are kept with
 * `terminated_at`); one read on the read pool, a page at a time in uuid order.
 */
import type { TenantUsageServer } from '../../protocols/catalog/conductor.js';
import { fieldsOf, int, optStr } from '../../protocols/validate.js';
import type { Orm } from '../../runtime/db/orm.js';

const PAGE = 1000;

export async function tenantUsage(orm: Orm, body: Record<string, unknown>): Promise<{ servers: TenantUsageServer[]; more: boolean }> {
  const o = fieldsOf(body, ['start', 'end', 'projectId', 'limit', 'marker'], 'tenant usage');
  const start = new Date(int(o, 'start', { max: 8.64e15 }));
  const end = new Date(int(o, 'end', { max: 8.64e15 }));
  const projectId = optStr(o, 'projectId', { max: 64 });
  const marker = optStr(o, 'marker', { max: 36 });
  const limit = o.limit === undefined || o.limit === null ? PAGE : int(o, 'limit', { min: 1, max: PAGE });
  const where = ['launched_at is not null', 'launched_at < ?', '(terminated_at is null or terminated_at > ?)'];
  const args: unknown[] = [end.toISOString(), start.toISOString()];
  if (projectId !== undefined) {
    where.push('project_id = ?');
    args.push(projectId);
  }
  if (marker !== undefined) {
    where.push('uuid > ?');
    args.push(marker);
  }
  const rows = (await orm.em.getConnection().execute(
    `select uuid, name, project_id, flavor_name, vcpus, memory_mb, root_gb + ephemeral_gb as local_gb, vm_state, launched_at, terminated_at
     from instances where ${where.join(' and ')} order by uuid limit ?`,
    [...args, limit + 1],
  )) as { uuid: string; name: string; project_id: string; flavor_name: string; vcpus: number; memory_mb: number; local_gb: number; vm_state: string; launched_at: Date; terminated_at: Date | null }[];
  return {
    servers: rows.slice(0, limit).map((r) => ({
      uuid: r.uuid, name: r.name, projectId: r.project_id, flavorName: r.flavor_name, vcpus: r.vcpus, memoryMb: r.memory_mb, localGb: Number(r.local_gb),
      vmState: r.vm_state, launchedAt: new Date(r.launched_at).getTime(), terminatedAt: r.terminated_at ? new Date(r.terminated_at).getTime() : null,
    })),
    more: rows.length > limit,
  };
}
