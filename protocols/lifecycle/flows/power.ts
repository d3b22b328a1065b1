/**
 * Power operations: one step each, one host call, ending in the vm state the operation leads to
 * (a failure leaves the vm state as it was, with the fault).
 */
import type { VmState } from '../../states.js';
import type { DrivenTaskState } from '../driven.js';
import type { PowerOp } from '../effects.js';
import { finish, type Step } from '../kit.js';

function powerStep(op: PowerOp, endsIn: VmState): Step {
  return {
    effect: (s, token) => ({ kind: 'power', token, host: s.host!, op }),
    on: {
      powered: (s, o) => finish(s, { vmState: endsIn, powerState: o.powerState, fault: null }),
      failed: (s, o) => finish(s, {}, { code: o.code, message: o.message }),
    },
  };
}

export const powerSteps = {
  'powering-off': powerStep('stop', 'stopped'),
  'powering-on': powerStep('start', 'active'),
  rebooting: powerStep('reboot_soft', 'active'),
  rebooting_hard: powerStep('reboot_hard', 'active'),
  pausing: powerStep('pause', 'paused'),
  unpausing: powerStep('unpause', 'active'),
  suspending: powerStep('suspend', 'suspended'),
  resuming: powerStep('resume', 'active'),
} satisfies Partial<Record<DrivenTaskState, Step>>;
