/**
 * Query actions (console output, diagnostics, crash dump): a call on the guest's host that changes
 * no state. The engine checks the row (admin, lock, guard) as for any action; this adds the host
 * and power checks Nova makes (`check_instance_host`, diagnostics only of a running guest).
 */
import { PowerState } from '../states.js';
import type { CallBudget } from './effects.js';
import { refuse, type Transition } from './kit.js';
import type { LifecycleState } from './state.js';

export interface QuerySpec<A = unknown> {
  /** The host verb asked. */
  verb: string;
  budget: CallBudget;
  /** The verb's body from the action's arguments (the runner adds the instance's uuid). */
  body?: (args: A) => Record<string, unknown>;
  /** Only of a running guest (Nova's get_diagnostics: `power_state` conflict otherwise). */
  running?: true;
  /** Recorded as an instance action. */
  recorded?: true;
}

/** Nova's power_state names (`power_state.STATE_MAP`), as its 409 text shows them. */
const POWER_NAMES: Record<number, string> = {
  [PowerState.NOSTATE]: 'pending', [PowerState.RUNNING]: 'running', [PowerState.PAUSED]: 'paused',
  [PowerState.SHUTDOWN]: 'shutdown', [PowerState.CRASHED]: 'crashed', [PowerState.SUSPENDED]: 'suspended',
};

export function startQuery<A>(s: LifecycleState, nova: string, q: QuerySpec<A>, args: A): Transition {
  if (s.host === null) return refuse(nova, 'host', 'None');
  if (q.running && s.powerState !== PowerState.RUNNING) return refuse(nova, 'power_state', POWER_NAMES[s.powerState] ?? String(s.powerState));
  const query = { host: s.host, verb: q.verb, body: q.body ? q.body(args) : {}, budget: q.budget, ...(q.recorded ? { recorded: true as const } : {}) };
  return { ok: true, next: s, effects: [], query };
}
