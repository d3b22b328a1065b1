import type { Inventory } from '../../../protocols/resources.js';
import type { HostFilter } from '../types.js';
import { fits, narrowFits } from './resource-fit.js';

/** Enough free usable RAM (MEMORY_MB) for the request; allocation ratio and reserved come from the inventory record. */
export const RamFilter: HostFilter = {
  name: 'RamFilter',
  passes: (host, spec) => fits(host.inventory.MEMORY_MB as Inventory | undefined, host.used.MEMORY_MB, spec.resources.MEMORY_MB),
  appliesTo: (spec) => spec.resources.MEMORY_MB > 0,
  narrow: (cols, slots, n, spec) => narrowFits(cols.resources.MEMORY_MB, slots, n, spec.resources.MEMORY_MB),
};
