import type { HostFilter } from '../types.js';

/** The compute service is enabled by the operator and up (reported within service_down_time). */
export const ComputeFilter: HostFilter = {
  name: 'ComputeFilter',
  passes: (host, _spec, ctx) => host.enabled && ctx.now - host.lastSeenAt <= ctx.serviceDownTimeMs,
  narrow: (cols, slots, n, _spec, ctx) => {
    const { enabled, lastSeenAt } = cols;
    const oldest = ctx.now - ctx.serviceDownTimeMs;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = slots[k]!;
      if (enabled[i] === 1 && lastSeenAt[i]! >= oldest) slots[m++] = i;
    }
    return m;
  },
};
