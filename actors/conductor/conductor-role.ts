/**
 * The conductor role: owner of every instance. A supervised `conductor` actor is the parent of the
 * instance actors; when it restarts (its children die with it) it sweeps the database for
 * instances with an unfinished task and resumes them. It also answers builds, listings, flavors, and
 * writes compute node records from the hosts' reports.
 */
import { BadRequestError, NoValidHostError, NotFoundError, NovactError } from '../../protocols/errors.js';
import type { BuildReply, SelectBatchReply, FlavorListReply, FlavorReply, ServerView } from '../../protocols/messages.js';
import type { ImageMeta } from '../../protocols/resources.js';
import type { VmState } from '../../protocols/states.js';
import { fieldsOf, isUuid, optInt, optStr } from '../../protocols/validate.js';
import { Instance, type InstanceRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import { EntityRegistry } from '../../runtime/actors/registry.js';
import { CriticalActor, type CriticalPolicy } from '../../runtime/actors/critical.js';
import { RoleHealth, type HealthView } from '../../runtime/health.js';
import { NegativeCache } from '../../runtime/negative-cache.js';
import type { ActorRef } from '../../runtime/actors/system.js';
import type { Timer } from '../../runtime/clock.js';
import { errorFields } from '../../runtime/log/logger.js';
import { Build, FlavorGet, FlavorList, Hosts, List, Status } from '../../protocols/catalog/conductor.js';
import { InstanceVerbs } from '../../protocols/catalog/instance.js';
import { CapacityReportMsg, HeartbeatMsg, PowerSyncMsg } from '../../protocols/catalog/reports.js';
import { ensureEventStream } from '../../runtime/nats/event-stream.js';
import type { BridgeStats } from '../../runtime/nats/bridge.js';
import type { Role, RoleContext } from '../../runtime/role.js';
import { checkFits, newInstanceRow, parseBuild } from './build-request.js';
import { ComputeNodeWriter } from './compute-nodes.js';
import { EffectRunner, jitteredBackoff, selectRequestFor, type EffectTimeouts } from './effects.js';
import { FlavorCatalog } from './flavors.js';
import { ImageCache } from './image-cache.js';
import { instanceActorDef, type InstanceMsg } from './instance-actor.js';
import { InstanceStore } from './instance-store.js';
import { serverView } from './views.js';
import { olderThan, serverPage } from './server-page.js';
import { registerConductorApiVerbs } from './api-verbs.js';
import { registerHostGuestsVerb } from './host-guests.js';
import { MigrationStore } from './migration-store.js';
import { registerMigrationVerbs } from './migration-verbs.js';
import { migrationWriter } from './migration-writes.js';
import { startResizeConfirmSweep } from './resize-confirm-sweep.js';
import type { LifecycleConfig } from '../../protocols/lifecycle.js';
import { PowerSyncRouter, type PowerSyncStats } from './power-sync-router.js';
import { startTimedSweeps } from './lifecycle-sweeps.js';
import { batchObserver } from '../../runtime/metrics/batch-metrics.js';
import { InstanceTally } from './instance-tally.js';
import { hostSummary } from './host-summary.js';

export interface ConductorConfig extends EffectTimeouts {
  /** Passivate instance actors idle this long. */
  instanceIdleMs: number;
  /** Nova's lifecycle settings (reclaim interval, resize confirm window, shelve offload time, same-host resize). */
  lifecycle?: LifecycleConfig;
  /** Resume instances whose task has not moved for this long (a lost effect). */
  stuckAfterMs: number;
  sweepIntervalMs: number;
  serviceDownTimeMs: number;
  computeNodeFlushMs: number;
  /** Limits of the JetStream stream that keeps notifications. */
  eventRetentionMs: number;
  eventRetentionMessages: number;
  /** Role-level restarts of the conductor actor once its own restart budget is spent. */
  critical?: Partial<CriticalPolicy>;
}

export const DEFAULT_CONDUCTOR_CONFIG: ConductorConfig = {
  requestTimeoutMs: 10_000,
  spawnTimeoutMs: 60_000,
  powerTimeoutMs: 30_000,
  convergeAttempts: 6,
  instanceIdleMs: 300_000,
  stuckAfterMs: 300_000,
  sweepIntervalMs: 60_000,
  serviceDownTimeMs: 60_000,
  computeNodeFlushMs: 1_000,
  eventRetentionMs: 24 * 3_600_000,
  eventRetentionMessages: 1_000_000,
};

/**
 * A build's reply. One request made every instance of a multi-create, so they share its metadata:
 * it is carried once, in `server` (`servers` omit it), or 100 servers of large metadata would be over
 * the bus's 1 MiB.
 */
function buildReply(servers: ServerView[]): BuildReply {
  return { server: servers[0]!, servers: servers.length === 1 ? servers : servers.map((s, i) => (i === 0 ? s : { ...s, metadata: {} })), sharedMetadata: servers.length > 1 };
}

/** A multi-create's select-batch: the first try and two more (a lost reply, a scheduler restart). */
const BATCH_SELECT_ATTEMPTS = 3;

type ConductorMsg = { kind: 'sweep'; olderThanMs: number } | { kind: 'crash' };

export interface ConductorRole extends Role {
  /** Chaos hook: crash the conductor actor (its instance actors die with it). */
  crash(): void;
  /** Chaos hook: crash one instance actor. */
  crashInstance(uuid: string): void;
  readonly store: InstanceStore;
  readonly computeNodes: ComputeNodeWriter;
  health(): HealthView;
  /** Instance actors alive right now. */
  readonly liveInstanceActors: number;
  /** What this role's bus bridge dropped, survived or was refused. */
  readonly bus: BridgeStats;
  /** Power sync: reports received, observations sent to instance actors or skipped. */
  readonly powerSync: { readonly stats: PowerSyncStats };
  /** Instances by state, builds by outcome, reschedules, the newest faults (from the writes). */
  readonly tally: InstanceTally;
}

const STATUS_TO_VM: Record<string, VmState> = {
  ACTIVE: 'active', BUILD: 'building', SHUTOFF: 'stopped', ERROR: 'error', PAUSED: 'paused', SUSPENDED: 'suspended', DELETED: 'deleted',
};

/** `readOrm` serves the tenant-driven listings (its own bounded pool, short statement timeout). */
export async function startConductorRole(ctx: RoleContext, orm: Orm, cfg: ConductorConfig = DEFAULT_CONDUCTOR_CONFIG, readOrm: Orm = orm): Promise<ConductorRole> {
  const { bridge, subjects, actors, clock, log } = ctx;
  const flavors = new FlavorCatalog(orm);
  await flavors.load();
  const images = new ImageCache(bridge, subjects, clock, cfg.requestTimeoutMs);
  const store = new InstanceStore(orm, batchObserver(ctx.metrics, 'instance_writes'));
  // Counted before anything is served: every write from now on moves the counts.
  const tally = new InstanceTally(() => clock.now());
  await tally.load(orm);
  const unwatch = ctx.metrics ? tally.watch(ctx.metrics) : () => undefined;
  const extraSpecs = (id: string) => flavors.find(id)?.extraSpecs ?? {};
  const computeNodes = new ComputeNodeWriter(orm, clock, log, cfg.serviceDownTimeMs);
  const effects = new EffectRunner({ bridge, subjects, clock, log, images, extraSpecs, timeouts: cfg, hostDown: (h) => computeNodes.isDown(h) });
  const adopted = new Map<string, InstanceRow>();
  const missing = new NegativeCache(clock);
  let stopped = false;

  const sweep = async (olderThanMs: number): Promise<void> => {
    const cutoff = new Date(clock.now() - olderThanMs);
    const rows = await orm.em.fork().find(
      Instance,
      { deletedAt: null, $or: [{ taskState: { $ne: null } }, { vmState: 'building' }], updatedAt: { $lte: cutoff } },
      { fields: ['uuid'], limit: 10_000 },
    );
    for (const r of rows) registry.tell(r.uuid, { kind: 'resume' });
    if (rows.length > 0) log.info('resumed unfinished instances', { count: rows.length });
  };

  // Role-critical: when its restart budget is spent the role restarts it (the new one sweeps and
  // resumes every instance), and past that budget the role is unhealthy and answers 503.
  const health = new RoleHealth('conductor', () => clock.now());
  let starts = 0;
  const conductor = new CriticalActor<ConductorMsg>('conductor', () => ({
    init: (c) => {
      // After a restart every instance actor is gone: pick up whatever they were doing.
      if (starts++ > 0) queueMicrotask(() => c.self.tell({ kind: 'sweep', olderThanMs: 0 }));
      return null;
    },
    handle: async (s, m) => {
      if (m.kind === 'crash') throw new Error('chaos: conductor crash requested');
      await sweep(m.olderThanMs).catch((err) => log.error('instance sweep failed', errorFields(err)));
      return s;
    },
  }), { actors, log, health, ...(cfg.critical ? { policy: cfg.critical } : {}) });

  const migrationStore = new MigrationStore(orm, readOrm);
  const registry: EntityRegistry<InstanceMsg> = new EntityRegistry<InstanceMsg>(actors, () => conductor.ref as ActorRef<unknown>, 'instance', (uuid) => {
    const row = adopted.get(uuid);
    adopted.delete(uuid);
    return instanceActorDef(
      uuid,
      {
        orm, store, effects, clock, tally, idleShutdownMs: cfg.instanceIdleMs, missing: (id) => missing.add(id),
        migrations: migrationWriter(migrationStore),
        hostDown: (h) => computeNodes.isDown(h),
        ...(cfg.lifecycle ? { lifecycle: cfg.lifecycle } : {}),
        flavor: (ref) => {
          const f = flavors.find(ref);
          return f && { id: f.id, name: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb, rootGb: f.diskGb, ephemeralGb: f.ephemeralGb, swapMb: f.swapMb };
        },
        deliver: (id, outcome) => {
          // After stop() outcomes have nowhere to go; the next start resumes from the database.
          if (!stopped) registry.tell(id, { kind: 'outcome', outcome });
        },
      },
      row,
    );
  });

  /**
   * Multi-create: one all-or-nothing placement for the whole batch, then each actor takes over. A
   * batch whose reply is lost or late is asked again under the same key, a bounded number of times
   * with jittered backoff (the scheduler answers a repeated select with the claims it already holds);
   * it never falls back to one select per instance, which multiplied the load on a scheduler that had
   * just timed out (L10).
   */
  const placeBatch = async (rows: InstanceRow[], image: ImageMeta): Promise<void> => {
    const body = { requests: rows.map((row) => selectRequestFor(row, image, extraSpecs(row.flavorId))) };
    // The first issue of `scheduling` (attempt 0) is this batch's select; each actor awaits it.
    const token = { step: 'scheduling', attempt: 0 } as const;
    for (const row of rows) registry.tell(row.uuid, { kind: 'build', placed: true });
    const failAll = (message: string) => {
      for (const row of rows) registry.tell(row.uuid, { kind: 'outcome', outcome: { kind: 'scheduleFailed', token, message } });
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await bridge.request<SelectBatchReply>(subjects.scheduler('select-batch'), 'select-batch', body, {
          timeoutMs: cfg.requestTimeoutMs, idempotencyKey: `${rows[0]!.uuid}.select-batch`,
        });
        rows.forEach((row, i) => {
          const p = r.placements[i]!;
          registry.tell(row.uuid, { kind: 'outcome', outcome: { kind: 'scheduled', token, host: p.host, alternates: p.alternates } });
        });
        return;
      } catch (err) {
        const retryable = err instanceof NovactError && err.retryable && !(err instanceof NoValidHostError);
        if (!retryable || attempt + 1 >= BATCH_SELECT_ATTEMPTS) {
          if (!(err instanceof NoValidHostError)) log.warn('batch placement failed', { ...errorFields(err), attempts: attempt + 1, instances: rows.length });
          failAll(err instanceof Error ? err.message : String(err));
          return;
        }
        await clock.sleep(jitteredBackoff(attempt));
      }
    }
  };

  const svc = await bridge.addService('novact-conductor', 'instance owners: lifecycle, builds, listings', () => ({
    liveInstanceActors: registry.size,
    missingCached: missing.size,
    restarts: actors.stats.restarts,
    lastError: actors.stats.lastError,
    writeBatches: store.stats.batches,
    writesBatched: store.stats.items,
    health: health.status,
    pendingDestroys: effects.pendingDestroys,
  }));
  // Every body is checked against its catalog schema before these handlers run.
  const opts = { queue: 'conductor' };

  bridge.endpoint(svc, Build, async (body, { envelope }) => {
    health.check();
    const req = parseBuild(body as Record<string, unknown>);
    const flavor = flavors.find(req.flavorRef);
    if (!flavor) throw new BadRequestError(`Flavor ${req.flavorRef} could not be found.`);
    const image = await images.bootable(req.imageRef);
    checkFits(flavor, image);
    const group = req.schedulerHints?.group;
    if (typeof group === 'string') {
      // Nova refuses a build into a group that does not exist before creating anything.
      await bridge.request(subjects.serverGroup('get'), 'get', { id: group }, { timeoutMs: cfg.requestTimeoutMs }).catch((err) => {
        if (err instanceof NotFoundError) throw new BadRequestError(`Invalid server group ${group}: it does not exist.`);
        throw err;
      });
    }
    const key = `${req.projectId ?? 'default'}:${envelope.idempotencyKey}`;
    const count = req.maxCount ?? req.minCount ?? 1;
    const now = new Date(clock.now());
    const rows = Array.from({ length: count }, (_, i) =>
      newInstanceRow(count > 1 ? { ...req, name: `${req.name}-${i + 1}` } : req, flavor, image, count > 1 ? `${key}:${i + 1}` : key, now),
    );
    const inserted = await Promise.all(rows.map((row) => store.insert(row, {
      instanceUuid: row.uuid, action: 'create', requestId: envelope.idempotencyKey!, projectId: row.projectId, userId: row.userId, at: row.createdAt,
    })));
    if (!inserted.every(Boolean)) {
      // A retried build: answer with the instances the first attempt made.
      const existing = await orm.em.fork().find(Instance, { idempotencyKey: { $in: rows.map((r) => r.idempotencyKey!) } }, { orderBy: { name: 'asc' } });
      if (existing.length !== rows.length) throw new BadRequestError('idempotency key collision; retry with a new key');
      return buildReply(existing.map(serverView));
    }
    for (const row of rows) {
      tally.added(row);
      missing.delete(row.uuid);
      adopted.set(row.uuid, row);
      effects.run(row, { kind: 'notify', event: 'create.start' }, () => serverView(row), () => undefined);
    }
    if (count === 1) registry.tell(rows[0]!.uuid, { kind: 'build' });
    else void placeBatch(rows, image);
    return buildReply(rows.map(serverView));
  }, opts);

  bridge.endpoint(svc, List, async (body) => {
    const o = fieldsOf(body, ['projectId', 'name', 'status', 'host', 'limit', 'marker'], 'list');
    const projectId = optStr(o, 'projectId', { max: 64 });
    const name = optStr(o, 'name');
    const status = optStr(o, 'status', { max: 32 });
    const host = optStr(o, 'host');
    const marker = optStr(o, 'marker', { max: 36 });
    const limit = optInt(o, 'limit', { min: 1, max: 1000 }) ?? 1000;
    const where: Record<string, unknown> = { deletedAt: null };
    if (projectId !== undefined) where.projectId = projectId;
    if (name !== undefined) where.name = name;
    if (host !== undefined) where.host = host;
    if (status !== undefined) {
      const vm = STATUS_TO_VM[status.toUpperCase()];
      if (!vm) throw new BadRequestError(`unknown status filter '${status}'`);
      where.vmState = vm;
      if (vm === 'deleted') delete where.deletedAt;
    }
    const em = orm.em.fork();
    if (marker !== undefined) {
      const m = isUuid(marker) ? await em.findOne(Instance, { uuid: marker }) : null;
      if (!m) throw new BadRequestError(`marker [${marker}] not found`);
      where.$or = olderThan(m).$or;
    }
    return serverPage(em, [where], limit);
  }, opts);

  bridge.endpoint(svc, Hosts, (body) => computeNodes.list(body), opts);
  bridge.endpoint(svc, Status, async () => ({
    instances: tally.states(), builds: { ...tally.builds }, reschedules: tally.reschedules,
    hosts: await hostSummary(readOrm, clock.now() - cfg.serviceDownTimeMs), recentFaults: tally.recentFaults(),
  }), opts);

  bridge.endpointFamily(svc, InstanceVerbs, ({ subject, verb, envelope }) => {
    health.check();
    const parsed = subjects.parseEntity(subject, 'instance');
    if (!parsed || !isUuid(parsed.id)) throw new NotFoundError(`Instance ${parsed?.id ?? subject} could not be found.`);
    const id = parsed.id.toLowerCase();
    if (missing.has(id)) throw new NotFoundError(`Instance ${id} could not be found.`);
    return registry.ask<unknown>(
      id,
      (reply) => ({ kind: 'request', verb, body: envelope.body, requestId: envelope.id, key: envelope.idempotencyKey, reply }),
      Math.max(1, envelope.deadline - clock.now()),
    );
  }, opts);

  bridge.endpoint(svc, FlavorList, () => ({ flavors: flavors.list() }) satisfies FlavorListReply, { ...opts, name: 'flavor-list' });
  bridge.endpoint(svc, FlavorGet, (body) => ({ flavor: flavors.get(body.id) }) satisfies FlavorReply, { ...opts, name: 'flavor-get' });
  registerConductorApiVerbs({
    bridge, svc, subjects, orm, readOrm, clock, flavors, serviceDownTimeMs: cfg.serviceDownTimeMs, requestTimeoutMs: cfg.requestTimeoutMs,
    forgetReports: (host) => computeNodes.forget(host),
  });
  registerHostGuestsVerb(bridge, svc, subjects, orm);
  registerMigrationVerbs(bridge, svc, migrationStore);

  // One conductor writes each report (queue group); the records back `host list`.
  // Validated by the catalog (host = subject's host, bounded numbers); the receive time is what counts (C4).
  bridge.on(CapacityReportMsg, (r) => computeNodes.report(r, clock.now()), 'conductor');
  bridge.on(HeartbeatMsg, (hb) => computeNodes.heartbeat(hb, clock.now()), 'conductor');
  computeNodes.start(cfg.computeNodeFlushMs);
  // Power sync (Nova's _sync_power_states): observations reach an instance's actor only when they matter.
  const powerSync = new PowerSyncRouter(readOrm, (uuid, event) => {
    if (!stopped && !missing.has(uuid)) registry.tell(uuid, { kind: 'observed', event });
  }, log);
  bridge.on(PowerSyncMsg, (r) => void powerSync.report(r), 'conductor');
  await ensureEventStream(bridge.nc, subjects.allEvents, log, {
    name: `${subjects.root.replace(/\./g, '_').toUpperCase()}_EVENTS`,
    maxAgeMs: cfg.eventRetentionMs,
    maxMessages: cfg.eventRetentionMessages,
  });

  await sweep(0);
  const timers: Timer[] = [clock.setInterval(() => conductor.tell({ kind: 'sweep', olderThanMs: cfg.stuckAfterMs }), cfg.sweepIntervalMs)];
  // Resizes left unconfirmed past the window are confirmed by the system (an admin caller).
  const autoConfirm = startResizeConfirmSweep({
    orm, clock, log, windowS: cfg.lifecycle?.resizeConfirmWindowS ?? 0, intervalMs: cfg.sweepIntervalMs,
    confirm: (uuid) => registry.ask(uuid, (reply) => ({ kind: 'request', verb: 'confirmResize', body: {}, requestId: `auto-confirm-${uuid}`, key: undefined, reply }), cfg.requestTimeoutMs),
  });
  if (autoConfirm) timers.push(autoConfirm);
  timers.push(startTimedSweeps({ orm, log, clock, config: cfg.lifecycle, intervalMs: cfg.sweepIntervalMs, requestTimeoutMs: cfg.requestTimeoutMs, registry }));

  return {
    name: 'conductor',
    store,
    computeNodes,
    bus: bridge.stats,
    powerSync,
    tally,
    crash: () => conductor.tell({ kind: 'crash' }),
    health: () => health.snapshot(),
    crashInstance: (uuid) => registry.tell(uuid, { kind: 'crash' }),
    get liveInstanceActors() {
      return registry.size;
    },
    async stop() {
      stopped = true;
      unwatch();
      effects.stop();
      for (const t of timers) t.cancel();
      registry.stopAll();
      conductor.stop();
      await computeNodes.stop();
    },
  };
}
