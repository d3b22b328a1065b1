import type { Inventory } from '../../../protocols/resources.js';
import type { HostWeigher } from '../types.js';
import { freeOf, weighFree } from '../filters/resource-fit.js';

/** Spread by free usable VCPUs (`cpu_weight_multiplier`, default 1.0; negative stacks). */
export function CPUWeigher(multiplier = 1.0): HostWeigher {
  return {
    name: 'CPUWeigher',
    multiplier,
    weigh: (host) => freeOf(host.inventory.VCPU as Inventory | undefined, host.used.VCPU),
    weighAll: (cols, slots, n, _spec, out) => weighFree(cols.resources.VCPU, slots, n, out),
  };
}
