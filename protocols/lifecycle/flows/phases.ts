/**
 * Multi-phase steps: Nova shows one task state for a whole move (`migrating`, `rebuilding`), so the
 * program counter is the task state plus `ctx.phase`. Each phase still has exactly one idempotent
 * effect; entering a phase (even the same task state again) issues it under a fresh token, so an
 * outcome of an earlier phase is stale.
 */
import type { DrivenTaskState } from '../driven.js';
import type { Effect, OutcomeKind } from '../effects.js';
import { finish, goto, type Accepted, type Env, type Handler, type MigrationWrite, type Step, type Transition } from '../kit.js';
import type { LifecycleState, TaskContext, Token } from '../state.js';

export interface Phase {
  effect: (s: LifecycleState, token: Token, env: Env) => Effect;
  on: { [K in OutcomeKind]?: Handler<K> };
}

/** One step whose effect and handlers are the current phase's (`first` when the context names none). */
export function phased<P extends string>(phases: Record<P, Phase>, first: P): Step {
  const of = (s: LifecycleState): { name: string; phase: Phase | undefined } => {
    const name = s.ctx.phase ?? first;
    return { name, phase: (phases as Record<string, Phase>)[name] };
  };
  const kinds = new Set<OutcomeKind>(Object.values<Phase>(phases).flatMap((p) => Object.keys(p.on) as OutcomeKind[]));
  const on: Step['on'] = {};
  for (const kind of kinds) {
    (on as Record<string, Handler<OutcomeKind>>)[kind] = (s, o, env) => {
      const { name, phase } = of(s);
      const h = phase?.on[kind] as Handler<OutcomeKind> | undefined;
      // An outcome the phase has no rule for ends the task with the reason, never a silent stall.
      return h ? h(s, o, env) : finish(s, {}, { code: 500, message: `unexpected ${kind} in ${name}` });
    };
  }
  return {
    effect: (s, token, env) => {
      const { name, phase } = of(s);
      if (!phase) throw new Error(`no phase ${name}`);
      return phase.effect(s, token, env);
    },
    on,
  };
}

/** Enters `phase` of `task` (its effect is issued under a fresh token), with the record's change if any. */
export function toPhase(
  s: LifecycleState, task: DrivenTaskState, phase: string, ctx: Partial<TaskContext> = {}, patch: Partial<LifecycleState> = {},
  migration?: MigrationWrite, before: Effect[] = [],
): Accepted {
  const t = goto(s, task, { ...patch, ctx: { ...s.ctx, ...ctx, phase } }, before);
  return migration ? { ...t, migration } : t;
}

/** Ends the task; a failure is recorded on the instance action without becoming the instance's fault. */
export function endMove(s: LifecycleState, patch: Partial<LifecycleState>, migration: MigrationWrite, failure?: { code: number; message: string }): Transition {
  const t = finish(s, patch, failure);
  if (!t.ok) return t;
  return { ...t, next: { ...t.next, fault: patch.fault !== undefined ? patch.fault : s.fault }, migration };
}
