/**
 * Host liveness, scheduler side (protocols/liveness.ts has the rules): every heartbeat moves the
 * host's `lastSeenAt` at once (ComputeFilter reads it), and one sent as a request is answered with
 * a lease (a constant reply: every replica grants the same). A sweep a few times per `downAfterMs`
 * turns silences into `evt.host.<h>.down` and returns into `.up`, and emits `host-down` / `host-up`
 * on the role's events for whoever builds on them (evacuation).
 *
 * A heartbeat can only come from its host: NATS lets a host identity publish only its own hosts'
 * report subjects, and the body must name the subject's host (the catalog's `matches`). A host that
 * asks for leases faster than `floodGapMs` is still heard but not answered again within that gap.
 */
import type { EventEmitter } from 'node:events';
import { HostLivenessEvent } from '../../protocols/catalog/events.js';
import { livenessEdges } from '../../protocols/liveness.js';
import type { Timer } from '../../runtime/clock.js';
import type { RoleContext } from '../../runtime/role.js';
import type { HostStates } from './host-states.js';

export interface LivenessStats {
  heartbeats: number;
  grants: number;
  /** Lease requests left unanswered because the host asked again within the flood gap. */
  flooded: number;
  down: number;
  up: number;
}

export class HostLiveness {
  readonly stats: LivenessStats = { heartbeats: 0, grants: 0, flooded: 0, down: 0, up: 0 };
  private readonly wasUp = new Map<string, boolean>();
  private readonly lastGrant = new Map<string, number>();
  private readonly grant: Uint8Array;
  private readonly floodGapMs: number;
  private timer: Timer | undefined;
  private sweepMs = 100;
  private lastSweep = 0;

  constructor(
    private readonly ctx: RoleContext,
    private readonly states: HostStates,
    private readonly events: EventEmitter,
    private readonly replica: string,
    private readonly downAfterMs: number,
    private readonly leaseMs: number,
  ) {
    this.grant = new TextEncoder().encode(JSON.stringify({ leaseMs }));
    this.floodGapMs = leaseMs / 20;
  }

  /** A valid heartbeat from `host`, with where to answer when it asks for a lease. */
  heard(host: string, reply: string | undefined): void {
    const now = this.ctx.clock.now();
    this.stats.heartbeats++;
    this.states.heartbeat(host, now);
    if (reply === undefined) return;
    const last = this.lastGrant.get(host);
    if (last !== undefined && now - last < this.floodGapMs) {
      this.stats.flooded++;
      return;
    }
    this.lastGrant.set(host, now);
    this.stats.grants++;
    try {
      this.ctx.bridge.nc.publish(reply, this.grant);
    } catch {
      // A closed connection answers nobody; the host's lease lapses as it should.
    }
  }

  start(): void {
    // 10,000 hosts are 10,000 comparisons per sweep: ten sweeps a second cost well under 1 ms each.
    this.sweepMs = Math.max(5, Math.min(100, this.downAfterMs / 10));
    this.lastSweep = this.ctx.clock.now();
    this.timer = this.ctx.clock.setInterval(() => this.sweep(), this.sweepMs);
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** Announces every host that went down or came up since the last sweep. */
  sweep(): void {
    const now = this.ctx.clock.now();
    const stalled = now - this.lastSweep > 5 * this.sweepMs;
    this.lastSweep = now;
    // This process was stalled (a busy start-up, a long GC): the heartbeats of that time are still
    // waiting in the socket, read after this timer. Silence we caused is no host's fault: judge next time.
    if (stalled) return;
    const { down, up } = livenessEdges(this.states.all(), this.wasUp, now, this.downAfterMs);
    for (const host of down) this.announce(host, 'down', now);
    for (const host of up) this.announce(host, 'up', now);
  }

  private announce(host: string, state: 'down' | 'up', at: number): void {
    const lastSeenAt = this.states.get(host)?.lastSeenAt ?? 0;
    this.stats[state]++;
    const fencedBy = state === 'down' ? lastSeenAt + this.leaseMs : null;
    this.ctx.log.warn(state === 'down' ? 'host down: no heartbeat heard' : 'host up again', { host, lastSeenAt });
    this.ctx.bridge.emit(HostLivenessEvent, [host, state], { host, state, lastSeenAt, at, fencedBy, replica: this.replica });
    this.events.emit(`host-${state}`, host, { lastSeenAt, at, fencedBy });
  }
}
