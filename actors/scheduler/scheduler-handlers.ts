/**
 * The scheduler actor's handlers, one per message kind: a table, so what each message does is
 * found by its name. Each runs inside the actor (one message at a time).
 */
import { ConflictError, NoValidHostError, NotFoundError } from '../../protocols/errors.js';
import type { Claim } from './ledger.js';
import { decide, decideBatch } from './decisions.js';
import { GROUP_FULL } from './moves.js';
import type { Msg, MsgOf, SchedulerCore } from './scheduler-msg.js';

type Handlers = { [K in Msg['kind']]: (core: SchedulerCore, m: MsgOf<K>) => void };

const stillAllocated = (host: string) => new ConflictError(`Host ${host} still has allocations; it cannot be removed.`);

export const HANDLERS: Handlers = {
  crash: () => {
    throw new Error('chaos: scheduler crash requested');
  },
  run: (_, m) => m.fn(),
  select: decide,
  selectBatch: decideBatch,
  /** A claim on a named host (a move's target chosen by the operator). */
  claim: (core, m) => {
    if (!core.states.get(m.req.host)) {
      m.reply.fail(new NotFoundError(`host ${m.req.host} is unknown to the scheduler`));
      return;
    }
    const claim: Claim = { consumer: m.req.instanceUuid, provider: m.req.host, projectId: m.req.projectId, resources: m.req.resources, move: true };
    core.states.claim(claim.consumer, claim.provider, claim.resources);
    core.desk.submit(
      claim,
      () => m.reply.ok({ host: m.req.host }),
      () => m.reply.fail(new NoValidHostError(`host ${m.req.host} no longer has room`)),
      (err) => m.reply.fail(err),
    );
  },
  /** A claim's outcome from the ledger. */
  claimed: (core, m) => {
    const { states, catalog } = core;
    const c = m.claim;
    if (m.result.ok) {
      core.share((d) => d.claims.push(c.group ? { consumer: c.consumer, host: c.provider, resources: c.resources, group: c.group } : { consumer: c.consumer, host: c.provider, resources: c.resources }));
      m.then();
    } else if ('held' in m.result) {
      // An earlier claim for this instance won (a retried select, or another replica): that is the answer.
      states.claim(c.consumer, m.result.held, c.resources);
      m.held(m.result.held);
    } else {
      core.stats.lostClaims++;
      if (states.allocationOf(c.consumer)?.host === c.provider) states.unclaim(c.consumer);
      if (c.group !== undefined) catalog.leave(c.consumer);
      states.refreshUsed(c.provider, m.result.used);
      // A full group is an answer (Nova's 403), not a race to decide again.
      if ('group' in m.result && m.result.group === 'full') m.fail(GROUP_FULL());
      else m.lost();
    }
    for (const w of core.desk.settled(c.consumer)) core.tell(w);
  },
  release: (core, m) => {
    core.states.unclaim(m.consumer);
    core.catalog.leave(m.consumer);
    core.desk.release(m.consumer).then(
      (released) => {
        core.share((d) => d.releases.push(m.consumer));
        m.reply.ok({ released });
      },
      (err) => m.reply.fail(err),
    );
  },
  /** Another replica's committed claims and releases. */
  delta: (core, m) => {
    for (const c of m.delta.claims) {
      core.states.claim(c.consumer, c.host, c.resources);
      if (c.group !== undefined) core.catalog.join(c.group, c.consumer);
    }
    for (const r of m.delta.releases) {
      core.states.unclaim(r);
      core.catalog.leave(r);
    }
  },
  service: (core, m) => {
    core.states.setEnabled(m.host, m.enabled);
    core.events.emit('service', m.host, m.enabled);
  },
  /** A deleted compute service: out of memory at once (no new decision picks it), then out of the ledger. */
  forget: (core, m) => {
    if (!core.states.forget(m.host)) {
      m.reply?.fail(stillAllocated(m.host));
      return;
    }
    core.events.emit('forget', m.host);
    if (!m.reply) return;
    const reply = m.reply;
    core.ledger.removeProvider(m.host).then(
      (removed) => (removed ? reply.ok({ host: m.host }) : reply.fail(stillAllocated(m.host))),
      (err) => reply.fail(err),
    );
  },
  catalog: (core, m) => {
    core.states.refreshPlacement(m.hosts);
    // Aggregate metadata may carry allocation ratios: the ledger's capacity follows.
    for (const [host, inv] of core.states.recomputeInventories(m.hosts)) core.inventories.write(host, inv);
  },
  report: (core, m) => {
    const inv = core.states.applyReport(m.report, m.at);
    if (inv) core.inventories.write(m.report.host, inv);
    else core.events.emit('report', m.report.host);
  },
  get: (core, m) => {
    const { stats, desk } = core;
    m.reply.ok({
      replica: core.replica,
      hosts: core.states.size,
      decisions: stats.decisions,
      noValidHost: stats.noValidHost,
      lostClaims: stats.lostClaims,
      claimBatches: desk.claims.batches,
      claimsBatched: desk.claims.items,
    });
  },
};

/** Runs `m`'s handler. */
export function handle(core: SchedulerCore, m: Msg): void {
  (HANDLERS[m.kind] as (core: SchedulerCore, m: Msg) => void)(core, m);
}
