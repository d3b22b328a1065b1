import type { HostFilter } from '../types.js';

/**
 * Hard affinity: once a member of the group is placed, the others must follow it. The first member
 * (no group hosts yet) may go anywhere.
 */
export const ServerGroupAffinityFilter: HostFilter = {
  name: 'ServerGroupAffinityFilter',
  passes: (host, spec) => {
    const g = spec.group;
    if (g === undefined || g.policy !== 'affinity' || g.hosts.length === 0) return true;
    return g.hosts.includes(host.host);
  },
  appliesTo: (spec) => spec.group?.policy === 'affinity' && spec.group.hosts.length > 0,
};
