/**
 * `conductor.usage`: what a project's live instances hold (Nova counts instances, cores and RAM
 * from the instance records for quotas and `/limits`). Every instance not yet deleted counts,
 * whatever its state, as in Nova.
 */
import { fieldsOf, str } from '../../protocols/validate.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { ProjectUsage } from '../../protocols/conductor-replies.js';

export async function projectUsage(orm: Orm, body: Record<string, unknown>): Promise<ProjectUsage> {
  const projectId = str(fieldsOf(body, ['projectId'], 'usage'), 'projectId', { max: 64 });
  const knex = orm.em.getConnection().getKnex();
  const res = await knex.raw(
    `select count(*)::int as instances, coalesce(sum(vcpus), 0)::int as cores, coalesce(sum(memory_mb), 0)::bigint as ram
     from instances where project_id = ? and deleted_at is null`,
    [projectId],
  );
  const r = (res.rows as { instances: number; cores: number; ram: string }[])[0]!;
  return { instances: r.instances, cores: r.cores, ram: Number(r.ram) };
}
