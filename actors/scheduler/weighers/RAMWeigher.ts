import type { Inventory } from '../../../protocols/resources.js';
import type { HostWeigher } from '../types.js';
import { freeOf, weighFree } from '../filters/resource-fit.js';

/** Spread by free usable RAM (`ram_weight_multiplier`, default 1.0; negative stacks). */
export function RAMWeigher(multiplier = 1.0): HostWeigher {
  return {
    name: 'RAMWeigher',
    multiplier,
    weigh: (host) => freeOf(host.inventory.MEMORY_MB as Inventory | undefined, host.used.MEMORY_MB),
    weighAll: (cols, slots, n, _spec, out) => weighFree(cols.resources.MEMORY_MB, slots, n, out),
  };
}
