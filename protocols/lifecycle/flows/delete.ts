/**
 * Deleting: destroy the guest wherever it may be (its host, and both ends of a move), then release
 * every allocation (the instance's and a migration's), and only then call the instance deleted, so
 * a reader who sees DELETED also sees the capacity free.
 */
import { PowerState } from '../../states.js';
import { finish, goto, type Step } from '../kit.js';
import type { LifecycleState } from '../state.js';

/** Every host that may hold a guest of the instance. */
export function guestHosts(s: LifecycleState): string[] {
  const m = s.ctx.migration;
  const hosts = [s.host, m?.source ?? null, m?.dest ?? null].filter((h): h is string => h !== null);
  return [...new Set(hosts)];
}

export const deleting: Step = {
  effect: (s, token) => {
    const hosts = s.ctx.guestsGone ? [] : guestHosts(s);
    if (hosts.length > 0) return { kind: 'destroy', token, hosts };
    return { kind: 'release', token, instance: true, migrations: s.ctx.migration ? [s.ctx.migration.uuid] : [], ports: true };
  },
  on: {
    destroyed: (s) => goto(s, 'deleting', { host: null, powerState: PowerState.NOSTATE, ctx: { ...s.ctx, guestsGone: true } }),
    released: (s) => finish(s, { vmState: 'deleted', host: null }),
  },
};
