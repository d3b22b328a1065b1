/**
 * Nova shows `rebuilding` both for a rebuild (a new image on the same host) and for an evacuation
 * (a rebuild on another host): one task state, so one step, which hands each call to the flow the
 * task's context names (an evacuation carries its migration).
 */
import type { OutcomeKind } from '../effects.js';
import { finish, type Handler, type Step } from '../kit.js';
import type { LifecycleState } from '../state.js';
import { evacuateStep } from './evacuate.js';
import { rebuildImage } from './rebuild.js';

const flowOf = (s: LifecycleState): Step => (s.ctx.migration?.type === 'evacuation' ? evacuateStep : rebuildImage);

const KINDS = [...new Set([...Object.keys(evacuateStep.on), ...Object.keys(rebuildImage.on)])] as OutcomeKind[];

export const rebuilding: Step = {
  effect: (s, token, env) => flowOf(s).effect(s, token, env),
  on: Object.fromEntries(
    KINDS.map((kind) => [
      kind,
      ((s, o, env) => {
        const h = flowOf(s).on[kind] as Handler<typeof kind> | undefined;
        return h ? h(s, o as never, env) : finish(s, {}, { code: 500, message: `unexpected ${kind} in rebuilding` });
      }) as Handler<typeof kind>,
    ]),
  ) as Step['on'],
};
