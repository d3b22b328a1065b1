import type { HostFilter, HostState } from '../types.js';
import type { Requirement } from './extra-spec-match.js';
import { matches, scopedRequirements } from './extra-spec-match.js';

/**
 * Flavor extra specs `aggregate_instance_extra_specs:<key>` and unscoped `<key>` must each be matched
 * by some value of `<key>` in the metadata of the host's aggregates. A key no aggregate sets fails,
 * so a host outside every aggregate passes only flavors without such specs.
 */
export const AggregateInstanceExtraSpecsFilter: HostFilter = {
  name: 'AggregateInstanceExtraSpecsFilter',
  passes: (host, spec) => {
    const reqs = scopedRequirements(spec.flavor.extraSpecs, 'aggregate_instance_extra_specs');
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i]!;
      if (!aggregatesSatisfy(host, r.key, r.req)) return false;
    }
    return true;
  },
  appliesTo: (spec) => scopedRequirements(spec.flavor.extraSpecs, 'aggregate_instance_extra_specs').length > 0,
};

function aggregatesSatisfy(host: HostState, key: string, req: Requirement): boolean {
  const aggs = host.aggregates;
  for (let i = 0; i < aggs.length; i++) {
    const v: unknown = aggs[i]!.metadata[key]; // inline type check: see ComputeCapabilitiesFilter
    if (typeof v === 'string' && anyEntryMatches(v, req)) return true;
  }
  return false;
}

/** Nova splits aggregate values on ',' and strips them; any entry may satisfy the requirement. */
function anyEntryMatches(value: string, req: Requirement): boolean {
  if (!value.includes(',')) return matches(value.trim(), req);
  const parts = value.split(',');
  for (let i = 0; i < parts.length; i++) if (matches(parts[i]!.trim(), req)) return true;
  return false;
}
