/**
 * The scheduler role: one actor owns the host states, so decisions are serialised without locks.
 * A `select` is decided in memory at once (filters, weighers, delta applied) and its claim joins the
 * next ledger batch; the reply waits for the ledger. Committed claims and releases are published as
 * deltas to the other replicas, so their views stay close; a claim still lost to another replica
 * refreshes that host from the ledger and decides again, up to a bound.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ConflictError, ForbiddenError, NoValidHostError, NotFoundError, TimeoutError, UnavailableError } from '../../protocols/errors.js';
import type { ClaimReply, ClaimRequest, SelectBatchReply, SelectReply, SelectRequest } from '../../protocols/messages.js';
import type { CapacityReport } from '../../protocols/resources.js';
import type { Static } from '@sinclair/typebox';
import {
  Claim as ClaimDef, ConfirmMove, DeltaMsg, ForgetHost, MoveClaim, Release, RevertMove, SchedulerGet, Select, SelectBatch, type Delta,
} from '../../protocols/catalog/scheduler.js';
import { CapacityReportMsg, HeartbeatMsg } from '../../protocols/catalog/reports.js';
import { AggregateEvent, ServerGroupEvent, ServiceDeleteEvent, ServiceEvent } from '../../protocols/catalog/events.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import { CriticalActor } from '../../runtime/actors/critical.js';
import { RoleHealth, type HealthView } from '../../runtime/health.js';
import { Batcher } from '../../runtime/batcher.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { BridgeStats } from '../../runtime/nats/bridge.js';
import type { Role, RoleContext } from '../../runtime/role.js';
import { SchedulingCatalog } from './catalog.js';
import { serveCatalog } from './catalog-endpoints.js';
import { filtersByName } from './filters/index.js';
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config.js';
import { Placer, type SchedulerStats } from './placer.js';
import { GROUP_FULL, MoveDesk } from './moves.js';
import { HostStates } from './host-states.js';
import { InventoryWriter } from './inventory-writer.js';
import type { Claim, ClaimResult, PlacementLedger } from './ledger.js';
import { normaliseBatch, normaliseSelect } from './select-request.js';
import { defaultWeighers } from './weighers/index.js';

export { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './config.js';
export type { SchedulerStats } from './placer.js';


type Msg =
  | { kind: 'select'; req: SelectRequest; reply: ReplyTo<SelectReply>; tries: number; deadline: number }
  | { kind: 'selectBatch'; reqs: SelectRequest[]; reply: ReplyTo<SelectBatchReply>; tries: number }
  | { kind: 'claim'; req: ClaimRequest; reply: ReplyTo<ClaimReply> }
  | { kind: 'release'; consumer: string; reply: ReplyTo<{ released: number }> }
  | { kind: 'claimed'; claim: Claim; result: ClaimResult; then: () => void; lost: () => void; held: (host: string) => void; fail: (e: unknown) => void }
  | { kind: 'delta'; delta: Delta }
  | { kind: 'catalog'; hosts: string[] | undefined }
  | { kind: 'service'; host: string; enabled: boolean }
  | { kind: 'forget'; host: string; reply?: ReplyTo<{ host: string }> }
  | { kind: 'report'; report: CapacityReport; at: number }
  | { kind: 'get'; reply: ReplyTo<Static<typeof SchedulerGet.reply>> }
  /** A ledger completion or a move step (moves.ts), run inside the actor. */
  | { kind: 'run'; fn: () => void }
  /** Chaos hook: makes the actor throw, to exercise supervision. */
  | { kind: 'crash' };


export interface SchedulerRole extends Role {
  readonly stats: SchedulerStats;
  readonly states: HostStates;
  readonly catalog: SchedulingCatalog;
  /** Emits `report` (host) after each capacity report is applied, `service` (host, enabled) after an os-services change. */
  readonly events: EventEmitter;
  /** What this role's bus bridge dropped, survived or was refused (malformed reports, deltas …). */
  readonly bus: BridgeStats;
  /** Resolves once the inventories reported so far are in the ledger (claims on those hosts can commit). */
  inventoriesWritten(): Promise<void>;
  /** ok, degraded (the scheduler actor is being rebuilt) or unhealthy (it could not be kept running). */
  health(): HealthView;
  /** Chaos hook: crash the scheduler actor once. */
  crash(): void;
}

const MAX_DECISION_TRIES = 8;
const WARMING_UP = new UnavailableError('the scheduler has just started and has not heard from every host yet');

export async function startSchedulerRole(ctx: RoleContext, ledger: PlacementLedger, cfg: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG): Promise<SchedulerRole> {
  const { bridge, subjects, actors, clock, log } = ctx;
  const replica = randomUUID();
  const catalog = new SchedulingCatalog(ledger.orm);
  await catalog.load();
  const states = new HostStates(cfg.capacity, (host, zone) => {
    const p = catalog.placementOf(host, zone);
    return { aggregates: p.aggregates, zone: p.zone };
  });
  states.load(await ledger.snapshot(), await ledger.allocations());
  for (const h of await ledger.disabledHosts()) states.setEnabled(h, false);
  const filters = [...filtersByName(cfg.filters), ...cfg.extraFilters];
  const weighers = cfg.driver === 'chance' ? [] : (cfg.weighers ?? defaultWeighers());
  const stats: SchedulerStats = { decisions: 0, noValidHost: 0, lostClaims: 0, decisionUs: [] };
  const claims = new Batcher<Claim, ClaimResult>((batch) => ledger.claimBatch(batch), { maxSize: 512, maxInFlight: 2 });
  // Releases share transactions as claims do: a burst of deletes (thousands at once) is a few
  // transactions, not one each, which under a 10 s request timeout queued until every one timed out.
  const releases = new Batcher<string, number>(
    async (consumers) => {
      const released = await ledger.release(consumers);
      const per = new Map<string, number>();
      for (const r of released) per.set(r.consumer, (per.get(r.consumer) ?? 0) + 1);
      return consumers.map((c) => per.get(c) ?? 0);
    },
    { maxSize: 1_000, maxInFlight: 1 },
  );
  const events = new EventEmitter();
  // Batched, bad rows isolated, failures retried and never left as memory ahead of the ledger.
  const inventories = new InventoryWriter(ledger, states, clock, log, (host) => events.emit('report', host));

  let stopped = false;
  // Deltas for the other replicas, sent once per turn.
  let outgoing: Delta | undefined;
  const share = (f: (d: Delta) => void) => {
    if (!outgoing) {
      outgoing = { replica, claims: [], releases: [] };
      setImmediate(() => {
        const d = outgoing;
        outgoing = undefined;
        // A stopping role's connection may already be draining; the other replicas resync from the ledger.
        if (d && !stopped && !bridge.nc.isClosed() && !bridge.nc.isDraining()) bridge.publish(subjects.scheduler('delta'), d);
      });
    }
    f(outgoing);
  };

  /** Inventory writes, batched and in order (one batch at a time); `report` follows the write. */
  const writeInventory = (host: string, inventory: Parameters<PlacementLedger['setInventory']>[1]) => inventories.write(host, inventory);

  const health = new RoleHealth('scheduler', () => clock.now());
  let self!: CriticalActor<Msg>;
  // Consumers with a claim on its way to the ledger, and the requests for them that wait meanwhile:
  // a repeated select must answer the claim that commits, not one that may still lose.
  const pending = new Map<string, Msg[]>();
  const submit = (claim: Claim, then: () => void, lost: () => void, fail: (e: unknown) => void, held: (host: string) => void = () => then()) => {
    pending.set(claim.consumer, pending.get(claim.consumer) ?? []);
    const nothing = () => undefined;
    claims.add(claim).then(
      (result) => self.tell({ kind: 'claimed', claim, result, then, lost, held, fail }),
      (err) => {
        self.tell({ kind: 'claimed', claim, result: { ok: false, used: {} }, then: nothing, lost: nothing, held: nothing, fail: nothing });
        fail(err);
      },
    );
  };

  const placer = new Placer({ states, catalog, filters, weighers, cfg, clock, stats });
  const moves = new MoveDesk({ states, placer, ledger, share, inActor: (fn) => self.tell({ kind: 'run', fn }), maxTries: MAX_DECISION_TRIES });

  const decide = (m: Extract<Msg, { kind: 'select' }>): void => {
    // Under overload, a request whose caller has already given up is not worth a decision or a claim.
    if (clock.now() > m.deadline) {
      m.reply.fail(new TimeoutError(`select for ${m.req.instanceUuid} expired in the scheduler's queue`));
      return;
    }
    if (m.req.move) return moves.select({ ...m.req, move: m.req.move }, m.reply);
    const waiting = pending.get(m.req.instanceUuid);
    if (waiting) {
      waiting.push(m);
      return;
    }
    // Selecting for an instance that already holds a claim answers that claim: a repeated select (a
    // resumed build, a retried request) must never leave the instance placed on one host and
    // charged on another.
    const held = states.allocationOf(m.req.instanceUuid);
    if (held && !m.req.ignoreHosts.includes(held.host)) {
      m.reply.ok({ host: held.host, alternates: [] });
      return;
    }
    const placed = placer.place(m.req);
    if (placed instanceof NoValidHostError) {
      m.reply.fail(warmingUp() ? WARMING_UP : placed);
      return;
    }
    submit(
      placed.claim,
      () => m.reply.ok(placed.answer),
      () => {
        if (m.tries + 1 >= MAX_DECISION_TRIES) m.reply.fail(new NoValidHostError('No valid host was found: claims kept losing races with other schedulers.'));
        else self.tell({ ...m, tries: m.tries + 1 });
      },
      (err) => m.reply.fail(err),
      (host) => m.reply.ok({ host, alternates: [] }),
    );
  };

  /**
   * A scheduler that has just started knows the hosts from the ledger but has not heard them yet:
   * its "no valid host" would only mean "not listened long enough", so it is a retryable 503 until
   * every known host has been heard or the service down time has passed.
   */
  const startedAt = clock.now();
  let warm = false;
  const warmingUp = (): boolean => {
    if (warm) return false;
    warm = clock.now() - startedAt >= cfg.serviceDownTimeMs || states.all().every((h) => h.lastSeenAt >= startedAt);
    return !warm;
  };

  /** Multi-create: every instance is placed, or none is (Nova's all-or-nothing for a build's count). */
  const decideBatch = (m: Extract<Msg, { kind: 'selectBatch' }>): void => {
    const placed: { claim: Claim; answer: SelectReply }[] = [];
    for (const req of m.reqs) {
      const p = placer.place(req);
      if (p instanceof NoValidHostError) {
        placed.forEach((x) => placer.unplace(x.claim));
        if (warmingUp()) return m.reply.fail(WARMING_UP);
        m.reply.fail(new NoValidHostError(`No valid host was found for ${m.reqs.length} instances (placed ${placed.length}): ${p.message}`, p.details));
        return;
      }
      placed.push(p);
    }
    let pending = placed.length;
    let lost = 0;
    let refusal: unknown;
    const done = () => {
      if (--pending > 0) return;
      if (lost === 0) {
        m.reply.ok({ placements: placed.map((p) => p.answer) });
        return;
      }
      // Some claims lost a race: give back the ones that won, then decide the whole batch again.
      const won = placed.filter((p) => states.allocationOf(p.claim.consumer)?.host === p.claim.provider).map((p) => p.claim);
      won.forEach((c) => placer.unplace(c));
      ledger.release(won.map((c) => c.consumer)).then(
        () => {
          if (refusal !== undefined) m.reply.fail(refusal);
          else if (m.tries + 1 >= MAX_DECISION_TRIES) m.reply.fail(new NoValidHostError('No valid host was found: claims kept losing races with other schedulers.'));
          else self.tell({ ...m, tries: m.tries + 1 });
        },
        (err) => m.reply.fail(err),
      );
    };
    for (const p of placed) {
      const onHeld = (host: string) => {
        p.answer = { host, alternates: [] };
        done();
      };
      const failed = (err: unknown) => {
        if (!(err instanceof ForbiddenError)) return m.reply.fail(err);
        // A full group refuses the whole batch: the members that got in are given back first.
        refusal = err;
        lost++;
        done();
      };
      submit(p.claim, done, () => { lost++; done(); }, failed, onHeld);
    }
  };

  /** A deleted compute service: out of memory at once (no new decision picks it), then out of the ledger. */
  const forgetHost = (m: Extract<Msg, { kind: 'forget' }>): void => {
    if (!states.forget(m.host)) {
      m.reply?.fail(new ConflictError(`Host ${m.host} still has allocations; it cannot be removed.`));
      return;
    }
    events.emit('forget', m.host);
    if (!m.reply) return;
    const reply = m.reply;
    ledger.removeProvider(m.host).then(
      (removed) => (removed ? reply.ok({ host: m.host }) : reply.fail(new ConflictError(`Host ${m.host} still has allocations; it cannot be removed.`))),
      (err) => reply.fail(err),
    );
  };

  // Role-critical: a spent restart budget rebuilds the host states from the ledger, then (if that
  // keeps failing) makes the role unhealthy and answers 503, never silence.
  const rebuild = async () => {
    await Promise.all([claims.drain(), releases.drain()]);
    states.reload(await ledger.snapshot(), await ledger.allocations());
  };
  self = new CriticalActor<Msg>('scheduler', () => ({
    init: () => null,
    ...(cfg.critical?.actor ? { restart: cfg.critical.actor } : {}),
    handle: (state, m) => {
      switch (m.kind) {
        case 'crash':
          throw new Error('chaos: scheduler crash requested');
        case 'run':
          m.fn();
          break;
        case 'select':
          decide(m);
          break;
        case 'selectBatch':
          decideBatch(m);
          break;
        case 'claim': {
          if (!states.get(m.req.host)) {
            m.reply.fail(new NotFoundError(`host ${m.req.host} is unknown to the scheduler`));
            break;
          }
          const claim: Claim = { consumer: m.req.instanceUuid, provider: m.req.host, projectId: m.req.projectId, resources: m.req.resources, move: true };
          states.claim(claim.consumer, claim.provider, claim.resources);
          submit(
            claim,
            () => m.reply.ok({ host: m.req.host }),
            () => m.reply.fail(new NoValidHostError(`host ${m.req.host} no longer has room`)),
            (err) => m.reply.fail(err),
          );
          break;
        }
        case 'claimed': {
          const c = m.claim;
          if (m.result.ok) {
            share((d) => d.claims.push(c.group ? { consumer: c.consumer, host: c.provider, resources: c.resources, group: c.group } : { consumer: c.consumer, host: c.provider, resources: c.resources }));
            m.then();
          } else if ('held' in m.result) {
            // An earlier claim for this instance won (a retried select, or another replica): that is the answer.
            states.claim(c.consumer, m.result.held, c.resources);
            m.held(m.result.held);
          } else {
            stats.lostClaims++;
            if (states.allocationOf(c.consumer)?.host === c.provider) states.unclaim(c.consumer);
            if (c.group !== undefined) catalog.leave(c.consumer);
            states.refreshUsed(c.provider, m.result.used);
            // A full group is an answer (Nova's 403), not a race to decide again.
            if ('group' in m.result && m.result.group === 'full') m.fail(GROUP_FULL());
            else m.lost();
          }
          const waiting = pending.get(c.consumer) ?? [];
          pending.delete(c.consumer);
          for (const w of waiting) self.tell(w);
          break;
        }
        case 'release':
          states.unclaim(m.consumer);
          catalog.leave(m.consumer);
          releases.add(m.consumer).then(
            (released) => {
              share((d) => d.releases.push(m.consumer));
              m.reply.ok({ released });
            },
            (err) => m.reply.fail(err),
          );
          break;
        case 'delta':
          for (const c of m.delta.claims) {
            states.claim(c.consumer, c.host, c.resources);
            if (c.group !== undefined) catalog.join(c.group, c.consumer);
          }
          for (const r of m.delta.releases) {
            states.unclaim(r);
            catalog.leave(r);
          }
          break;
        case 'service':
          states.setEnabled(m.host, m.enabled);
          events.emit('service', m.host, m.enabled);
          break;
        case 'forget':
          forgetHost(m);
          break;
        case 'catalog':
          states.refreshPlacement(m.hosts);
          // Aggregate metadata may carry allocation ratios: the ledger's capacity follows.
          for (const [host, inv] of states.recomputeInventories(m.hosts)) writeInventory(host, inv);
          break;
        case 'report': {
          const inv = states.applyReport(m.report, m.at);
          if (inv) writeInventory(m.report.host, inv);
          else events.emit('report', m.report.host);
          break;
        }
        case 'get':
          m.reply.ok({
            replica,
            hosts: states.size,
            decisions: stats.decisions,
            noValidHost: stats.noValidHost,
            lostClaims: stats.lostClaims,
            claimBatches: claims.batches,
            claimsBatched: claims.items,
          });
          break;
      }
      return state;
    },
  }), { actors, log, health, rebuild, ...(cfg.critical?.role ? { policy: cfg.critical.role } : {}) });

  const ask = <R>(make: (reply: ReplyTo<R>) => Msg) => self.ask<R>(make, ctx.requestTimeoutMs);
  const svc = await bridge.addService('novact-scheduler', 'placement decisions, the claim ledger, aggregates and server groups', () => ({
    hosts: states.size, decisions: stats.decisions, noValidHost: stats.noValidHost, lostClaims: stats.lostClaims, restarts: actors.stats.restarts,
    health: health.status, roleRestarts: health.snapshot().roleRestarts,
  }));
  // Bodies are validated against the catalog before these run (a 400 otherwise).
  const opts = { queue: 'scheduler' };
  bridge.endpoint(svc, Select, (body, { envelope }) =>
    ask<SelectReply>((reply) => ({ kind: 'select', req: normaliseSelect(body), reply, tries: 0, deadline: envelope.deadline })), opts);
  bridge.endpoint(svc, SelectBatch, (body) => {
    const reqs = normaliseBatch(body);
    return ask<SelectBatchReply>((reply) => ({ kind: 'selectBatch', reqs, reply, tries: 0 }));
  }, opts);
  bridge.endpoint(svc, ClaimDef, (body) => {
    const req = { ...body, instanceUuid: body.instanceUuid.toLowerCase() };
    return ask<ClaimReply>((reply) => ({ kind: 'claim', req, reply }));
  }, opts);
  bridge.endpoint(svc, Release, (body) => {
    const consumer = body.instanceUuid.toLowerCase();
    return ask<{ released: number }>((reply) => ({ kind: 'release', consumer, reply }));
  }, opts);
  // Move allocations (moves.ts); confirming a move is releasing its migration consumer.
  bridge.endpoint(svc, MoveClaim, (body) => {
    const req = { ...body, instanceUuid: body.instanceUuid.toLowerCase(), migrationUuid: body.migrationUuid.toLowerCase(), ...(body.group ? { group: body.group.toLowerCase() } : {}) };
    return ask<{ host: string }>((reply) => ({ kind: 'run', fn: () => moves.claim(req, reply) }));
  }, opts);
  bridge.endpoint(svc, RevertMove, (body) => {
    const req = { instanceUuid: body.instanceUuid.toLowerCase(), migrationUuid: body.migrationUuid.toLowerCase() };
    return ask<{ host: string | null }>((reply) => ({ kind: 'run', fn: () => moves.revert(req, reply) }));
  }, opts);
  bridge.endpoint(svc, ConfirmMove, (body) => {
    const consumer = body.migrationUuid.toLowerCase();
    return ask<{ released: number }>((reply) => ({ kind: 'release', consumer, reply }));
  }, opts);
  bridge.endpoint(svc, SchedulerGet, () => ask<Static<typeof SchedulerGet.reply>>((reply) => ({ kind: 'get', reply })), opts);
  bridge.endpoint(svc, ForgetHost, (body) => ask<{ host: string }>((reply) => ({ kind: 'forget', host: body.host, reply })), opts);
  serveCatalog(ctx, svc, catalog, replica, (hosts) => self.tell({ kind: 'catalog', hosts }));

  // Every replica needs every report, delta and catalog change: no queue group here. Each message
  // is checked against its catalog schema (a report's host must be its subject's); what does not
  // fit is dropped and counted by the bridge, and never reaches the actor (C3).
  bridge.on(CapacityReportMsg, (report) => self.tell({ kind: 'report', report, at: clock.now() }));
  // Liveness is applied at once, not queued behind a backlog of selects: under overload a host must
  // not look dead just because the scheduler is busy (decisions are synchronous, so this is safe).
  // The receiver's clock decides liveness, never the sender's `sentAt` (C4).
  bridge.on(HeartbeatMsg, (hb) => states.heartbeat(hb.host, clock.now()));
  bridge.on(DeltaMsg, (delta) => {
    if (delta.replica !== replica) self.tell({ kind: 'delta', delta });
  });
  const onCatalogEvent = (e: { replica: string }) => {
    if (e.replica === replica) return;
    catalog.load().then(
      () => self.tell({ kind: 'catalog', hosts: undefined }),
      (err) => log.error('catalog reload failed', errorFields(err)),
    );
  };
  bridge.on(AggregateEvent, onCatalogEvent);
  // os-services disable/enable/force-down, announced by the conductor: ComputeFilter follows.
  bridge.on(ServiceEvent, ({ service }) => {
    self.tell({ kind: 'service', host: service.host, enabled: service.status === 'enabled' && service.forcedDown !== true });
  });
  // A deleted compute service (os-services DELETE): the other replicas forget the host too.
  bridge.on(ServiceDeleteEvent, ({ service }) => self.tell({ kind: 'forget', host: service.host }));
  bridge.on(ServerGroupEvent, onCatalogEvent);

  return {
    name: 'scheduler',
    stats,
    states,
    catalog,
    events,
    bus: bridge.stats,
    inventoriesWritten: () => inventories.drain(),
    health: () => health.snapshot(),
    crash: () => self.tell({ kind: 'crash' }),
    async stop() {
      stopped = true;
      self.stop();
      await Promise.all([inventories.drain(), releases.drain()]);
    },
  };
}
