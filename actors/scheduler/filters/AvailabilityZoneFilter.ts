import type { HostFilter } from '../types.js';

/** A request for a zone only lands on hosts in that zone; a request without one goes anywhere. */
export const AvailabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  passes: (host, spec) => spec.availabilityZone === null || host.availabilityZone === spec.availabilityZone,
  appliesTo: (spec) => spec.availabilityZone !== null,
  narrow: (cols, slots, n, spec) => {
    if (spec.availabilityZone === null) return n;
    const want = cols.zoneId(spec.availabilityZone);
    const zone = cols.zone;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = slots[k]!;
      if (zone[i] === want) slots[m++] = i;
    }
    return m;
  },
};
