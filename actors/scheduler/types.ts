/**
 * The scheduler's view of the world: one `HostState` per host, kept in memory from capacity reports
 * and ledger claims (never read from the database per decision), and the `RequestSpec` of a boot.
 * Filters (`HostFilter`) and weighers (`HostWeigher`) are pure functions over these.
 */
import type { Resources } from '../../protocols/resources.js';
import type { HostColumns } from './host-columns.js';
import type { HostState } from './host-state.js';

export type { HostState };

export interface RequestSpec {
  instanceUuid: string;
  projectId: string;
  resources: Resources;
  flavor: { id: string; name: string; extraSpecs: Record<string, string> };
  image: { id: string; properties: Record<string, string> };
  availabilityZone: string | null;
  /** Hosts this build already failed on (Nova's RetryFilter semantics). */
  ignoreHosts: string[];
  schedulerHints: Record<string, string | string[]>;
  /** Server group the instance is in, with the hosts its members occupy. */
  group?: { id: string; policy: 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity'; hosts: string[]; maxServerPerHost?: number };
}

export interface FilterContext {
  now: number;
  /** A host is down when its last report is older than this. */
  serviceDownTimeMs: number;
  maxInstancesPerHost: number;
}

/** A host filter: a pure predicate, named as Nova names it. */
export interface HostFilter {
  readonly name: string;
  passes(host: HostState, spec: RequestSpec, ctx: FilterContext): boolean;
  /**
   * Optional, for speed: false when `passes` would return true for every host for this request (no
   * zone asked, no hint, no group, nothing requested of the class…), so the runner leaves the filter
   * out of its per-host loop. Absent means "always applies".
   */
  appliesTo?(spec: RequestSpec, ctx: FilterContext): boolean;
  /**
   * Optional columnar form of `passes`, for speed: keeps, in order, the slots among `slots[0..n)`
   * whose host passes, compacting them to the front; returns how many passed. Must agree with
   * `passes` on every host (tested). Absent means the runner calls `passes` per surviving host.
   */
  narrow?(cols: HostColumns, slots: Int32Array, n: number, spec: RequestSpec, ctx: FilterContext): number;
}

/**
 * A weigher returns a raw number per host; the runner normalises raw weights to [0, 1] across the
 * candidates and multiplies by `multiplier` (negative multipliers stack instead of spreading).
 */
export interface HostWeigher {
  readonly name: string;
  readonly multiplier: number;
  weigh(host: HostState, spec: RequestSpec): number;
  /**
   * Optional, for speed: false when `weigh` gives every host the same value for this request, or,
   * given the columns, for the whole fleet right now (skipped).
   */
  appliesTo?(spec: RequestSpec, cols?: HostColumns): boolean;
  /** Optional columnar form of `weigh`: `out[k]` = raw weight of the host in `slots[k]`, for k < n. */
  weighAll?(cols: HostColumns, slots: Int32Array, n: number, spec: RequestSpec, out: Float64Array): void;
}
