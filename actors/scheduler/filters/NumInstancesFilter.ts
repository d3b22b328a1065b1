import type { HostFilter } from '../types.js';

/** Hosts already running max_instances_per_host instances take no more. */
export const NumInstancesFilter: HostFilter = {
  name: 'NumInstancesFilter',
  passes: (host, _spec, ctx) => host.numInstances < ctx.maxInstancesPerHost,
};
