/**
 * Per-project quota limits (api-owned table `quotas`), over Nova's defaults. A missing row means
 * the default; -1 means unlimited. Usage is not stored: it is counted from the instances (conductor)
 * and key pairs when needed, as Nova counts it.
 */
import { Quota } from '../../../runtime/db/entities/index.js';
import type { Orm } from '../../../runtime/db/orm.js';

/** Nova's `[quota]` defaults (nova/conf/quota.py). */
export const QUOTA_DEFAULTS = {
  instances: 10,
  cores: 20,
  ram: 51_200,
  key_pairs: 100,
  metadata_items: 128,
  server_groups: 10,
  server_group_members: 10,
  injected_files: 5,
  injected_file_content_bytes: 10_240,
  injected_file_path_bytes: 255,
} as const;

export type QuotaResource = keyof typeof QUOTA_DEFAULTS;
export type QuotaLimits = Record<QuotaResource, number>;
export const QUOTA_RESOURCES = Object.keys(QUOTA_DEFAULTS) as QuotaResource[];

export function isQuotaResource(k: string): k is QuotaResource {
  return Object.hasOwn(QUOTA_DEFAULTS, k);
}

export class QuotaStore {
  constructor(
    private readonly orm: Orm,
    readonly defaults: QuotaLimits = { ...QUOTA_DEFAULTS },
  ) {}

  async limits(projectId: string): Promise<QuotaLimits> {
    const rows = await this.orm.em.fork().find(Quota, { projectId });
    const out = { ...this.defaults };
    for (const r of rows) if (isQuotaResource(r.resource)) out[r.resource] = r.hardLimit;
    return out;
  }

  async set(projectId: string, changes: Partial<QuotaLimits>): Promise<void> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    const knex = this.orm.em.getConnection().getKnex();
    await knex.raw(
      `insert into quotas (project_id, resource, hard_limit)
       select ?, d.resource, d.hard_limit from jsonb_to_recordset(?::jsonb) as d(resource text, hard_limit int)
       on conflict (project_id, resource) do update set hard_limit = excluded.hard_limit`,
      [projectId, JSON.stringify(entries.map(([resource, hard_limit]) => ({ resource, hard_limit })))],
    );
  }

  /** Back to the defaults (Nova's `DELETE /os-quota-sets/{project}`). */
  async reset(projectId: string): Promise<void> {
    await this.orm.em.fork().nativeDelete(Quota, { projectId });
  }
}

/** The largest count of `per`-sized requests that fit in `limit` given `used` (-1: unlimited). */
export function headroom(limit: number, used: number, per: number): number {
  if (limit < 0 || per === 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.floor((limit - used) / per));
}
