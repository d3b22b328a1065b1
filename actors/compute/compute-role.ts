/**
 * The compute role: any number of hosts in one process (one for a real hypervisor, thousands of
 * fake ones in a simulation). Each host is a small record (host-record.ts) plus, while it has
 * requests to serve, a supervised virtual actor (host-actor.ts) reached through its NATS subjects
 * (host-router.ts). Shared tickers publish every host's heartbeat and periodic capacity report from
 * the records, spread over each interval (spread-ticker.ts), without a timer per host and without
 * waking idle hosts' actors. Before any request is routed, each driver gets its host's services
 * (image downloads over that host's own subjects) and is initialised.
 */
import { EventEmitter } from 'node:events';
import type { BridgeSubscription } from '../../runtime/nats/bridge.js';
import { createSnapshotSink } from './image-sink.js';
import { hostImageFetcher } from './image-fetcher.js';
import type { HypervisorDriver } from '../../hosts/driver.js';
import { NotFoundError } from '../../protocols/errors.js';
import { EntityRegistry } from '../../runtime/actors/registry.js';
import type { Timer } from '../../runtime/clock.js';
import { ComputeHosts } from '../../protocols/catalog/host.js';
import type { Role, RoleContext } from '../../runtime/role.js';
import { hostActorDef, type HostMsg } from './host-actor.js';
import { newHostRecord, type ComputeHostView, type HostRecord } from './host-record.js';
import { HostReports } from './host-reports.js';
import { routeHostRequests, type HostRouting } from './host-router.js';
import { spreadTicker } from './spread-ticker.js';
import { GuestReaper, type ReapStats } from './guest-reaper.js';
import { instanceOf, type HostVerbDeps } from './host-verbs.js';
import { withSubject } from '../../runtime/trace/scope.js';
import { PowerSync } from './power-sync.js';
import { HostFence } from './host-fence.js';
import { HostLeases } from './host-lease.js';
import type { FenceAction } from '../../protocols/liveness.js';

export type { ComputeHostView } from './host-record.js';

export interface ComputeHost {
  name: string;
  driver: HypervisorDriver;
  availabilityZone?: string | null;
}

export interface ComputeConfig {
  /** Capacity reports besides the ones sent right after a change (Nova: update_resources_interval). */
  reportIntervalMs: number;
  /** Liveness (Nova: report_interval, 10 s). */
  heartbeatIntervalMs: number;
  /**
   * Self-fencing (host-fence.ts): `off` (Nova's behaviour, the default: heartbeats are
   * fire-and-forget), or what a host does to its guests once its liveness lease lapses.
   */
  fence: FenceAction;
  /** With fencing on, the lease every host holds at start before its first acknowledgement (default 3 heartbeats). */
  fenceGraceMs?: number;
  /**
   * With more hosts than this, one wildcard subscription (`<root>.host.*.*`) serves them all instead
   * of one per host. Only for an identity the server allows every host name (a trusted fleet
   * simulator): a host identity may subscribe only its own hosts' subjects, so the default is never.
   */
  wildcardSubscriptionAbove: number;
  /** A host's actor is passivated after this long without a request (its record stays). */
  hostIdleMs: number;
  /**
   * Every host reconciles its guests with the conductor once at start and then this often, and
   * destroys guests with no live instance on it (Nova: running_deleted_instance_poll_interval).
   * 0 turns reaping off.
   */
  reconcileIntervalMs: number;
  /** Every host lists its guests' power states to the conductor this often (Nova: sync_power_state_interval). 0: never. */
  powerSyncIntervalMs: number;
  /**
   * Also list them with every capacity report. Off by default: each listing costs the conductor a
   * query, and at 10,000 hosts reporting every 10 s that would be 1,000 a second; driver events
   * carry the fast path, the 600 s listing the rest (as Nova).
   */
  powerSyncOnReport: boolean;
  /**
   * Where snapshots' bytes go (an `ImageDataSink` per image), injected by the composition root;
   * without one the `snapshot` verb is refused.
   */
  snapshotSink?: HostVerbDeps['snapshotSink'];
  /** How long a driver's `init` may take (a real one connects to its hypervisor) before the role fails to start. */
  driverInitTimeoutMs: number;
}

export const DEFAULT_COMPUTE_CONFIG: ComputeConfig = {
  reportIntervalMs: 60_000,
  heartbeatIntervalMs: 10_000,
  fence: 'off',
  wildcardSubscriptionAbove: Number.POSITIVE_INFINITY,
  hostIdleMs: 60_000,
  reconcileIntervalMs: 600_000,
  powerSyncIntervalMs: 600_000,
  powerSyncOnReport: false,
  driverInitTimeoutMs: 60_000,
};

export interface ComputeRole extends Role {
  readonly hosts: ReadonlyMap<string, ComputeHostView>;
  readonly routing: HostRouting;
  /** Host actors alive right now (idle hosts have none). */
  readonly liveHostActors: number;
  /**
   * `activated` (host) when a host's actor is spawned, `passivated` (host) when it stops; with
   * fencing on, `fenced` (host, stopped uuids) and `unfenced` (host, {reaped, started}).
   */
  readonly events: EventEmitter;
  /** Guest reconciliation: runs and guests reaped; `reconcile(host)` runs one now (tests, operators). */
  readonly reaper: { readonly stats: ReapStats; reconcile(host: string): Promise<string[]> };
}

export async function startComputeRole(ctx: RoleContext, hosts: ComputeHost[], config: Partial<ComputeConfig> = {}): Promise<ComputeRole> {
  const cfg = { ...DEFAULT_COMPUTE_CONFIG, ...config };
  const byName = new Map<string, HostRecord>();
  for (const h of hosts) {
    if (byName.has(h.name)) throw new Error(`duplicate host name ${h.name}`);
    byName.set(h.name, newHostRecord(h.name, h.driver, h.availabilityZone ?? null));
  }
  // Services first, then init (the driver's contract), for every host before it serves a request.
  await Promise.all(hosts.map(async (h) => {
    h.driver.attach?.({ images: hostImageFetcher(ctx.bridge, ctx.subjects, h.name, ctx.clock) });
    try {
      await h.driver.init({ deadlineMs: cfg.driverInitTimeoutMs });
    } catch (err) {
      throw new Error(`host ${h.name}: driver init failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }));
  const events = new EventEmitter();
  const sync = new PowerSync(ctx);
  // A capacity report, periodic or after a change, also lists the guests' power states.
  const reports = new HostReports(ctx, cfg.powerSyncOnReport ? (rec) => void sync.list(rec) : undefined);
  const capacity = (rec: HostRecord) => reports.capacity(rec);
  const reaper = new GuestReaper(ctx, ctx.log, (rec) => reports.changed(rec));
  const actorDeps = {
    // By default a snapshot's bytes go to the image role over the host's own snapshot subjects.
    verbs: { snapshotSink: cfg.snapshotSink ?? ((imageId: string, host: string) => createSnapshotSink(ctx.bridge, ctx.subjects, host, imageId)) },
    idleMs: cfg.hostIdleMs,
    changed: (rec: HostRecord) => reports.changed(rec),
    stopped: (rec: HostRecord) => events.emit('passivated', rec.name),
  };
  const registry = new EntityRegistry<HostMsg>(ctx.actors, undefined, 'host', (name) => {
    const rec = byName.get(name);
    if (!rec) throw new NotFoundError(`host ${name} is not served by this process`);
    events.emit('activated', name);
    return hostActorDef(rec, actorDeps);
  });

  const routing: HostRouting = byName.size > cfg.wildcardSubscriptionAbove ? 'wildcard' : 'per-host';
  const subs: BridgeSubscription[] = routeHostRequests(ctx, [...byName.keys()], routing, (name) => byName.has(name), (name, verb, env) =>
    // The host and instance go on every log line of the request (the host actor's too).
    withSubject({ host: name, instance: instanceOf(env.body) }, () => {
      if (ctx.log.isEnabled?.('debug')) ctx.log.debug('host verb', { verb });
      const leftMs = Math.max(1, env.deadline - ctx.clock.now());
      return registry.ask<unknown>(name, (reply) => ({ verb, body: env.body, key: env.idempotencyKey, deadlineMs: leftMs, reply }), leftMs);
    }),
  );

  const svc = await ctx.bridge.addService('novact-compute', 'host actors wrapping hypervisor drivers', () => ({
    hosts: byName.size,
    liveHostActors: registry.size,
    routing,
    restarts: ctx.actors.stats.restarts,
    lastError: ctx.actors.stats.lastError,
    reconcileRuns: reaper.stats.runs,
    guestsReaped: reaper.stats.reaped,
  }));
  // Lists this process's hosts; each compute process answers (no queue group), `nats req` takes the first.
  ctx.bridge.endpoint(svc, ComputeHosts, () => ({ hosts: [...byName.keys()] }));

  // Everyone reports at once on start (the scheduler waits for it), then spread over each interval.
  const records = [...byName.values()];
  await ctx.bridge.nc.flush();
  // With fencing on, heartbeats ask for a lease (host-lease.ts); a host back from fencing reports at once.
  const leases = cfg.fence === 'off' ? undefined : new HostLeases(ctx, new HostFence(ctx, cfg.fence, reaper, (rec) => {
    reports.changed(rec);
    void sync.list(rec);
  }, events), cfg.heartbeatIntervalMs);
  leases?.start(records, cfg.fenceGraceMs ?? 3 * cfg.heartbeatIntervalMs);
  const heartbeat = leases ? (rec: HostRecord) => leases.heartbeat(rec) : (rec: HostRecord) => reports.heartbeat(rec);
  for (const rec of records) {
    sync.watch(rec);
    capacity(rec);
    heartbeat(rec);
  }
  const timers: Timer[] = [
    spreadTicker(ctx.clock, records, cfg.reportIntervalMs, capacity),
    spreadTicker(ctx.clock, records, cfg.heartbeatIntervalMs, heartbeat),
  ];
  if (cfg.powerSyncIntervalMs > 0) timers.push(spreadTicker(ctx.clock, records, cfg.powerSyncIntervalMs, (rec) => void sync.list(rec)));
  if (cfg.reconcileIntervalMs > 0) {
    // Guests a restart found, or whose delete happened while this process was away (not awaited).
    void reaper.reconcileAll(records);
    timers.push(spreadTicker(ctx.clock, records, cfg.reconcileIntervalMs, (rec) => void reaper.reconcile(rec)));
  }

  return {
    name: 'compute',
    hosts: byName,
    routing,
    get liveHostActors() {
      return registry.size;
    },
    events,
    reaper: {
      stats: reaper.stats,
      reconcile: (host) => {
        const rec = byName.get(host);
        return rec ? reaper.reconcile(rec) : Promise.resolve([]);
      },
    },
    async stop() {
      leases?.stop();
      reaper.stop();
      sync.stop();
      for (const t of timers) t.cancel();
      for (const s of subs) s.unsubscribe();
      reports.stop();
      registry.stopAll();
      for (const rec of byName.values()) await rec.driver.close();
    },
  };
}
