/** Shared by the soft (anti-)affinity weighers. */
import type { HostState, RequestSpec } from '../types.js';

/** Members of the request's group already on `host`, when the group has `policy`; else 0. */
export function groupMembersOn(host: HostState, spec: RequestSpec, policy: 'soft-affinity' | 'soft-anti-affinity'): number {
  const g = spec.group;
  if (g === undefined || g.policy !== policy) return 0;
  let n = 0;
  const hosts = g.hosts;
  for (let i = 0; i < hosts.length; i++) if (hosts[i] === host.host) n++;
  return n;
}
