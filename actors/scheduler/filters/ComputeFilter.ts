import type { HostFilter } from '../types.js';

/** The compute service is enabled by the operator and up (reported within service_down_time). */
export const ComputeFilter: HostFilter = {
  name: 'ComputeFilter',
  passes: (host, _spec, ctx) => host.enabled && ctx.now - host.lastSeenAt <= ctx.serviceDownTimeMs,
};
