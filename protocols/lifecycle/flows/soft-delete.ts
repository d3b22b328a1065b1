/**
 * Soft delete and restore (Nova's `soft_delete_instance`, `restore_instance`): the guest is powered
 * off and kept, with its allocation, until restored (powered on again) or reclaimed.
 */
import type { DrivenTaskState } from '../driven.js';
import type { PowerOp } from '../effects.js';
import { finish, type Step } from '../kit.js';
import type { VmState } from '../../states.js';

function powerTo(op: PowerOp, endsIn: VmState): Step {
  return {
    effect: (s, token) => ({ kind: 'power', token, host: s.host!, op }),
    on: {
      powered: (s, o) => finish(s, { vmState: endsIn, powerState: o.powerState, fault: null }),
      failed: (s, o) => finish(s, {}, { code: o.code, message: o.message }),
    },
  };
}

export const softDeleteSteps = {
  'soft-deleting': powerTo('stop', 'soft-delete'),
  restoring: powerTo('start', 'active'),
} satisfies Partial<Record<DrivenTaskState, Step>>;
