import type { Inventory } from '../../../protocols/resources.js';
import type { HostFilter } from '../types.js';
import { fits, narrowFits } from './resource-fit.js';

/** Enough free usable disk (DISK_GB) for the request; allocation ratio and reserved come from the inventory record. */
export const DiskFilter: HostFilter = {
  name: 'DiskFilter',
  passes: (host, spec) => fits(host.inventory.DISK_GB as Inventory | undefined, host.used.DISK_GB, spec.resources.DISK_GB),
  appliesTo: (spec) => spec.resources.DISK_GB > 0,
  narrow: (cols, slots, n, spec) => narrowFits(cols.resources.DISK_GB, slots, n, spec.resources.DISK_GB),
};
