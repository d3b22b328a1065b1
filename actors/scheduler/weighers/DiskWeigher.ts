import type { Inventory } from '../../../protocols/resources.js';
import type { HostWeigher } from '../types.js';
import { freeOf, weighFree } from '../filters/resource-fit.js';

/** Spread by free usable disk (`disk_weight_multiplier`, default 1.0; negative stacks). */
export function DiskWeigher(multiplier = 1.0): HostWeigher {
  return {
    name: 'DiskWeigher',
    multiplier,
    weigh: (host) => freeOf(host.inventory.DISK_GB as Inventory | undefined, host.used.DISK_GB),
    weighAll: (cols, slots, n, _spec, out) => weighFree(cols.resources.DISK_GB, slots, n, out),
  };
}
