/**
 * Writes the network state's changes through to PostgreSQL, many requests per transaction: the
 * changes of one batch are folded (the last word on each row and address wins) into four
 * statements. Rows are upserted only over an older version, so a stale write can never overwrite a
 * newer one; addresses are keyed by (subnet, address), which no two ports can both hold.
 */
import { Batcher } from '../../runtime/batcher.js';
import type { Orm } from '../../runtime/db/orm.js';
import { allocKey, type Allocation, type Change, type NetRow } from './net-state.js';

export class NetWriter {
  private readonly batcher: Batcher<Change, void>;

  constructor(private readonly orm: Orm) {
    this.batcher = new Batcher((items) => this.write(items), { maxSize: 512, maxInFlight: 1 });
  }

  persist(c: Change): Promise<void> {
    return this.batcher.add(c);
  }

  get stats(): { batches: number; items: number } {
    return { batches: this.batcher.batches, items: this.batcher.items };
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private async write(items: Change[]): Promise<void[]> {
    const rows = new Map<string, NetRow | null>();
    const allocs = new Map<string, Allocation | null>();
    const freed = new Map<string, Allocation>();
    for (const c of items) {
      for (const r of c.put) rows.set(r.id, r);
      for (const r of c.del) rows.set(r.id, null);
      for (const a of c.free) {
        allocs.set(allocKey(a.subnetId, a.ip), null);
        freed.set(allocKey(a.subnetId, a.ip), a);
      }
      for (const a of c.take) allocs.set(allocKey(a.subnetId, a.ip), a);
    }
    const puts = [...rows.values()].filter((r): r is NetRow => r !== null);
    const dels = [...rows].filter(([, r]) => r === null).map(([id]) => id);
    const takes = [...allocs.values()].filter((a): a is Allocation => a !== null);
    const frees = [...allocs].filter(([, a]) => a === null).map(([k]) => freed.get(k)!);
    const knex = this.orm.em.getConnection().getKnex();
    await knex.transaction(async (trx) => {
      if (frees.length > 0) {
        await trx.raw(`delete from ip_allocations a using jsonb_to_recordset(?::jsonb) as d(subnet_id uuid, ip_address text)
          where a.subnet_id = d.subnet_id and a.ip_address = d.ip_address`, [JSON.stringify(frees.map((a) => ({ subnet_id: a.subnetId, ip_address: a.ip })))]);
      }
      if (dels.length > 0) await trx.raw('delete from net_resources where id = any(?::text[])', [dels]);
      if (puts.length > 0) {
        await trx.raw(`insert into net_resources (kind, id, project_id, attrs, version, created_at, updated_at)
          select d.kind, d.id, d.project_id, d.attrs, d.version, d.created_at, d.updated_at
          from jsonb_to_recordset(?::jsonb) as d(kind text, id text, project_id text, attrs jsonb, version int, created_at timestamptz, updated_at timestamptz)
          on conflict (id) do update set attrs = excluded.attrs, project_id = excluded.project_id, version = excluded.version, updated_at = excluded.updated_at
          where net_resources.version < excluded.version`,
        [JSON.stringify(puts.map((r) => ({ kind: r.kind, id: r.id, project_id: r.projectId, attrs: r.attrs, version: r.version, created_at: r.createdAt.toISOString(), updated_at: r.updatedAt.toISOString() })))]);
      }
      if (takes.length > 0) {
        await trx.raw(`insert into ip_allocations (subnet_id, ip_address, port_id, network_id)
          select d.subnet_id, d.ip_address, d.port_id, d.network_id from jsonb_to_recordset(?::jsonb) as d(subnet_id uuid, ip_address text, port_id text, network_id uuid)
          on conflict (subnet_id, ip_address) do update set port_id = excluded.port_id, network_id = excluded.network_id`,
        [JSON.stringify(takes.map((a) => ({ subnet_id: a.subnetId, ip_address: a.ip, port_id: a.portId, network_id: a.networkId })))]);
      }
    });
    return items.map(() => undefined);
  }
}

/** Everything the role keeps, read once at start (and after a failed write). */
export async function loadAll(orm: Orm): Promise<{ rows: NetRow[]; allocations: Allocation[] }> {
  const knex = orm.em.getConnection().getKnex();
  const rows = await knex.raw('select kind, id, project_id, attrs, version, created_at, updated_at from net_resources');
  const allocs = await knex.raw('select subnet_id, ip_address, port_id, network_id from ip_allocations');
  return {
    rows: (rows.rows as Record<string, unknown>[]).map((r) => ({
      kind: r.kind as NetRow['kind'], id: r.id as string, projectId: r.project_id as string, attrs: r.attrs as Record<string, unknown>,
      version: r.version as number, createdAt: new Date(r.created_at as string), updatedAt: new Date(r.updated_at as string),
    })),
    allocations: (allocs.rows as Record<string, string>[]).map((a) => ({ subnetId: a.subnet_id!, ip: a.ip_address!, portId: a.port_id!, networkId: a.network_id! })),
  };
}
