/**
 * Move allocations (Nova/Placement's resize, migrate, evacuate): while an instance moves, its
 * consumer holds the destination and a migration-uuid consumer holds what it had on the source, so
 * the ledger is honest in every intermediate state. Each step is one transaction:
 *   - move: the instance's allocation is re-keyed to the migration consumer (usage unchanged) and
 *     the destination claimed for the instance; if the destination does not fit, nothing changed.
 *   - revert: the instance's destination is dropped and the migration's allocation re-keyed back.
 *   - confirm (or evacuate's cleanup) is a plain release of the migration consumer.
 * Locks follow the claim batches' order: providers (sorted), then the consumers' allocation rows.
 */
import type { Knex } from '@mikro-orm/postgresql';
import type { Resources } from '../../protocols/resources.js';
import type { Claim, ClaimResult, Released } from './ledger-types.js';
import { byConsumer, claimIn, releaseIn, type AllocationRecord } from './ledger-tx.js';

export interface MoveClaim {
  instance: string;
  migration: string;
  projectId: string;
  /** The destination. */
  provider: string;
  /** What the instance needs there (the new flavor for a resize). */
  resources: Resources;
  /** The instance's server group: its hard policy is checked at the destination too. */
  group?: string;
  /**
   * `first`: a move already made for this migration is the answer (a retried select-move).
   * `replace`: the instance's destination is replaced by this one (a retry onto an alternate).
   */
  mode: 'first' | 'replace';
}

export type MoveResult =
  /** The instance is claimed on `host`; `source` is what the migration consumer holds (null: nothing was allocated). */
  | { ok: true; host: string; source: Released | null }
  /** The destination did not take it (nothing changed); `group` when a server group rule refused it. */
  | { ok: false; used: Partial<Resources>; group?: 'full' | 'policy' };

export interface Reverted {
  /** Where the instance is allocated after the revert (its source), if anywhere. */
  instance: Released | null;
  /** The destination allocation that was dropped, if there was one. */
  dropped: Released | null;
}

/** Thrown inside the transaction to roll the re-key back when the destination refuses. */
class Refused extends Error {
  constructor(readonly result: Extract<ClaimResult, { ok: false }>) {
    super('destination refused');
  }
}

async function allocationsOf(trx: Knex.Transaction, consumers: string[], lock: boolean): Promise<Map<string, Released>> {
  const res = await trx.raw(
    `select consumer::text, provider, resource_class, used from allocations
     where consumer = any(array(select jsonb_array_elements_text(?::jsonb)::uuid))${lock ? ' for update' : ''}`,
    [JSON.stringify(consumers)],
  );
  return new Map(byConsumer(res.rows as AllocationRecord[]).map((a) => [a.consumer, a]));
}

async function lockProvidersOf(trx: Knex.Transaction, providers: string[]): Promise<void> {
  await trx.raw(
    `select 1 from inventories where provider = any(array(select jsonb_array_elements_text(?::jsonb)))
     order by provider, resource_class for update`,
    [JSON.stringify([...new Set(providers)].sort())],
  );
}

async function rekey(trx: Knex.Transaction, from: string, to: string): Promise<void> {
  await trx.raw(`update allocations set consumer = ?::uuid where consumer = ?::uuid`, [to, from]);
}

export async function moveIn(trx: Knex.Transaction, m: MoveClaim, groupMembersDefault: number): Promise<MoveResult> {
  const seen = await allocationsOf(trx, [m.instance, m.migration], false);
  await lockProvidersOf(trx, [m.provider, ...[...seen.values()].map((a) => a.provider)]);
  const now = await allocationsOf(trx, [m.instance, m.migration], true);
  let source = now.get(m.migration) ?? null;
  const held = now.get(m.instance);
  if (source && held && m.mode === 'first') return { ok: true, host: held.provider, source };
  if (source && held) await releaseIn(trx, [m.instance]);
  if (!source && held) {
    await rekey(trx, m.instance, m.migration);
    source = { ...held, consumer: m.migration };
  }
  const claim: Claim = { consumer: m.instance, provider: m.provider, projectId: m.projectId, resources: m.resources };
  if (m.group !== undefined) claim.group = m.group;
  const [r] = await claimIn(trx, [claim], groupMembersDefault);
  if (!r!.ok) throw new Refused(r!);
  return { ok: true, host: m.provider, source };
}

/** Runs `moveIn` in `trx`-opening `run`, turning a refusal (rolled back) into its result. */
export async function moveOrRefuse(run: () => Promise<MoveResult>): Promise<MoveResult> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    const r = err.result;
    // `held` cannot happen: the instance held nothing once its allocation was re-keyed or released.
    return 'group' in r ? { ok: false, used: r.used, group: r.group } : { ok: false, used: r.used };
  }
}

export async function revertIn(trx: Knex.Transaction, instance: string, migration: string): Promise<Reverted> {
  const seen = await allocationsOf(trx, [instance, migration], false);
  await lockProvidersOf(trx, [...seen.values()].map((a) => a.provider));
  const now = await allocationsOf(trx, [instance, migration], true);
  const source = now.get(migration);
  // Nothing under the migration: already reverted (or confirmed). Idempotent.
  if (!source) return { instance: now.get(instance) ?? null, dropped: null };
  const dropped = now.get(instance) ? (await releaseIn(trx, [instance]))[0] ?? null : null;
  await rekey(trx, migration, instance);
  return { instance: { ...source, consumer: instance }, dropped };
}
