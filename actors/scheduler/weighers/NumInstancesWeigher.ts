import type { HostWeigher } from '../types.js';

/**
 * Raw weight = instance count (`num_instances_weight_multiplier`, default 0.0 = off). A positive
 * multiplier favours busy hosts (packing), a negative one favours empty hosts (spreading).
 */
export function NumInstancesWeigher(multiplier = 0.0): HostWeigher {
  return {
    name: 'NumInstancesWeigher',
    multiplier,
    weigh: (host) => host.numInstances,
    weighAll: (cols, slots, n, _spec, out) => {
      const count = cols.numInstances;
      for (let k = 0; k < n; k++) out[k] = count[slots[k]!]!;
    },
  };
}
