/** Shared by SameHostFilter and DifferentHostFilter: hint values are a uuid or a list of uuids. */
import type { HostState } from '../types.js';

/** Does the host run any of the instances named in the hint? */
export function hostRunsAny(host: HostState, hint: string | string[]): boolean {
  if (typeof hint === 'string') return host.instances.has(hint);
  for (let i = 0; i < hint.length; i++) if (host.instances.has(hint[i]!)) return true;
  return false;
}

/** A hint that names no instance (absent, '' or []) does not constrain anything. */
export function isEmptyHint(hint: string | string[] | undefined): hint is undefined {
  return hint === undefined || hint.length === 0;
}
