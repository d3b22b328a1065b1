import type { HostFilter } from '../types.js';
import { matches, scopedRequirements } from './extra-spec-match.js';

/**
 * Flavor extra specs `capabilities:<key>` (required) and unscoped `<key>` (checked only when the
 * host reports that capability, for backward compatibility) against host.capabilities.
 */
export const ComputeCapabilitiesFilter: HostFilter = {
  name: 'ComputeCapabilitiesFilter',
  passes: (host, spec) => {
    const reqs = scopedRequirements(spec.flavor.extraSpecs, 'capabilities');
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i]!;
      // Inline rather than stringAt(): a load site that only ever sees capabilities objects stays fast.
      const cap: unknown = host.capabilities[r.key];
      if (typeof cap !== 'string') {
        if (r.scoped) return false;
        continue;
      }
      if (!matches(cap, r.req)) return false;
    }
    return true;
  },
  appliesTo: (spec) => scopedRequirements(spec.flavor.extraSpecs, 'capabilities').length > 0,
};
