/**
 * Host liveness and self-fencing, as pure timing rules (no I/O, no clock of its own).
 *
 * Three durations and one inequality:
 * - `heartbeatMs`: how often a host says it is alive (Nova's `report_interval`).
 * - `downAfterMs`: a host not heard from for this long is down (Nova's `service_down_time`); the
 *   scheduler's ComputeFilter, its host-down events and the conductor's os-services all use it.
 * - `leaseMs`: what a heartbeat's acknowledgement grants. A host holds a lease until the send time
 *   of its last acknowledged heartbeat plus `leaseMs`, on its own clock; once that passes without a
 *   renewal it fences itself (stops its guests, refuses new ones) until it is acknowledged again.
 *
 * Why the lease is counted from the *send* time: every acknowledged heartbeat was heard by the
 * scheduler after it was sent, so the scheduler's `lastSeen` is never earlier than the host's last
 * acknowledged send. The host therefore fences no later than `lastSeen + leaseMs` (plus the time
 * its driver takes to stop the guests and how far the two clocks' *rates* drift over a few seconds:
 * `fenceMarginMs`), while the host is declared down at `lastSeen + downAfterMs` and an evacuation
 * can start no earlier than that plus whatever delay the evacuator adds (`evacuationDelayMs`). So
 *
 *     leaseMs + fenceMarginMs <= downAfterMs + evacuationDelayMs
 *
 * keeps an evacuated instance from ever running twice. The offset between the clocks does not
 * enter: each side measures its own durations.
 */

export type FenceAction = 'off' | 'power-off' | 'destroy';

export interface LivenessTimings {
  heartbeatMs: number;
  downAfterMs: number;
  leaseMs: number;
  /** Time to stop every guest once the lease lapsed, plus clock-rate drift (see above). */
  fenceMarginMs: number;
  /** What an evacuator waits after a host is down before it may rebuild its instances elsewhere. */
  evacuationDelayMs: number;
}

/** Nova's defaults: a heartbeat every 10 s, down after 60 s; a lease well inside it. */
export const NOVA_LIVENESS: LivenessTimings = { heartbeatMs: 10_000, downAfterMs: 60_000, leaseMs: 45_000, fenceMarginMs: 5_000, evacuationDelayMs: 0 };

/**
 * Fast failure detection: down within 3 s of the last heartbeat heard. The lease survives one lost
 * heartbeat (2 × heartbeat + its round trip) and lapses half a second before the host is down.
 */
export const FAST_LIVENESS: LivenessTimings = { heartbeatMs: 1_000, downAfterMs: 3_000, leaseMs: 2_500, fenceMarginMs: 500, evacuationDelayMs: 0 };

/** What is wrong with a set of timings (empty when they are safe to run). */
export function livenessProblems(t: LivenessTimings): string[] {
  const out: string[] = [];
  for (const k of ['heartbeatMs', 'downAfterMs', 'leaseMs'] as const) {
    if (!Number.isFinite(t[k]) || t[k] <= 0) out.push(`${k} must be a positive number of milliseconds`);
  }
  if (t.fenceMarginMs < 0 || t.evacuationDelayMs < 0) out.push('fenceMarginMs and evacuationDelayMs must not be negative');
  if (out.length > 0) return out;
  if (t.leaseMs + t.fenceMarginMs > t.downAfterMs + t.evacuationDelayMs) {
    out.push(`leaseMs (${t.leaseMs}) + fenceMarginMs (${t.fenceMarginMs}) must not exceed downAfterMs (${t.downAfterMs}) + evacuationDelayMs (${t.evacuationDelayMs}): a fenced host could still run an evacuated instance`);
  }
  // One heartbeat lost (or answered late) must not fence a healthy host.
  if (t.leaseMs < 2 * t.heartbeatMs) out.push(`leaseMs (${t.leaseMs}) must be at least two heartbeats (${2 * t.heartbeatMs})`);
  if (t.downAfterMs < 2 * t.heartbeatMs) out.push(`downAfterMs (${t.downAfterMs}) must be at least two heartbeats (${2 * t.heartbeatMs})`);
  return out;
}

/** The lease after an acknowledgement of the heartbeat sent at `sentAt`: never shortened by a late or replayed reply. */
export const renewedLease = (leaseUntil: number, sentAt: number, leaseMs: number): number => Math.max(leaseUntil, sentAt + leaseMs);

export const leaseLapsed = (leaseUntil: number, now: number): boolean => now >= leaseUntil;

/** Whether a host last heard at `lastSeenAt` is up at `now`: the one rule every observer uses. */
export const heardWithin = (lastSeenAt: number, now: number, downAfterMs: number): boolean => now - lastSeenAt <= downAfterMs;

/**
 * The scheduler's edge detector: given each host's last-heard time and what it said last time,
 * returns the hosts that went down and came up. A host never heard since start is neither (a
 * restarted scheduler must not announce the whole fleet down before the first heartbeats).
 */
export interface LivenessEdges {
  down: string[];
  up: string[];
}

export function livenessEdges(hosts: Iterable<{ host: string; lastSeenAt: number }>, wasUp: Map<string, boolean>, now: number, downAfterMs: number): LivenessEdges {
  const edges: LivenessEdges = { down: [], up: [] };
  for (const { host, lastSeenAt } of hosts) {
    if (lastSeenAt <= 0) continue;
    const up = heardWithin(lastSeenAt, now, downAfterMs);
    const before = wasUp.get(host);
    if (before === up) continue;
    wasUp.set(host, up);
    // First sight of a host that is up is no edge worth announcing; a first sight down is (the
    // scheduler warmed it from a report it has not heard again).
    if (up && before !== undefined) edges.up.push(host);
    else if (!up) edges.down.push(host);
  }
  return edges;
}
