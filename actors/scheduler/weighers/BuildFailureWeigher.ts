import type { HostWeigher } from '../types.js';

/**
 * Hosts that recently failed builds sink (`build_failure_weight_multiplier`, default 1000000.0, so
 * one failure outweighs every other weigher and a broken host does not attract every boot).
 */
export function BuildFailureWeigher(multiplier = 1000000.0): HostWeigher {
  return {
    name: 'BuildFailureWeigher',
    multiplier,
    weigh: (host) => -host.failedBuilds,
    appliesTo: (_spec, cols) => cols === undefined || cols.failingHosts > 0,
    weighAll: (cols, slots, n, _spec, out) => {
      const failed = cols.failedBuilds;
      for (let k = 0; k < n; k++) out[k] = -failed[slots[k]!]!;
    },
  };
}
