/**
 * `transition(state, event, env)`: the instance lifecycle as a pure function. Actions are checked
 * against their row (admin, lock, guard) and begin their task; outcomes are routed to the step the
 * token names; `resume` re-issues the step the state shows. The instance actor persists the next
 * state (compare-and-swap) and only then runs the effects.
 */
import type { Outcome } from './effects.js';
import { ACTIONS, type ActionName, type ActionSpec } from './actions.js';
import { checkGuard, DEFAULT_LIFECYCLE_CONFIG, goto, ignore, notify, ok, refuse, sameToken, type Accepted, type Env, type Handler, type Transition } from './kit.js';
import { STEPS } from './steps.js';
import { observe, type ObservedEvent } from './power-sync.js';
import { startQuery } from './query.js';
import type { Caller, LifecycleState } from './state.js';

export type ActionEvent = { kind: 'action'; name: ActionName; args: unknown; by: Caller };
/** `fresh`: the task's first issue was written by someone else (a new build), so no new token is needed. */
export type ResumeEvent = { kind: 'resume'; fresh?: boolean };
// `observed`: what the host's hypervisor says about the guest (power sync, power-sync.ts).
export type LifecycleEvent = ActionEvent | ResumeEvent | ObservedEvent | Outcome;

export const DEFAULT_ENV: Env = { now: 0, config: DEFAULT_LIFECYCLE_CONFIG };

export function transition(s: LifecycleState, e: LifecycleEvent, env: Env = DEFAULT_ENV): Transition {
  const t = e.kind === 'action' ? onAction(s, e, env) : e.kind === 'resume' ? onResume(s, e) : e.kind === 'observed' ? observe(s, e) : onOutcome(s, e, env);
  return t.ok && t.enter ? issue(t, env, e.kind === 'resume' && e.fresh === true) : t;
}

/** Issues the entered step's one effect under a fresh token (or the current one, for a fresh build). */
function issue(t: Accepted, env: Env, fresh: boolean): Accepted {
  const task = t.next.taskState!;
  const ctx = fresh ? t.next.ctx : { ...t.next.ctx, attempt: t.next.ctx.attempt + 1 };
  const token = { step: task, attempt: ctx.attempt };
  const next: LifecycleState = { ...t.next, ctx, running: token };
  const { enter: _entered, ...rest } = t;
  return { ...rest, next, effects: [...t.effects, STEPS[task].effect(next, token, env)] };
}

function onAction(s: LifecycleState, e: ActionEvent, env: Env): Transition {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each row's args were validated against its own schema
  const spec: ActionSpec<any> = ACTIONS[e.name];
  if (s.vmState === 'deleted') return refuse(spec.nova, 'vm_state', 'deleted');
  if ((spec.admin || spec.adminIf?.(e.args)) && !e.by.admin) return refuse(spec.nova, 'admin', 'member');
  if (s.locked !== null && spec.lock !== false && !e.by.admin) return refuse(spec.nova, 'locked', 'locked');
  const guard = typeof spec.guard === 'function' ? spec.guard(e.args) : spec.guard;
  if (spec.preempts && s.taskState === 'deleting') return ok(s); // already being deleted: nothing new to do
  const refused = checkGuard(s, spec.nova, guard);
  if (refused) return refused;
  if (spec.query) return startQuery(s, spec.nova, spec.query, e.args);
  if (spec.apply) {
    const next = spec.apply(s, e.args, e.by, env);
    if ('ok' in next) return next;
    return ok(next, [notify(`${spec.event}.end`)], { action: spec.record, result: 'Success', message: null });
  }
  const begins = typeof spec.begins === 'function' ? spec.begins(e.args, env, s) : spec.begins!;
  const started = spec.start?.(s, e.args, env);
  if (started && 'ok' in started) return started;
  const ctx = {
    attempt: s.ctx.attempt, action: spec.record, event: spec.event, ...(s.ctx.migration ? { migration: s.ctx.migration } : {}),
    ...(s.ctx.shelvedImageId ? { shelvedImageId: s.ctx.shelvedImageId } : {}),
    ...spec.context?.(e.args, e.by, s, env), ...started?.ctx,
  };
  // A step other than delete acts on the guest: without a host there is nothing to act on.
  if (begins !== 'deleting' && !spec.hostless && s.host === null) return refuse(spec.nova, 'vm_state', s.vmState);
  const start = notify(`${spec.event}.start`);
  // Delete wins over an effect in flight: it takes the task over and waits for that effect's outcome.
  if (spec.preempts && s.running !== null) return ok({ ...s, taskState: begins, ctx: { ...ctx, attempt: s.ctx.attempt } }, [start]);
  const entered = goto(s, begins, { ctx }, [start]);
  // A task's start may close the instance action it takes over from (an abort ends its live migration).
  return { ...entered, ...(started?.migration ? { migration: started.migration } : {}), ...(started?.finished ? { finished: started.finished } : {}) };
}

function onResume(s: LifecycleState, e: ResumeEvent): Transition {
  if (s.vmState === 'deleted' || s.taskState === null) return ok({ ...s, running: null });
  if (e.fresh && s.running !== null) return ok(s);
  return goto({ ...s, running: null }, s.taskState);
}

function onOutcome(s: LifecycleState, o: Outcome, env: Env): Transition {
  if (!sameToken(s.running, o.token)) return ignore(s);
  // The effect a delete preempted has ended: the delete now runs, on whatever host the effect reached.
  if (s.taskState === 'deleting' && o.token.step !== 'deleting') {
    return goto(s, 'deleting', 'host' in o && o.kind !== 'spawnFailed' ? { host: o.host } : {});
  }
  const handler = STEPS[o.token.step].on[o.kind] as Handler<typeof o.kind> | undefined;
  if (handler) return handler(s, o as never, env);
  // An outcome the step has no rule for is a failure of the task, never a silent stall.
  const message = o.kind === 'failed' ? o.message : `unexpected ${o.kind} in ${o.token.step}`;
  return ok({ ...s, taskState: null, running: null, ctx: { attempt: s.ctx.attempt }, fault: { code: 500, message } }, [notify(`${s.ctx.event ?? 'update'}.error`)], {
    action: s.ctx.action ?? 'create', result: 'Error', message,
  });
}
