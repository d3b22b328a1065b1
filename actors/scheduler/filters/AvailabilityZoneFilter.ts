import type { HostFilter } from '../types.js';

/** A request for a zone only lands on hosts in that zone; a request without one goes anywhere. */
export const AvailabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  passes: (host, spec) => spec.availabilityZone === null || host.availabilityZone === spec.availabilityZone,
  appliesTo: (spec) => spec.availabilityZone !== null,
};
