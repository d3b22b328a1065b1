import type { Inventory } from '../../../protocols/resources.js';
import type { HostFilter } from '../types.js';
import { fits, narrowFits } from './resource-fit.js';

/** Enough free usable VCPU (VCPU) for the request; allocation ratio and reserved come from the inventory record. */
export const CoreFilter: HostFilter = {
  name: 'CoreFilter',
  passes: (host, spec) => fits(host.inventory.VCPU as Inventory | undefined, host.used.VCPU, spec.resources.VCPU),
  appliesTo: (spec) => spec.resources.VCPU > 0,
  narrow: (cols, slots, n, spec) => narrowFits(cols.resources.VCPU, slots, n, spec.resources.VCPU),
};
