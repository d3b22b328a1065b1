/**
 * Compute hosts by state from their records, in one aggregate (`novact status` at 10,000 hosts
 * must not page through them): up (heard since `heardAfter`, not forced down), down, disabled by an
 * operator, forced down.
 */
import type { Orm } from '../../runtime/db/orm.js';

export interface HostSummary {
  total: number;
  up: number;
  down: number;
  disabled: number;
  forcedDown: number;
}

export async function hostSummary(orm: Orm, heardAfter: number): Promise<HostSummary> {
  const res = await orm.em.getConnection().getKnex().raw(
    `select count(*)::int as total,
       count(*) filter (where not forced_down and last_seen_at >= ?)::int as up,
       count(*) filter (where disabled)::int as disabled,
       count(*) filter (where forced_down)::int as forced_down
     from compute_nodes`,
    [new Date(heardAfter).toISOString()],
  );
  const r = (res.rows as { total: number; up: number; disabled: number; forced_down: number }[])[0]!;
  return { total: r.total, up: r.up, down: r.total - r.up, disabled: r.disabled, forcedDown: r.forced_down };
}
