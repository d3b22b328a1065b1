/**
 * The scheduler role: one actor owns the host states, so decisions are serialised without locks.
 * A `select` is decided in memory at once (filters, weighers, delta applied) and its claim joins the
 * next ledger batch; the reply waits for the ledger. A claim lost to another replica refreshes that
 * host from the ledger and decides again, up to a bound.
 */
import { EventEmitter } from 'node:events';
import { BadRequestError, NoValidHostError, NotFoundError } from '../../protocols/errors.js';
import type { ClaimReply, ClaimRequest, ReleaseRequest, SelectReply, SelectRequest } from '../../protocols/messages.js';
import type { CapacityReport, HeartbeatReport, Resources } from '../../protocols/resources.js';
import { fieldsOf, int, isUuid, optStr, str } from '../../protocols/validate.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import type { ActorRef } from '../../runtime/actors/system.js';
import { Batcher } from '../../runtime/batcher.js';
import { errorFields } from '../../runtime/log/logger.js';
import { isMutatingVerb } from '../../runtime/nats/bridge.js';
import type { Role, RoleContext } from '../../runtime/role.js';
import { DEFAULT_FILTERS, filtersByName } from './filters/index.js';
import { HostStates, DEFAULT_CAPACITY_POLICY, type CapacityPolicy } from './host-states.js';
import type { Claim, ClaimResult, PlacementLedger } from './ledger.js';
import { selectHosts } from './select.js';
import type { FilterContext, HostFilter, HostWeigher, RequestSpec } from './types.js';
import { RAMWeigher } from './weighers/RAMWeigher.js';

export interface SchedulerConfig {
  filters: readonly string[];
  extraFilters: HostFilter[];
  weighers: HostWeigher[] | undefined;
  capacity: CapacityPolicy;
  /** Chosen host plus alternates (Nova's `[scheduler] max_attempts`). */
  maxAttempts: number;
  hostSubsetSize: number;
  serviceDownTimeMs: number;
  maxInstancesPerHost: number;
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  filters: DEFAULT_FILTERS,
  extraFilters: [],
  weighers: undefined,
  capacity: DEFAULT_CAPACITY_POLICY,
  maxAttempts: 3,
  hostSubsetSize: 1,
  serviceDownTimeMs: 60_000,
  maxInstancesPerHost: 50,
};

type Msg =
  | { kind: 'select'; req: SelectRequest; reply: ReplyTo<SelectReply>; tries: number }
  | { kind: 'claim'; req: ClaimRequest; reply: ReplyTo<ClaimReply> }
  | { kind: 'release'; consumers: string[]; reply: ReplyTo<{ released: number }> }
  | { kind: 'claimed'; claim: Claim; result: ClaimResult; then: () => void; lost: () => void }
  | { kind: 'report'; report: CapacityReport }
  | { kind: 'heartbeat'; hb: HeartbeatReport }
  | { kind: 'get'; reply: ReplyTo<unknown> };

export interface SchedulerStats {
  decisions: number;
  noValidHost: number;
  lostClaims: number;
  decisionUs: number[];
}

const MAX_DECISION_TRIES = 4;

export function parseSelect(body: Record<string, unknown>): SelectRequest {
  const o = fieldsOf(body, ['instanceUuid', 'projectId', 'resources', 'flavor', 'image', 'availabilityZone', 'ignoreHosts', 'count'], 'select');
  const instanceUuid = str(o, 'instanceUuid', { pattern: /^[0-9a-f-]{36}$/i });
  const r = fieldsOf(o.resources, ['VCPU', 'MEMORY_MB', 'DISK_GB'], 'resources');
  const resources: Resources = { VCPU: int(r, 'VCPU'), MEMORY_MB: int(r, 'MEMORY_MB'), DISK_GB: int(r, 'DISK_GB') };
  const flavor = o.flavor as SelectRequest['flavor'];
  const image = o.image as SelectRequest['image'];
  if (typeof flavor !== 'object' || flavor === null || typeof image !== 'object' || image === null) throw new BadRequestError('select needs flavor and image');
  const ignore = o.ignoreHosts ?? [];
  if (!Array.isArray(ignore) || ignore.some((h) => typeof h !== 'string')) throw new BadRequestError("'ignoreHosts' must be a list of host names");
  const req: SelectRequest = {
    instanceUuid,
    projectId: str(o, 'projectId', { max: 64 }),
    resources,
    flavor: { id: String(flavor.id), name: String(flavor.name), extraSpecs: flavor.extraSpecs ?? {} },
    image: { id: String(image.id), properties: image.properties ?? {} },
    availabilityZone: optStr(o, 'availabilityZone') ?? null,
    ignoreHosts: ignore as string[],
  };
  if (o.count !== undefined) req.count = int(o, 'count', { min: 1, max: 10 });
  return req;
}

export interface SchedulerRole extends Role {
  readonly stats: SchedulerStats;
  readonly states: HostStates;
  /** Emits `report` (host name) after each capacity report is applied. */
  readonly events: EventEmitter;
}

export async function startSchedulerRole(ctx: RoleContext, ledger: PlacementLedger, cfg: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG): Promise<SchedulerRole> {
  const { bridge, subjects, actors, clock, log } = ctx;
  const states = new HostStates(cfg.capacity);
  states.load(await ledger.snapshot(), await ledger.allocations());
  const filters = [...filtersByName(cfg.filters), ...cfg.extraFilters];
  const weighers = cfg.weighers ?? [RAMWeigher()];
  const stats: SchedulerStats = { decisions: 0, noValidHost: 0, lostClaims: 0, decisionUs: [] };
  const claims = new Batcher<Claim, ClaimResult>((batch) => ledger.claimBatch(batch), { maxSize: 512, maxInFlight: 2 });
  const inventoryWrites = new Map<string, Promise<void>>();
  const events = new EventEmitter();

  let self!: ActorRef<Msg>;
  const submit = (claim: Claim, then: () => void, lost: () => void, fail: (e: unknown) => void) => {
    claims.add(claim).then(
      (result) => self.tell({ kind: 'claimed', claim, result, then, lost }),
      (err) => {
        self.tell({ kind: 'claimed', claim, result: { ok: false, used: {} }, then: () => undefined, lost: () => undefined });
        fail(err);
      },
    );
  };

  const decide = (m: Extract<Msg, { kind: 'select' }>): void => {
    const spec: RequestSpec = {
      instanceUuid: m.req.instanceUuid,
      projectId: m.req.projectId,
      resources: m.req.resources,
      flavor: m.req.flavor,
      image: m.req.image,
      availabilityZone: m.req.availabilityZone,
      ignoreHosts: m.req.ignoreHosts,
      schedulerHints: {},
    };
    // Selecting for an instance that already holds a claim answers that claim: a repeated select (a
    // resumed build, a retried request) must never leave the instance placed on one host and
    // charged on another.
    const held = states.allocationOf(spec.instanceUuid);
    if (held && !spec.ignoreHosts.includes(held.host)) {
      m.reply.ok({ host: held.host, alternates: [] });
      return;
    }
    const fctx: FilterContext = { now: clock.now(), serviceDownTimeMs: cfg.serviceDownTimeMs, maxInstancesPerHost: cfg.maxInstancesPerHost };
    const t0 = process.hrtime.bigint();
    const sel = selectHosts(states.all(), spec, filters, weighers, fctx, { count: m.req.count ?? cfg.maxAttempts, hostSubsetSize: cfg.hostSubsetSize });
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    stats.decisions++;
    if (stats.decisionUs.length < 100_000) stats.decisionUs.push(us);
    const [chosen, ...alternates] = sel.hosts;
    if (!chosen) {
      stats.noValidHost++;
      m.reply.fail(new NoValidHostError('No valid host was found. There are not enough hosts available.', { filters: sel.removedBy, hosts: states.size }));
      return;
    }
    const claim: Claim = { consumer: spec.instanceUuid, provider: chosen.host, projectId: spec.projectId, resources: spec.resources };
    states.claim(claim.consumer, claim.provider, claim.resources);
    submit(
      claim,
      () => m.reply.ok({ host: chosen.host, alternates: alternates.map((h) => h.host) }),
      () => {
        if (m.tries + 1 >= MAX_DECISION_TRIES) m.reply.fail(new NoValidHostError('No valid host was found: claims kept losing races with other schedulers.'));
        else self.tell({ ...m, tries: m.tries + 1 });
      },
      (err) => m.reply.fail(err),
    );
  };

  self = actors.spawn<null, Msg>('scheduler', {
    init: () => null,
    handle: (state, m) => {
      switch (m.kind) {
        case 'select':
          decide(m);
          break;
        case 'claim': {
          if (!states.get(m.req.host)) {
            m.reply.fail(new NotFoundError(`host ${m.req.host} is unknown to the scheduler`));
            break;
          }
          const claim: Claim = { consumer: m.req.instanceUuid, provider: m.req.host, projectId: m.req.projectId, resources: m.req.resources };
          states.claim(claim.consumer, claim.provider, claim.resources);
          submit(
            claim,
            () => m.reply.ok({ host: m.req.host }),
            () => m.reply.fail(new NoValidHostError(`host ${m.req.host} no longer has room`)),
            (err) => m.reply.fail(err),
          );
          break;
        }
        case 'claimed':
          if (m.result.ok) {
            m.then();
          } else {
            stats.lostClaims++;
            if (states.allocationOf(m.claim.consumer)?.host === m.claim.provider) states.unclaim(m.claim.consumer);
            states.refreshUsed(m.claim.provider, m.result.used);
            m.lost();
          }
          break;
        case 'release':
          for (const c of m.consumers) states.unclaim(c);
          ledger.release(m.consumers).then(
            (rel) => m.reply.ok({ released: rel.length }),
            (err) => m.reply.fail(err),
          );
          break;
        case 'report': {
          const inv = states.applyReport(m.report);
          if (inv) {
            const host = m.report.host;
            const prev = inventoryWrites.get(host) ?? Promise.resolve();
            const next = prev
              .then(() => ledger.setInventory(host, inv))
              .catch((err) => log.error('inventory write failed', { host, ...errorFields(err) }));
            inventoryWrites.set(host, next);
            void next.then(() => events.emit('report', host));
          } else {
            events.emit('report', m.report.host);
          }
          break;
        }
        case 'heartbeat':
          states.heartbeat(m.hb.host, m.hb.sentAt);
          break;
        case 'get':
          m.reply.ok({
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
  });

  const ask = <R>(make: (reply: ReplyTo<R>) => Msg) => self.ask<R>(make, ctx.requestTimeoutMs);
  const svc = await bridge.addService('novact-scheduler', 'placement decisions and the claim ledger', () => ({
    hosts: states.size, decisions: stats.decisions, noValidHost: stats.noValidHost, lostClaims: stats.lostClaims, restarts: actors.stats.restarts,
  }));
  const opts = { queue: 'scheduler', isMutating: isMutatingVerb };
  bridge.endpoint(svc, 'select', subjects.scheduler('select'), ({ envelope }) =>
    ask<SelectReply>((reply) => ({ kind: 'select', req: parseSelect(envelope.body), reply, tries: 0 })), opts);
  bridge.endpoint(svc, 'claim', subjects.scheduler('claim'), ({ envelope }) => {
    const o = fieldsOf(envelope.body, ['instanceUuid', 'projectId', 'host', 'resources'], 'claim');
    const r = fieldsOf(o.resources, ['VCPU', 'MEMORY_MB', 'DISK_GB'], 'resources');
    const req: ClaimRequest = {
      instanceUuid: str(o, 'instanceUuid', { pattern: /^[0-9a-f-]{36}$/i }),
      projectId: str(o, 'projectId', { max: 64 }),
      host: str(o, 'host'),
      resources: { VCPU: int(r, 'VCPU'), MEMORY_MB: int(r, 'MEMORY_MB'), DISK_GB: int(r, 'DISK_GB') },
    };
    return ask<ClaimReply>((reply) => ({ kind: 'claim', req, reply }));
  }, opts);
  bridge.endpoint(svc, 'release', subjects.scheduler('release'), ({ envelope }) => {
    const o = fieldsOf(envelope.body, ['instanceUuid'], 'release') as unknown as ReleaseRequest;
    if (typeof o.instanceUuid !== 'string' || !isUuid(o.instanceUuid)) throw new BadRequestError("'instanceUuid' must be a UUID");
    return ask<{ released: number }>((reply) => ({ kind: 'release', consumers: [o.instanceUuid], reply }));
  }, opts);
  bridge.endpoint(svc, 'get', subjects.scheduler('get'), () => ask<unknown>((reply) => ({ kind: 'get', reply })), opts);
  // Every replica needs every report: no queue group here.
  bridge.subscribe<CapacityReport>(subjects.allReports('capacity'), (report) => self.tell({ kind: 'report', report }));
  bridge.subscribe<HeartbeatReport>(subjects.allReports('heartbeat'), (hb) => self.tell({ kind: 'heartbeat', hb }));

  return {
    name: 'scheduler',
    stats,
    states,
    events,
    async stop() {
      self.stop();
      await Promise.allSettled(inventoryWrites.values());
    },
  };
}
