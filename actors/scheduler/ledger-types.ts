/**
 * What a claim asks and what claims and releases answer: used by the ledger facade (ledger.ts) and
 * its transaction code (ledger-tx.ts), so neither imports the other for types.
 */
import type { Resources } from '../../protocols/resources.js';

export interface Claim {
  consumer: string;
  provider: string;
  projectId: string;
  resources: Resources;
  /** Server group the consumer joins with this claim (membership commits with the claim). */
  group?: string;
  /**
   * A move replaces the consumer's allocation (a build going to an alternate). Otherwise the first
   * claim for a consumer wins: a later one (a retried select, another replica) learns where it is held.
   */
  move?: boolean;
}

export type ClaimResult =
  | { ok: true }
  /** `used` is the provider's ledger usage now, so the caller can refresh its cached view. */
  | { ok: false; used: Partial<Resources> }
  /** The consumer already holds an allocation on `held` (the earlier claim won). */
  | { ok: false; used: Partial<Resources>; held: string }
  /** A server group refused the member at the commit: `full` (its members quota), `policy` (its hard (anti-)affinity). */
  | { ok: false; used: Partial<Resources>; group: GroupVerdict };

export type GroupVerdict = 'full' | 'policy';

export interface Released {
  consumer: string;
  provider: string;
  resources: Resources;
}
