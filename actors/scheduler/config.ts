/** The scheduler role's configuration and Nova's defaults. */
import { DEFAULT_FILTERS } from './filters/index.js';
import { DEFAULT_CAPACITY_POLICY, type CapacityPolicy } from './host-states.js';
import { NOVA_LIVENESS } from '../../protocols/liveness.js';
import type { HostFilter, HostWeigher } from './types.js';
import type { CriticalPolicy } from '../../runtime/actors/critical.js';
import type { RestartPolicy } from '../../runtime/actors/supervision.js';

export interface SchedulerConfig {
  /** `filter` (filters + weighers) or `chance` (filters, then a random passing host). */
  driver: 'filter' | 'chance';
  filters: readonly string[];
  /** Embedders' own filters, run after the configured ones. */
  extraFilters: HostFilter[];
  /** Weighers with their multipliers (default: every built-in weigher at Nova's multiplier). */
  weighers: HostWeigher[] | undefined;
  capacity: CapacityPolicy;
  /** Chosen host plus alternates (Nova's `[scheduler] max_attempts`). */
  maxAttempts: number;
  /** Pick the chosen host at random among the best N (Nova's `host_subset_size`). */
  hostSubsetSize: number;
  /**
   * Candidates weighed per decision (Nova's `max_placement_results`, default 1000): filtering stops
   * once this many hosts passed, scanning on from where the previous decision stopped. 0: all hosts.
   */
  maxPlacementResults: number;
  /** A host not heard from for this long is down (Nova's service_down_time): ComputeFilter, host-down events. */
  serviceDownTimeMs: number;
  /**
   * What answering a heartbeat grants (protocols/liveness.ts: lease + fence margin <= service down
   * time). Default: three quarters of the service down time (Nova's 60 s: 45 s).
   */
  hostLeaseMs?: number;
  maxInstancesPerHost: number;
  /** The scheduler actor's restart budget, and the role-level restarts after it (runtime/actors/critical.ts). */
  critical?: { actor?: Partial<RestartPolicy>; role?: Partial<CriticalPolicy> };
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  driver: 'filter',
  filters: DEFAULT_FILTERS,
  extraFilters: [],
  weighers: undefined,
  capacity: DEFAULT_CAPACITY_POLICY,
  maxAttempts: 3,
  hostSubsetSize: 1,
  maxPlacementResults: 1000,
  serviceDownTimeMs: NOVA_LIVENESS.downAfterMs,
  maxInstancesPerHost: 50,
};
