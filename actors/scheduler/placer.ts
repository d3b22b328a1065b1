/**
 * One decision, in memory: filters and weighers over the host states, the group's members and hints
 * taken into account, and the resulting claim recorded in the host states at once (so the next
 * decision sees it) before it goes to the ledger. Synchronous: the scheduler actor calls it.
 */
import { NoValidHostError } from '../../protocols/errors.js';
import type { SelectReply, SelectRequest } from '../../protocols/messages.js';
import type { Clock } from '../../runtime/clock.js';
import type { SchedulingCatalog } from './catalog.js';
import type { SchedulerConfig } from './config.js';
import type { HostStates } from './host-states.js';
import type { Claim } from './ledger.js';
import { lastRemover, type DecisionMetrics } from './scheduler-metrics.js';
import { selectHosts } from './select.js';
import type { FilterContext, HostFilter, HostWeigher, RequestSpec } from './types.js';

export interface SchedulerStats {
  decisions: number;
  noValidHost: number;
  lostClaims: number;
  decisionUs: number[];
}

export interface PlacerDeps {
  states: HostStates;
  catalog: SchedulingCatalog;
  filters: HostFilter[];
  weighers: HostWeigher[];
  cfg: SchedulerConfig;
  clock: Clock;
  stats: SchedulerStats;
  metrics?: DecisionMetrics;
}

export class Placer {
  constructor(private readonly d: PlacerDeps) {}

  private groupSpec(id: string | undefined, instance: string): RequestSpec['group'] {
    const g = id === undefined ? undefined : this.d.catalog.group(id);
    if (!g) return undefined;
    const hosts: string[] = [];
    for (const m of g.members) {
      const at = m === instance ? undefined : this.d.states.allocationOf(m)?.host;
      if (at !== undefined) hosts.push(at);
    }
    const spec: NonNullable<RequestSpec['group']> = { id: g.row.uuid, policy: g.row.policy, hosts };
    if (g.row.maxServerPerHost !== null) spec.maxServerPerHost = g.row.maxServerPerHost;
    return spec;
  }

  /**
   * Decides one request in memory and records its claim there (the ledger write comes after).
   * Returns the claim and the answer, or the NoValidHost error explaining which filters removed
   * how many hosts.
   */
  place(req: SelectRequest, only?: string): { claim: Claim; answer: SelectReply } | NoValidHostError {
    const hints = req.schedulerHints ?? {};
    const groupId = typeof hints.group === 'string' ? hints.group : undefined;
    if (groupId !== undefined && !this.d.catalog.group(groupId)) {
      this.d.metrics?.noValidHost.child('server_group').inc();
      return new NoValidHostError(`No valid host was found: server group ${groupId} does not exist.`);
    }
    const spec: RequestSpec = {
      instanceUuid: req.instanceUuid,
      projectId: req.projectId,
      resources: req.resources,
      flavor: req.flavor,
      image: req.image,
      availabilityZone: req.availabilityZone,
      ignoreHosts: req.ignoreHosts,
      schedulerHints: hints,
    };
    const group = this.groupSpec(groupId, spec.instanceUuid);
    if (group) spec.group = group;
    const fctx: FilterContext = { now: this.d.clock.now(), serviceDownTimeMs: this.d.cfg.serviceDownTimeMs, maxInstancesPerHost: this.d.cfg.maxInstancesPerHost };
    const t0 = process.hrtime.bigint();
    // The chance driver: every passing host weighs the same, and the subset draw spans them all.
    const subset = this.d.cfg.driver === 'chance' ? this.d.states.size : this.d.cfg.hostSubsetSize;
    // A requested destination (a move's target host) is the only candidate; the filters still run on it.
    const target = only === undefined ? undefined : this.d.states.get(only);
    if (only !== undefined && !target) {
      this.d.metrics?.noValidHost.child('unknown_host').inc();
      return new NoValidHostError(`No valid host was found: host ${only} is unknown to the scheduler.`);
    }
    const sel = selectHosts(target ? [target] : this.d.states.columns(), spec, this.d.filters, this.d.weighers, fctx, {
      count: req.count ?? this.d.cfg.maxAttempts,
      hostSubsetSize: subset,
      maxCandidates: this.d.cfg.maxPlacementResults,
    });
    const ns = Number(process.hrtime.bigint() - t0);
    this.d.stats.decisions++;
    if (this.d.stats.decisionUs.length < 100_000) this.d.stats.decisionUs.push(ns / 1000);
    const m = this.d.metrics;
    if (m) {
      (sel.hosts.length > 0 ? m.placed : m.failed).observe(ns / 1e9);
      m.candidates.observe(sel.candidates);
    }
    const [chosen, ...alternates] = sel.hosts;
    if (!chosen) {
      this.d.stats.noValidHost++;
      m?.noValidHost.child(lastRemover(sel.removedBy)).inc();
      const removed = Object.entries(sel.removedBy).filter(([, n]) => n > 0).map(([f, n]) => `${f} removed ${n}`).join(', ');
      return new NoValidHostError(
        `No valid host was found. There are not enough hosts available.${removed ? ` (${this.d.states.size} hosts: ${removed})` : ''}`,
        { filters: sel.removedBy, hosts: this.d.states.size },
      );
    }
    const claim: Claim = { consumer: spec.instanceUuid, provider: chosen.host, projectId: spec.projectId, resources: spec.resources };
    if (groupId !== undefined) {
      claim.group = groupId;
      this.d.catalog.join(groupId, spec.instanceUuid);
    }
    this.d.states.claim(claim.consumer, claim.provider, claim.resources);
    return { claim, answer: { host: chosen.host, alternates: alternates.map((h) => h.host) } };
  }

  unplace(claim: Claim): void {
    this.d.states.unclaim(claim.consumer);
    this.d.catalog.leave(claim.consumer);
  }
}
