import type { HostWeigher } from '../types.js';
import { groupMembersOn } from './group-members.js';

/** Soft anti-affinity: prefer hosts with fewer group members (`soft_anti_affinity_weight_multiplier`, 1.0). */
export function ServerGroupSoftAntiAffinityWeigher(multiplier = 1.0): HostWeigher {
  return {
    name: 'ServerGroupSoftAntiAffinityWeigher',
    multiplier,
    weigh: (host, spec) => -groupMembersOn(host, spec, 'soft-anti-affinity'),
    appliesTo: (spec) => spec.group?.policy === 'soft-anti-affinity',
  };
}
