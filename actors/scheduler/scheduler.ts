/**
 * The scheduler role: one actor owns the host states, so decisions are serialised without locks.
 * A `select` is decided in memory at once (filters, weighers, delta applied) and its claim joins the
 * next ledger batch; the reply waits for the ledger. Committed claims and releases are published as
 * deltas to the other replicas, so their views stay close; a claim still lost to another replica
 * refreshes that host from the ledger and decides again, up to a bound.
 *
 * This file composes the role; the parts are: `warm-up.ts` (the view at start), `decisions.ts` and
 * `scheduler-handlers.ts` (the actor's messages), `claim-desk.ts` (claims and releases to the
 * ledger), `delta-outbox.ts` (to the other replicas), `scheduler-endpoints.ts` (the bus).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { CriticalActor } from '../../runtime/actors/critical.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import { RoleHealth, type HealthView } from '../../runtime/health.js';
import type { BridgeStats } from '../../runtime/nats/bridge.js';
import type { Role, RoleContext } from '../../runtime/role.js';
import type { SchedulingCatalog } from './catalog.js';
import { ClaimDesk } from './claim-desk.js';
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config.js';
import { DeltaOutbox } from './delta-outbox.js';
import { filtersByName } from './filters/index.js';
import type { HostStates } from './host-states.js';
import { InventoryWriter } from './inventory-writer.js';
import type { PlacementLedger } from './ledger.js';
import { MoveDesk } from './moves.js';
import { Placer, type SchedulerStats } from './placer.js';
import { serveScheduler } from './scheduler-endpoints.js';
import { handle } from './scheduler-handlers.js';
import { MAX_DECISION_TRIES, type Msg, type SchedulerCore } from './scheduler-msg.js';
import { HostLiveness, type LivenessStats } from './host-liveness.js';
import { warmFromLedger, warmUpWindow } from './warm-up.js';
import { defaultWeighers } from './weighers/index.js';
import { batchObserver } from '../../runtime/metrics/batch-metrics.js';
import { decisionMetrics, watchHosts } from './scheduler-metrics.js';

export { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config.js';
export type { SchedulerStats } from './placer.js';

export interface SchedulerRole extends Role {
  readonly stats: SchedulerStats;
  readonly states: HostStates;
  readonly catalog: SchedulingCatalog;
  /**
   * Emits `report` (host) after each capacity report is applied, `service` (host, enabled) after an
   * os-services change, `host-down` / `host-up` (host, {lastSeenAt, at, fencedBy}) on liveness edges.
   */
  readonly events: EventEmitter;
  /** Heartbeats heard, leases granted and refused, hosts announced down and up. */
  readonly liveness: LivenessStats;
  /** What this role's bus bridge dropped, survived or was refused (malformed reports, deltas …). */
  readonly bus: BridgeStats;
  /** Resolves once the inventories reported so far are in the ledger (claims on those hosts can commit). */
  inventoriesWritten(): Promise<void>;
  /** ok, degraded (the scheduler actor is being rebuilt) or unhealthy (it could not be kept running). */
  health(): HealthView;
  /** Chaos hook: crash the scheduler actor once. */
  crash(): void;
}

export async function startSchedulerRole(ctx: RoleContext, ledger: PlacementLedger, cfg: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG): Promise<SchedulerRole> {
  const { bridge, subjects, actors, clock, log } = ctx;
  const replica = randomUUID();
  const { catalog, states } = await warmFromLedger(ledger, cfg);
  const filters = [...filtersByName(cfg.filters), ...cfg.extraFilters];
  const weighers = cfg.driver === 'chance' ? [] : (cfg.weighers ?? defaultWeighers());
  const stats: SchedulerStats = { decisions: 0, noValidHost: 0, lostClaims: 0, decisionUs: [] };
  const events = new EventEmitter();
  // Batched, bad rows isolated, failures retried and never left as memory ahead of the ledger.
  const inventories = new InventoryWriter(ledger, states, clock, log, (host) => events.emit('report', host), undefined, batchObserver(ctx.metrics, 'inventories'));

  let stopped = false;
  let self!: CriticalActor<Msg>;
  const tell = (m: Msg) => self.tell(m);
  const outbox = new DeltaOutbox(replica, (d) => bridge.publish(subjects.scheduler('delta'), d), () => !stopped && !bridge.nc.isClosed() && !bridge.nc.isDraining());
  const share = (f: Parameters<DeltaOutbox['share']>[0]) => outbox.share(f);
  const observe = { claims: batchObserver(ctx.metrics, 'ledger_claims'), releases: batchObserver(ctx.metrics, 'ledger_releases') };
  const desk = new ClaimDesk<Msg>(ledger, (o) => tell({ kind: 'claimed', ...o }), observe);
  const placer = new Placer({ states, catalog, filters, weighers, cfg, clock, stats, metrics: decisionMetrics(ctx.metrics) });
  const unwatch = ctx.metrics ? watchHosts(ctx.metrics, states, stats, clock, cfg.serviceDownTimeMs) : () => undefined;
  const moves = new MoveDesk({ states, placer, ledger, share, inActor: (fn) => tell({ kind: 'run', fn }), maxTries: MAX_DECISION_TRIES });
  const leaseMs = cfg.hostLeaseMs ?? Math.round(cfg.serviceDownTimeMs * 0.75);
  if (!(leaseMs > 0 && leaseMs <= cfg.serviceDownTimeMs)) throw new Error(`scheduler: hostLeaseMs (${leaseMs}) must be positive and within serviceDownTimeMs (${cfg.serviceDownTimeMs})`);
  const liveness = new HostLiveness(ctx, states, events, replica, cfg.serviceDownTimeMs, leaseMs);
  const core: SchedulerCore = {
    replica, clock, ledger, states, catalog, placer, moves, desk, inventories, stats, events, liveness, tell, share,
    warmingUp: warmUpWindow(states, clock, cfg.serviceDownTimeMs),
  };

  // Role-critical: a spent restart budget rebuilds the host states from the ledger, then (if that
  // keeps failing) makes the role unhealthy and answers 503, never silence.
  const health = new RoleHealth('scheduler', () => clock.now());
  const rebuild = async () => {
    await Promise.all([desk.claims.drain(), desk.releases.drain()]);
    states.reload(await ledger.snapshot(), await ledger.allocations());
  };
  self = new CriticalActor<Msg>('scheduler', () => ({
    init: () => null,
    ...(cfg.critical?.actor ? { restart: cfg.critical.actor } : {}),
    handle: (state, m) => {
      handle(core, m);
      return state;
    },
  }), { actors, log, health, rebuild, ...(cfg.critical?.role ? { policy: cfg.critical.role } : {}) });

  const ask = <R>(make: (reply: ReplyTo<R>) => Msg) => self.ask<R>(make, ctx.requestTimeoutMs);
  const svc = await bridge.addService('novact-scheduler', 'placement decisions, the claim ledger, aggregates and server groups', () => ({
    hosts: states.size, decisions: stats.decisions, noValidHost: stats.noValidHost, lostClaims: stats.lostClaims, restarts: actors.stats.restarts,
    health: health.status, roleRestarts: health.snapshot().roleRestarts,
  }));
  serveScheduler(ctx, svc, core, ask);
  liveness.start();

  return {
    name: 'scheduler',
    stats,
    states,
    catalog,
    events,
    bus: bridge.stats,
    liveness: liveness.stats,
    inventoriesWritten: () => inventories.drain(),
    health: () => health.snapshot(),
    crash: () => tell({ kind: 'crash' }),
    async stop() {
      stopped = true;
      liveness.stop();
      unwatch();
      self.stop();
      await Promise.all([inventories.drain(), desk.releases.drain()]);
    },
  };
}
