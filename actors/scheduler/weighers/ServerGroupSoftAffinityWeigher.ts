import type { HostWeigher } from '../types.js';
import { groupMembersOn } from './group-members.js';

/** Soft affinity: prefer hosts with more members of the group (`soft_affinity_weight_multiplier`, 1.0). */
export function ServerGroupSoftAffinityWeigher(multiplier = 1.0): HostWeigher {
  return {
    name: 'ServerGroupSoftAffinityWeigher',
    multiplier,
    weigh: (host, spec) => groupMembersOn(host, spec, 'soft-affinity'),
    appliesTo: (spec) => spec.group?.policy === 'soft-affinity',
  };
}
