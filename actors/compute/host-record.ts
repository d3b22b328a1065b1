/**
 * What the compute role keeps for every host, busy or idle: a small plain record. The host's actor
 * exists only while requests come in (see host-actor.ts) and passivates when idle, so everything
 * that must outlive it (report sequence, build failures, idempotency keys) lives here.
 */
import type { HypervisorDriver } from '../../hosts/driver.js';

/** What callers of the role may see of a host (tests reach the driver through it). */
export interface ComputeHostView {
  readonly name: string;
  readonly driver: HypervisorDriver;
  readonly availabilityZone: string | null;
}

export interface HostRecord extends ComputeHostView {
  /** Last capacity report's sequence number: monotonic per host, so the receivers drop stale ones. */
  seq: number;
  /** Consecutive failed builds (Nova's compute manager counts them too), sent with the capacity. */
  failedBuilds: number;
  /** A report after a change is already scheduled (a burst of changes gives one report). */
  reportQueued: boolean;
  /** Recent idempotency keys → the outcome, so a retried request does not act twice. Made on first use. */
  recent: Map<string, Promise<unknown>> | undefined;
  /** Guests whose spawn is running on this host right now (never reaped). Made on first use. */
  spawning: Set<string> | undefined;
  /** Until when (this process's clock) the host holds its liveness lease (host-lease.ts). */
  leaseUntil: number;
  /** Set while the host is fenced: the guests the fence stopped, to start again if still owned. */
  fenced: { stopped: Set<string>; since: number; recovering: boolean } | undefined;
}

const RECENT_KEYS = 256;

export function newHostRecord(name: string, driver: HypervisorDriver, availabilityZone: string | null): HostRecord {
  return { name, driver, availabilityZone, seq: 0, failedBuilds: 0, reportQueued: false, recent: undefined, spawning: undefined, leaseUntil: 0, fenced: undefined };
}

/** Keeps the outcome of a keyed request, forgetting the oldest beyond RECENT_KEYS. */
export function rememberOutcome(rec: HostRecord, key: string, outcome: Promise<unknown>): void {
  const recent = (rec.recent ??= new Map());
  recent.set(key, outcome);
  if (recent.size > RECENT_KEYS) recent.delete(recent.keys().next().value as string);
}
