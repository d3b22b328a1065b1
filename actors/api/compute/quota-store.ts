/**
 * Per-project quota limits (api-owned table `quotas`) over the `default` quota class (table
 * `quota_classes`) over the configured defaults, as Nova layers them. A missing row means the layer
 * below; -1 means unlimited. Usage is not stored: it is counted from the instances (conductor) and
 * key pairs when needed, as Nova counts it.
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

/** The one quota class whose limits apply to projects (Nova's rule). */
export const DEFAULT_CLASS = 'default';

/** `base` with each row's limit laid over it, in order (later rows win); unknown resources ignored. */
function overlay(base: QuotaLimits, rows: { resource: string; hard_limit: number }[]): QuotaLimits {
  const out = { ...base };
  for (const r of rows) if (isQuotaResource(r.resource)) out[r.resource] = r.hard_limit;
  return out;
}

export class QuotaStore {
  constructor(
    private readonly orm: Orm,
    readonly defaults: QuotaLimits = { ...QUOTA_DEFAULTS },
  ) {}

  /** A project's limits: one query reads its own rows and the `default` class's. */
  async limits(projectId: string): Promise<QuotaLimits> {
    const rows = (await this.orm.em.getConnection().execute(
      `select 0 as layer, resource, hard_limit from quota_classes where class_name = ?
       union all select 1, resource, hard_limit from quotas where project_id = ? order by 1`,
      [DEFAULT_CLASS, projectId],
    )) as { resource: string; hard_limit: number }[];
    return overlay(this.defaults, rows);
  }

  /** A quota class's limits over the configured defaults (only `default` applies to projects, as in Nova). */
  async classLimits(name: string): Promise<QuotaLimits> {
    const rows = (await this.orm.em.getConnection().execute('select resource, hard_limit from quota_classes where class_name = ?', [name])) as { resource: string; hard_limit: number }[];
    return overlay(this.defaults, rows);
  }

  /** What a project without limits of its own gets: the `default` class over the configuration. */
  defaultLimits(): Promise<QuotaLimits> {
    return this.classLimits(DEFAULT_CLASS);
  }

  async setClass(name: string, changes: Partial<QuotaLimits>): Promise<void> {
    await this.upsert('quota_classes', 'class_name', name, changes);
  }

  async set(projectId: string, changes: Partial<QuotaLimits>): Promise<void> {
    await this.upsert('quotas', 'project_id', projectId, changes);
  }

  private async upsert(table: 'quotas' | 'quota_classes', key: 'project_id' | 'class_name', owner: string, changes: Partial<QuotaLimits>): Promise<void> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    await this.orm.em.getConnection().execute(
      `insert into ${table} (${key}, resource, hard_limit)
       select ?, d.resource, d.hard_limit from jsonb_to_recordset(?::jsonb) as d(resource text, hard_limit int)
       on conflict (${key}, resource) do update set hard_limit = excluded.hard_limit`,
      [owner, JSON.stringify(entries.map(([resource, hard_limit]) => ({ resource, hard_limit })))],
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
