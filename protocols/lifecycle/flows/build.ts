/**
 * Building: `scheduling` asks the scheduler (which claims before answering), `spawning` spawns on
 * the chosen host, failing over to the claimed alternates; a build that runs out of alternates
 * destroys what its last attempt left, releases its claim, and only then settles in ERROR.
 */
import { PowerState } from '../../states.js';
import { finish, goto, type Step } from '../kit.js';
import type { Effect } from '../effects.js';

export const scheduling: Step = {
  effect: (_s, token) => ({ kind: 'select', token }),
  on: {
    scheduled: (s, o) => goto(s, 'spawning', { host: o.host, alternates: o.alternates, ctx: { ...s.ctx, claimed: true } }),
    scheduleFailed: (s, o) => finish(s, { vmState: 'error' }, { code: 500, message: o.message }),
  },
};

export const spawning: Step = {
  effect: (s, token): Effect => {
    // A failed build (fault set) first destroys its last attempt's guest, then releases its claim.
    if (s.fault !== null && s.host !== null) return { kind: 'destroy', token, hosts: [s.host] };
    if (s.fault !== null || s.host === null) return { kind: 'release', token, instance: true, migrations: [], ports: true };
    return { kind: 'spawn', token, host: s.host, claim: s.ctx.claimed !== true };
  },
  on: {
    spawned: (s, o) => finish(s, { vmState: 'active', powerState: o.powerState, alternates: [], fault: null, launchedAt: o.at }),
    spawnFailed: (s, o) => {
      const [next, ...rest] = s.alternates;
      // The attempt may have left a guest (a timed-out spawn): clean it up while the next host is tried.
      const cleanup: Effect = { kind: 'cleanup', host: o.host };
      if (next !== undefined) return goto(s, 'spawning', { host: next, alternates: rest, ctx: { ...s.ctx, claimed: undefined } }, [cleanup]);
      return goto(s, 'spawning', { fault: { code: 500, message: `Exceeded maximum number of retries. Last failure: ${o.message}` } });
    },
    destroyed: (s) => goto(s, 'spawning', { host: null, powerState: PowerState.NOSTATE }),
    released: (s) => finish(s, { vmState: 'error', host: null, alternates: [] }, s.fault ?? { code: 500, message: 'build failed' }),
  },
};
