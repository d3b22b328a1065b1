/**
 * What a ledger transaction does, statement by statement: claims (lock the providers in a fixed
 * order, raise `used` where it fits, write the allocations; first claim per consumer wins) and
 * releases. `PlacementLedger` (ledger.ts) opens the transactions, batches and retries them.
 */
import type { Knex } from '@mikro-orm/postgresql';
import { RESOURCE_CLASSES, type ResourceClass, type Resources } from '../../protocols/resources.js';
import type { Claim, ClaimResult, Released } from './ledger-types.js';
import { enforceGroups, memberLimits } from './ledger-groups.js';

interface Demand {
  p: string;
  rc: string;
  amount: number;
}

function demandsOf(c: Claim): Demand[] {
  return RESOURCE_CLASSES.filter((rc) => c.resources[rc] > 0).map((rc) => ({ p: c.provider, rc, amount: c.resources[rc] }));
}

interface AllocationRow {
  consumer: string;
  provider: string;
  rc: string;
  used: number;
  project: string;
}

function allocationRows(c: Claim): AllocationRow[] {
  return demandsOf(c).map((d) => ({ consumer: c.consumer, provider: c.provider, rc: d.rc, used: d.amount, project: c.projectId }));
}

export function zero(): Resources {
  return { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 };
}

async function lockProviders(trx: Knex.Transaction, providers: string[]): Promise<void> {
  // A fixed lock order keeps concurrent batches (and releases) from deadlocking each other.
  await trx.raw(
    `select 1 from inventories where provider = any(array(select jsonb_array_elements_text(?::jsonb)))
     order by provider, resource_class for update`,
    [JSON.stringify([...new Set(providers)].sort())],
  );
}

export async function releaseIn(trx: Knex.Transaction, consumers: string[], leaveGroups = false): Promise<Released[]> {
  if (leaveGroups) {
    await trx.raw(`delete from server_group_members where instance_uuid = any(array(select jsonb_array_elements_text(?::jsonb)::uuid))`, [
      JSON.stringify(consumers),
    ]);
  }
  const held = await trx.raw(
    `select distinct provider from allocations where consumer = any(array(select jsonb_array_elements_text(?::jsonb)::uuid))`,
    [JSON.stringify(consumers)],
  );
  const providers = (held.rows as { provider: string }[]).map((r) => r.provider);
  if (providers.length === 0) return [];
  await lockProviders(trx, providers);
  const res = await trx.raw(
    `with del as (
       delete from allocations where consumer = any(array(select jsonb_array_elements_text(?::jsonb)::uuid))
       returning consumer, provider, resource_class, used),
     agg as (select provider, resource_class, sum(used)::int as amount from del group by provider, resource_class),
     upd as (update inventories i set used = i.used - agg.amount from agg
             where i.provider = agg.provider and i.resource_class = agg.resource_class returning 1)
     select consumer, provider, resource_class, used, (select count(*) from upd) as n from del`,
    [JSON.stringify(consumers)],
  );
  return byConsumer(res.rows as AllocationRecord[]);
}

/** One allocation row per resource class, as PostgreSQL returns them. */
export interface AllocationRecord {
  consumer: string;
  provider: string;
  resource_class: string;
  used: number;
}

/** Allocation rows grouped into one entry per consumer. */
export function byConsumer(rows: AllocationRecord[]): Released[] {
  const out = new Map<string, Released>();
  for (const r of rows) {
    let a = out.get(r.consumer);
    if (!a) {
      a = { consumer: r.consumer, provider: r.provider, resources: zero() };
      out.set(r.consumer, a);
    }
    a.resources[r.resource_class as ResourceClass] = r.used;
  }
  return [...out.values()];
}

/** `groupMembersDefault`: the `server_group_members` quota of a project without its own row (-1: unlimited). */
export async function claimIn(trx: Knex.Transaction, all: Claim[], groupMembersDefault = -1): Promise<ClaimResult[]> {
  const results: ClaimResult[] = new Array(all.length);
  const moves = all.filter((c) => c.move);
  if (moves.length > 0) await releaseIn(trx, moves.map((c) => c.consumer));
  // First claim wins: a consumer that already holds an allocation keeps it.
  const held = await holders(trx, all.filter((c) => !c.move).map((c) => c.consumer));
  const seen = new Set<string>();
  const claims: Claim[] = [];
  const index: number[] = [];
  all.forEach((c, i) => {
    const at = c.move ? undefined : held.get(c.consumer);
    if (at !== undefined) results[i] = { ok: false, used: {}, held: at };
    else if (seen.has(c.consumer)) results[i] = { ok: false, used: {} };
    else {
      seen.add(c.consumer);
      claims.push(c);
      index.push(i);
    }
  });
  if (claims.length === 0) return results;
  await lockProviders(trx, claims.map((c) => c.provider));

  // Fast path: every provider's summed demand fits.
  const sums = new Map<string, Demand>();
  for (const c of claims) {
    for (const d of demandsOf(c)) {
      const k = `${d.p}\u0000${d.rc}`;
      const s = sums.get(k);
      if (s) s.amount += d.amount;
      else sums.set(k, { ...d });
    }
  }
  // One statement raises every summed demand that fits and writes the allocations of the claims
  // whose provider took all of its demands; the rest is undone and retried claim by claim below.
  const fast = await raiseAndAllocate(trx, [...sums.values()], claims.flatMap(allocationRows));
  const failedProviders = new Set<string>();
  for (const [k, d] of sums) if (!fast.raised.has(k)) failedProviders.add(d.p);
  const undo = [...sums.entries()].filter(([k, d]) => failedProviders.has(d.p) && fast.raised.has(k)).map(([, d]) => d);
  await lower(trx, undo);

  const granted: Claim[] = [];
  const grantedSlowly: Claim[] = [];
  for (let j = 0; j < claims.length; j++) {
    const c = claims[j]!;
    if (!failedProviders.has(c.provider)) {
      results[index[j]!] = { ok: true };
      granted.push(c);
      continue;
    }
    const demands = demandsOf(c);
    const got = await raise(trx, demands);
    if (got.size === demands.length) {
      results[index[j]!] = { ok: true };
      granted.push(c);
      grantedSlowly.push(c);
    } else {
      await lower(trx, demands.filter((d) => got.has(`${d.p}\u0000${d.rc}`)));
      results[index[j]!] = { ok: false, used: await usedOf(trx, c.provider) };
    }
  }
  const inserted = fast.inserted;
  if (grantedSlowly.length > 0) {
    // A concurrent transaction (another replica) may have claimed the same consumer first.
    const res = await trx.raw(
      `insert into allocations (consumer, provider, resource_class, used, project_id, created_at)
       select d.consumer::uuid, d.provider, d.rc, d.used, d.project, now()
       from jsonb_to_recordset(?::jsonb) as d(consumer text, provider text, rc text, used int, project text)
       on conflict do nothing returning consumer`,
      [JSON.stringify(grantedSlowly.flatMap(allocationRows))],
    );
    for (const r of res.rows as { consumer: string }[]) inserted.add(r.consumer);
  }
  const lostRace = granted.filter((c) => !inserted.has(c.consumer));
  if (lostRace.length > 0) {
    await lower(trx, summed(lostRace.flatMap(demandsOf)));
    const now = await holders(trx, lostRace.map((c) => c.consumer));
    for (const c of lostRace) results[index[claims.indexOf(c)]!] = { ok: false, used: {}, held: now.get(c.consumer) ?? c.provider };
  }
  // Group rules at the commit: a member the group cannot take gives its capacity back here.
  const grouped = granted.filter((c) => c.group !== undefined && inserted.has(c.consumer));
  if (grouped.length > 0) {
    const limits = await memberLimits(trx, grouped.map((c) => c.projectId), groupMembersDefault);
    const refused = await enforceGroups(trx, grouped, limits);
    const out = grouped.filter((c) => refused.has(c.consumer));
    if (out.length > 0) {
      await trx.raw(`delete from allocations where consumer = any(array(select jsonb_array_elements_text(?::jsonb)::uuid))`, [JSON.stringify(out.map((c) => c.consumer))]);
      await lower(trx, summed(out.flatMap(demandsOf)));
      for (const c of out) {
        inserted.delete(c.consumer);
        results[index[claims.indexOf(c)]!] = { ok: false, used: {}, group: refused.get(c.consumer)! };
      }
    }
  }
  const joins = granted.filter((c) => c.group !== undefined && inserted.has(c.consumer)).map((c) => ({ g: c.group, i: c.consumer }));
  if (joins.length > 0) {
    await trx.raw(
      `insert into server_group_members (group_uuid, instance_uuid)
       select d.g::uuid, d.i::uuid from jsonb_to_recordset(?::jsonb) as d(g text, i text)
       where exists (select 1 from server_groups s where s.uuid = d.g::uuid)
       on conflict do nothing`,
      [JSON.stringify(joins)],
    );
  }
  return results;
}

/** Where each of these consumers holds its allocation now, if anywhere. */
async function holders(trx: Knex.Transaction, consumers: string[]): Promise<Map<string, string>> {
  if (consumers.length === 0) return new Map();
  const res = await trx.raw(
    `select distinct consumer, provider from allocations where consumer = any(array(select jsonb_array_elements_text(?::jsonb)::uuid))`,
    [JSON.stringify(consumers)],
  );
  return new Map((res.rows as { consumer: string; provider: string }[]).map((r) => [r.consumer, r.provider]));
}

/**
 * The fast path of a claim batch in one statement: raises `used` where each summed demand fits,
 * and inserts the allocation rows of providers whose every demand was raised (a consumer that
 * already holds an allocation — another replica won — is skipped by the conflict). Returns the
 * raised keys and the consumers whose rows were inserted.
 */
async function raiseAndAllocate(trx: Knex.Transaction, demands: Demand[], rows: AllocationRow[]): Promise<{ raised: Set<string>; inserted: Set<string> }> {
  const res = await trx.raw(
    `with d as materialized (select * from jsonb_to_recordset(?::jsonb) as d(p text, rc text, amount int)),
     raised as (
       update inventories i set used = i.used + d.amount
       from d
       where i.provider = any(array(select p from d)) and i.provider = d.p and i.resource_class = d.rc
         and i.used + d.amount <= floor((i.total - i.reserved) * i.allocation_ratio)
       returning i.provider, i.resource_class),
     whole as (
       select d.p from d left join raised r on r.provider = d.p and r.resource_class = d.rc
       group by d.p having count(r.provider) = count(*)),
     ins as (
       insert into allocations (consumer, provider, resource_class, used, project_id, created_at)
       select a.consumer::uuid, a.provider, a.rc, a.used, a.project, now()
       from jsonb_to_recordset(?::jsonb) as a(consumer text, provider text, rc text, used int, project text)
       where a.provider in (select p from whole)
       on conflict do nothing
       returning consumer)
     select provider, resource_class, null as consumer from raised
     union all select null, null, consumer::text from ins`,
    [JSON.stringify(demands), JSON.stringify(rows)],
  );
  const raised = new Set<string>();
  const inserted = new Set<string>();
  for (const r of res.rows as { provider: string | null; resource_class: string | null; consumer: string | null }[]) {
    if (r.consumer !== null) inserted.add(r.consumer);
    else raised.add(`${r.provider}\u0000${r.resource_class}`);
  }
  return { raised, inserted };
}

/** Raises `used` where the demand still fits; returns the keys that were raised. */
async function raise(trx: Knex.Transaction, demands: Demand[]): Promise<Set<string>> {
  if (demands.length === 0) return new Set();
  const res = await trx.raw(
    `with d as materialized (select * from jsonb_to_recordset(?::jsonb) as d(p text, rc text, amount int))
     update inventories i set used = i.used + d.amount
     from d
     where i.provider = any(array(select p from d)) and i.provider = d.p and i.resource_class = d.rc
       and i.used + d.amount <= floor((i.total - i.reserved) * i.allocation_ratio)
     returning i.provider, i.resource_class`,
    [JSON.stringify(demands)],
  );
  return new Set((res.rows as any[]).map((r) => `${r.provider}\u0000${r.resource_class}`));
}

/** One row per provider and class: an UPDATE … FROM applies only one matching row per target row. */
function summed(demands: Demand[]): Demand[] {
  const sums = new Map<string, Demand>();
  for (const d of demands) {
    const k = `${d.p}\u0000${d.rc}`;
    const s = sums.get(k);
    if (s) s.amount += d.amount;
    else sums.set(k, { ...d });
  }
  return [...sums.values()];
}

async function lower(trx: Knex.Transaction, demands: Demand[]): Promise<void> {
  if (demands.length === 0) return;
  await trx.raw(
    `with d as materialized (select * from jsonb_to_recordset(?::jsonb) as d(p text, rc text, amount int))
     update inventories i set used = i.used - d.amount
     from d
     where i.provider = any(array(select p from d)) and i.provider = d.p and i.resource_class = d.rc`,
    [JSON.stringify(demands)],
  );
}

async function usedOf(trx: Knex.Transaction, provider: string): Promise<Partial<Resources>> {
  const res = await trx.raw(`select resource_class, used from inventories where provider = ?`, [provider]);
  const out: Partial<Resources> = {};
  for (const r of res.rows as any[]) out[r.resource_class as ResourceClass] = r.used;
  return out;
}
