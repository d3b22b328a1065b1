/**
 * Placement decisions, inside the scheduler actor: one select, or a multi-create placed all or
 * nothing. A decision is made in memory at once; its claims join the next ledger batch and the reply
 * waits for them. A claim lost to another replica decides again, up to a bound.
 */
import { ForbiddenError, NoValidHostError, TimeoutError } from '../../protocols/errors.js';
import type { SelectReply } from '../../protocols/messages.js';
import type { Claim } from './ledger.js';
import { tracedSync } from '../../runtime/trace/tracing.js';
import { MAX_DECISION_TRIES, WARMING_UP, type MsgOf, type SchedulerCore } from './scheduler-msg.js';

const kept = () => new NoValidHostError('No valid host was found: claims kept losing races with other schedulers.');

export function decide(core: SchedulerCore, m: MsgOf<'select'>): void {
  // Under overload, a request whose caller has already given up is not worth a decision or a claim.
  if (core.clock.now() > m.deadline) {
    m.reply.fail(new TimeoutError(`select for ${m.req.instanceUuid} expired in the scheduler's queue`));
    return;
  }
  if (m.req.move) return core.moves.select({ ...m.req, move: m.req.move }, m.reply);
  if (core.desk.waitFor(m.req.instanceUuid, m)) return;
  // Selecting for an instance that already holds a claim answers that claim: a repeated select (a
  // resumed build, a retried request) must never leave the instance placed on one host and
  // charged on another.
  const held = core.states.allocationOf(m.req.instanceUuid);
  if (held && !m.req.ignoreHosts.includes(held.host)) {
    m.reply.ok({ host: held.host, alternates: [] });
    return;
  }
  const placed = tracedSync('scheduler place', () => ({ 'openstack.instance_uuid': m.req.instanceUuid }), (span) => {
    const p = core.placer.place(m.req);
    if (span.isRecording()) span.setAttribute('novact.host', p instanceof NoValidHostError ? '' : p.answer.host);
    return p;
  });
  if (placed instanceof NoValidHostError) {
    m.reply.fail(core.warmingUp() ? WARMING_UP : placed);
    return;
  }
  core.desk.submit(
    placed.claim,
    () => m.reply.ok(placed.answer),
    () => {
      if (m.tries + 1 >= MAX_DECISION_TRIES) m.reply.fail(kept());
      else core.tell({ ...m, tries: m.tries + 1 });
    },
    (err) => m.reply.fail(err),
    (host) => m.reply.ok({ host, alternates: [] }),
  );
}

/** Multi-create: every instance is placed, or none is (Nova's all-or-nothing for a build's count). */
export function decideBatch(core: SchedulerCore, m: MsgOf<'selectBatch'>): void {
  const { placer, states } = core;
  const placed: { claim: Claim; answer: SelectReply }[] = [];
  for (const req of m.reqs) {
    const p = placer.place(req);
    if (p instanceof NoValidHostError) {
      placed.forEach((x) => placer.unplace(x.claim));
      if (core.warmingUp()) return m.reply.fail(WARMING_UP);
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
    core.ledger.release(won.map((c) => c.consumer)).then(
      () => {
        if (refusal !== undefined) m.reply.fail(refusal);
        else if (m.tries + 1 >= MAX_DECISION_TRIES) m.reply.fail(kept());
        else core.tell({ ...m, tries: m.tries + 1 });
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
    core.desk.submit(p.claim, done, () => { lost++; done(); }, failed, onHeld);
  }
}
