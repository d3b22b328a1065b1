/**
 * One setting for host liveness across the roles (protocols/liveness.ts): the compute role's
 * heartbeat and fencing, the scheduler's down-after and lease, the conductor's service down time
 * (os-services, evacuate's "is the host down"), so that they cannot disagree. Checked against the
 * fencing inequality before anything starts.
 */
import { FAST_LIVENESS, NOVA_LIVENESS, livenessProblems, type FenceAction, type LivenessTimings } from '../protocols/liveness.js';
import type { ComputeConfig } from '../actors/compute/compute-role.js';
import type { ConductorConfig } from '../actors/conductor/conductor-role.js';
import type { SchedulerConfig } from '../actors/scheduler/scheduler.js';

export interface LivenessOptions extends Partial<LivenessTimings> {
  /** `fast`: FAST_LIVENESS (1 s heartbeat, down after 3 s); default Nova's (10 s / 60 s). */
  preset?: 'nova' | 'fast';
  /** What hosts do once their lease lapsed (default `off`, as Nova). */
  fence?: FenceAction;
}

export interface LivenessOverrides {
  scheduler: Partial<SchedulerConfig>;
  conductor: Partial<ConductorConfig>;
  compute: Partial<ComputeConfig>;
}

export function livenessOverrides(o: LivenessOptions): LivenessOverrides {
  const { preset, fence, ...timings } = o;
  const t: LivenessTimings = { ...(preset === 'fast' ? FAST_LIVENESS : NOVA_LIVENESS), ...timings };
  const problems = livenessProblems(t);
  if (problems.length > 0) throw new Error(`liveness: ${problems.join('; ')}`);
  return {
    scheduler: { serviceDownTimeMs: t.downAfterMs, hostLeaseMs: t.leaseMs },
    // Heartbeats reach the compute-node records at least once per heartbeat, so os-services lags
    // the scheduler by at most one flush.
    conductor: { serviceDownTimeMs: t.downAfterMs, computeNodeFlushMs: Math.min(1_000, t.heartbeatMs) },
    compute: { heartbeatIntervalMs: t.heartbeatMs, ...(fence ? { fence } : {}) },
  };
}
