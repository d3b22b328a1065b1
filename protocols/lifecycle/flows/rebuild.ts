/**
 * Rebuild, rescue, unrescue and the admin password: one host call each (Nova's compute manager
 * `rebuild_instance`, `rescue_instance`, `unrescue_instance`, `set_admin_password`).
 *
 * - rebuilding: the host rebuilds the guest from `ctx.imageId`; the instance then shows that image.
 *   A server rebuilt from stopped is stopped again by the power-off step (Nova's `orig_vm_state`
 *   handling), still under the rebuild's action. A failed rebuild leaves the server in ERROR.
 * - rescuing: boots from `ctx.rescueImage` with the password of `ctx.args`; a failure is ERROR
 *   (Nova's `_set_instance_obj_error_state`). unrescuing ends ACTIVE, whatever the server was before.
 * - updating_password: a failure keeps the vm state, with the fault.
 */
import type { PowerState } from '../../states.js';
import type { DrivenTaskState } from '../driven.js';
import { finish, goto, type Step } from '../kit.js';
import type { Outcome } from '../effects.js';

/** The power state a host's `{guest}` reply shows (undefined when it carried none). */
const powerOf = (o: Extract<Outcome, { kind: 'done' }>): PowerState | undefined =>
  (o.reply.guest as { powerState?: PowerState } | undefined)?.powerState;

const withPower = (o: Extract<Outcome, { kind: 'done' }>) => {
  const p = powerOf(o);
  return p === undefined ? {} : { powerState: p };
};

const adminPass = (args: Record<string, unknown> | undefined): string => (typeof args?.adminPass === 'string' ? args.adminPass : '');

const rebuilding: Step = {
  effect: (s, token) => ({ kind: 'host', token, host: s.host!, verb: 'rebuild', body: {}, budget: 'spawn', guest: { imageRef: s.ctx.imageId ?? s.imageRef } }),
  on: {
    done: (s, o) => {
      const patch = { ...withPower(o), imageRef: s.ctx.imageId ?? s.imageRef, vmState: 'active' as const, fault: null, launchedAt: o.at };
      return s.ctx.previousVm === 'stopped' ? goto(s, 'powering-off', patch) : finish(s, patch);
    },
    failed: (s, o) => finish(s, { vmState: 'error' }, { code: o.code, message: o.message }),
  },
};

const rescuing: Step = {
  effect: (s, token) => ({
    kind: 'host', token, host: s.host!, verb: 'rescue', budget: 'spawn',
    body: { rescueImage: s.ctx.rescueImage ?? s.imageRef, adminPass: adminPass(s.ctx.args) },
  }),
  on: {
    done: (s, o) => finish(s, { ...withPower(o), vmState: 'rescued', fault: null }),
    failed: (s, o) => finish(s, { vmState: 'error' }, { code: o.code, message: o.message }),
  },
};

const unrescuing: Step = {
  effect: (s, token) => ({ kind: 'host', token, host: s.host!, verb: 'unrescue', body: {}, budget: 'spawn' }),
  on: {
    done: (s, o) => finish(s, { ...withPower(o), vmState: 'active', fault: null }),
    failed: (s, o) => finish(s, {}, { code: o.code, message: o.message }),
  },
};

const updatingPassword: Step = {
  effect: (s, token) => ({ kind: 'host', token, host: s.host!, verb: 'set-password', body: { password: adminPass(s.ctx.args) }, budget: 'request' }),
  on: {
    done: (s) => finish(s, {}),
    failed: (s, o) => finish(s, {}, { code: o.code, message: o.message }),
  },
};

/** `rebuilding` is shared with evacuate (flows/rebuilding.ts picks by the task's migration). */
export const rebuildImage = rebuilding;
export const rebuildSteps = { rescuing, unrescuing, updating_password: updatingPassword } satisfies Partial<Record<DrivenTaskState, Step>>;
