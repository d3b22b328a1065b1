import type { HostFilter } from '../types.js';

/** No-op filter: every host passes (Nova uses it to disable filtering). */
export const AllHostsFilter: HostFilter = {
  name: 'AllHostsFilter',
  passes: () => true,
  appliesTo: () => false,
};
