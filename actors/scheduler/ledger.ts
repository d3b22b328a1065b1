/**
 * The placement ledger in PostgreSQL. A claim is atomic and cannot overcommit, even with several
 * scheduler replicas racing: inventory rows are locked in a fixed order, `used` is raised by a
 * conditional UPDATE that re-checks capacity on the locked row, and the allocation rows are written
 * in the same transaction. Claims are batched: one transaction serves every claim of a batch.
 *
 * Batched rows travel as one JSON parameter (`jsonb_to_recordset`), since the query builder would
 * expand JS arrays into value lists. Lookups by a batch's keys say `= any(array(select …))`: that is
 * an index condition whatever the planner's estimates, where `in (select …)` or a bare join to the
 * JSON rows (estimated at 100) made it read the whole inventory table on every claim batch while
 * its statistics lagged behind the fleet (measured: 5–9 ms per statement at 10k hosts, 0.4 ms after).
 */
import type { Knex } from '@mikro-orm/postgresql';
import type { Orm } from '../../runtime/db/orm.js';
import { RESOURCE_CLASSES, type Inventory, type ResourceClass, type Resources } from '../../protocols/resources.js';
import { byConsumer, claimIn, releaseIn, zero, type AllocationRecord } from './ledger-tx.js';
import type { Claim, ClaimResult, Released } from './ledger-types.js';

export type { Claim, ClaimResult, Released };
import { moveIn, moveOrRefuse, revertIn, type MoveClaim, type MoveResult, type Reverted } from './ledger-moves.js';

export type { MoveClaim, MoveResult, Reverted } from './ledger-moves.js';

export interface ProviderSnapshot {
  provider: string;
  inventory: Partial<Record<ResourceClass, Inventory>>;
  used: Resources;
  consumers: number;
}

const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

export interface LedgerOptions {
  /**
   * The `server_group_members` quota of a project without its own `quotas` row, enforced at the
   * commit of a member's claim (Nova's default 10; -1: unlimited).
   */
  groupMembersDefault?: number;
}

export class PlacementLedger {
  private readonly groupMembersDefault: number;
  constructor(readonly orm: Orm, opts: LedgerOptions = {}) {
    this.groupMembersDefault = opts.groupMembersDefault ?? 10;
  }

  private get knex(): Knex {
    return this.orm.em.getConnection().getKnex();
  }

  /** Creates or updates a provider's inventory, keeping what is already allocated. */
  setInventory(provider: string, inventory: Record<ResourceClass, Inventory>): Promise<void> {
    return this.setInventories([{ provider, inventory }]);
  }

  /** Many providers' inventories in one transaction (10,000 hosts reporting at start-up). */
  async setInventories(items: { provider: string; inventory: Record<ResourceClass, Inventory> }[]): Promise<void> {
    if (items.length === 0) return;
    // The latest inventory per provider wins (an upsert may not touch one row twice).
    const latest = new Map(items.map((i) => [i.provider, i.inventory]));
    const providers = JSON.stringify([...latest.keys()]);
    const rows = [...latest].flatMap(([provider, inventory]) => RESOURCE_CLASSES.map((rc) => ({ p: provider, rc, ...inventory[rc] })));
    await this.knex.transaction(async (trx) => {
      await trx.raw(
        `insert into resource_providers (name, generation, created_at)
         select p, 0, now() from jsonb_array_elements_text(?::jsonb) as p on conflict (name) do nothing`,
        [providers],
      );
      await trx.raw(
        `insert into inventories (provider, resource_class, total, reserved, min_unit, max_unit, step_size, allocation_ratio, used)
         select d.p, d.rc, d."total", d."reserved", d."minUnit", d."maxUnit", d."stepSize", d."allocationRatio", 0
         from jsonb_to_recordset(?::jsonb) as d(p text, rc text, "total" int, "reserved" int, "minUnit" int, "maxUnit" int, "stepSize" int, "allocationRatio" float8)
         on conflict (provider, resource_class) do update set
           total = excluded.total, reserved = excluded.reserved, min_unit = excluded.min_unit,
           max_unit = excluded.max_unit, step_size = excluded.step_size, allocation_ratio = excluded.allocation_ratio`,
        [JSON.stringify(rows)],
      );
      await trx.raw(`update resource_providers set generation = generation + 1 where name = any(array(select jsonb_array_elements_text(?::jsonb)))`, [providers]);
    });
  }

  /** Every provider with its inventory and usage: the scheduler's cache is warmed from this once. */
  async snapshot(): Promise<ProviderSnapshot[]> {
    const inv = await this.knex.raw(
      `select provider, resource_class, total, reserved, min_unit, max_unit, step_size, allocation_ratio, used from inventories`,
    );
    const counts = await this.knex.raw(`select provider, count(distinct consumer)::int as n from allocations group by provider`);
    const byProvider = new Map<string, ProviderSnapshot>();
    for (const r of inv.rows as any[]) {
      let s = byProvider.get(r.provider);
      if (!s) {
        s = { provider: r.provider, inventory: {}, used: zero(), consumers: 0 };
        byProvider.set(r.provider, s);
      }
      const rc = r.resource_class as ResourceClass;
      s.inventory[rc] = {
        total: r.total, reserved: r.reserved, minUnit: r.min_unit, maxUnit: r.max_unit,
        stepSize: r.step_size, allocationRatio: Number(r.allocation_ratio),
      };
      s.used[rc] = r.used;
    }
    for (const r of counts.rows as any[]) {
      const s = byProvider.get(r.provider);
      if (s) s.consumers = r.n;
    }
    return [...byProvider.values()];
  }

  /**
   * Claims a batch. A consumer that already holds allocations has them replaced (moving a build to an
   * alternate host, or repeating a claim after a crash, is the same call). Results are in input order.
   */
  async claimBatch(claims: Claim[]): Promise<ClaimResult[]> {
    if (claims.length === 0) return [];
    return this.retrying(() => this.knex.transaction((trx) => claimIn(trx, claims, this.groupMembersDefault)));
  }

  /**
   * Starts (or, in `replace` mode, re-targets) a move in one transaction: the instance's allocation
   * goes to the migration consumer, the destination is claimed for the instance. Refused: nothing
   * changed. Idempotent on the migration uuid.
   */
  async move(m: MoveClaim): Promise<MoveResult> {
    return this.retrying(() => moveOrRefuse(() => this.knex.transaction((trx) => moveIn(trx, m, this.groupMembersDefault))));
  }

  /** Confirms a move: the migration consumer's (source) allocation is freed. Idempotent. */
  async confirmMove(migration: string): Promise<Released | null> {
    return (await this.release([migration]))[0] ?? null;
  }

  /** Reverts a move in one transaction: the destination is freed and the source given back to the instance. Idempotent. */
  async revertMove(instance: string, migration: string): Promise<Reverted> {
    return this.retrying(() => this.knex.transaction((trx) => revertIn(trx, instance, migration)));
  }

  /** Drops every allocation (and group membership) of the given consumers; returns what was freed. Idempotent. */
  async release(consumers: string[]): Promise<Released[]> {
    if (consumers.length === 0) return [];
    return this.retrying(() => this.knex.transaction((trx) => releaseIn(trx, consumers, true)));
  }

  /** Hosts an operator disabled or forced down (compute-node records, written by the conductor). */
  async disabledHosts(): Promise<string[]> {
    const res = await this.knex.raw(`select host from compute_nodes where disabled or forced_down`);
    return (res.rows as { host: string }[]).map((r) => r.host);
  }

  /**
   * Removes a provider and its inventories (its compute service was deleted), unless something is
   * still allocated on it: false then, and nothing changes. One transaction, the provider row locked,
   * so a claim cannot slip in between the check and the delete.
   */
  async removeProvider(provider: string): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      await trx.raw(`select name from resource_providers where name = ? for update`, [provider]);
      await trx.raw(`select provider from inventories where provider = ? for update`, [provider]);
      const held = await trx.raw(`select 1 from allocations where provider = ? limit 1`, [provider]);
      if ((held.rows as unknown[]).length > 0) return false;
      await trx.raw(`delete from inventories where provider = ?`, [provider]);
      await trx.raw(`delete from resource_providers where name = ?`, [provider]);
      return true;
    });
  }

  /** Every allocation, grouped per consumer (the scheduler's consumer map is warmed from this). */
  async allocations(): Promise<{ consumer: string; provider: string; resources: Resources }[]> {
    const res = await this.knex.raw(`select consumer, provider, resource_class, used from allocations`);
    return byConsumer(res.rows as AllocationRecord[]);
  }

  /** Total usage per resource class over all providers (tests and the capacity invariant). */
  async totals(): Promise<Resources & { allocations: Resources }> {
    const inv = await this.knex.raw(`select resource_class, sum(used)::int as used from inventories group by resource_class`);
    const alloc = await this.knex.raw(`select resource_class, sum(used)::int as used from allocations group by resource_class`);
    const out = { ...zero(), allocations: zero() };
    for (const r of inv.rows as any[]) out[r.resource_class as ResourceClass] = r.used;
    for (const r of alloc.rows as any[]) out.allocations[r.resource_class as ResourceClass] = r.used;
    return out;
  }

  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 4 || !code || !RETRYABLE_SQLSTATES.has(code)) throw err;
      }
    }
  }
}
