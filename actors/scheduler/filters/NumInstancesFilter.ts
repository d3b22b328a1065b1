import type { HostFilter } from '../types.js';

/** Hosts already running max_instances_per_host instances take no more. */
export const NumInstancesFilter: HostFilter = {
  name: 'NumInstancesFilter',
  passes: (host, _spec, ctx) => host.numInstances < ctx.maxInstancesPerHost,
  narrow: (cols, slots, n, _spec, ctx) => {
    const count = cols.numInstances;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = slots[k]!;
      if (count[i]! < ctx.maxInstancesPerHost) slots[m++] = i;
    }
    return m;
  },
};
