import type { HostFilter } from '../types.js';

/** Hard anti-affinity: fewer than max_server_per_host (default 1) group members on the host. */
export const ServerGroupAntiAffinityFilter: HostFilter = {
  name: 'ServerGroupAntiAffinityFilter',
  passes: (host, spec) => {
    const g = spec.group;
    if (g === undefined || g.policy !== 'anti-affinity') return true;
    let members = 0;
    const hosts = g.hosts; // group sizes are quota-bound (10 by default): a scan beats a lookup table
    for (let i = 0; i < hosts.length; i++) if (hosts[i] === host.host) members++;
    // A move (resize to same host) may keep its source host, as in Nova; checked last because the
    // Set lookup is the expensive part and only matters for hosts that would fail.
    return members < (g.maxServerPerHost ?? 1) || host.instances.has(spec.instanceUuid);
  },
  appliesTo: (spec) => spec.group?.policy === 'anti-affinity',
};
