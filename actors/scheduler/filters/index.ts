/** Registry of the built-in host filters, by their Nova names. */
import type { HostFilter } from '../types.js';
import { AggregateInstanceExtraSpecsFilter } from './AggregateInstanceExtraSpecsFilter.js';
import { AggregateMultiTenancyIsolation } from './AggregateMultiTenancyIsolation.js';
import { AllHostsFilter } from './AllHostsFilter.js';
import { AvailabilityZoneFilter } from './AvailabilityZoneFilter.js';
import { ComputeCapabilitiesFilter } from './ComputeCapabilitiesFilter.js';
import { ComputeFilter } from './ComputeFilter.js';
import { CoreFilter } from './CoreFilter.js';
import { DifferentHostFilter } from './DifferentHostFilter.js';
import { DiskFilter } from './DiskFilter.js';
import { ImagePropertiesFilter } from './ImagePropertiesFilter.js';
import { NumInstancesFilter } from './NumInstancesFilter.js';
import { RamFilter } from './RamFilter.js';
import { SameHostFilter } from './SameHostFilter.js';
import { ServerGroupAffinityFilter } from './ServerGroupAffinityFilter.js';
import { ServerGroupAntiAffinityFilter } from './ServerGroupAntiAffinityFilter.js';

export const builtinFilters: Record<string, HostFilter> = Object.freeze({
  AllHostsFilter,
  ComputeFilter,
  RamFilter,
  DiskFilter,
  CoreFilter,
  AvailabilityZoneFilter,
  NumInstancesFilter,
  SameHostFilter,
  DifferentHostFilter,
  ServerGroupAffinityFilter,
  ServerGroupAntiAffinityFilter,
  ComputeCapabilitiesFilter,
  ImagePropertiesFilter,
  AggregateInstanceExtraSpecsFilter,
  AggregateMultiTenancyIsolation,
});

/**
 * Cheap, decisive checks first: the runner stops at a host's first failing filter, so order only
 * changes cost and which filter gets the blame in `removedBy`, never the result.
 */
export const DEFAULT_FILTERS: readonly string[] = Object.freeze([
  'ComputeFilter',
  'AvailabilityZoneFilter',
  'RamFilter',
  'DiskFilter',
  'CoreFilter',
  'ComputeCapabilitiesFilter',
  'ImagePropertiesFilter',
  'ServerGroupAntiAffinityFilter',
  'ServerGroupAffinityFilter',
  'SameHostFilter',
  'DifferentHostFilter',
]);

/** Resolves configured filter names; an unknown name is a configuration error, not a silent no-op. */
export function filtersByName(names: readonly string[]): HostFilter[] {
  return names.map((name) => {
    const f = Object.prototype.hasOwnProperty.call(builtinFilters, name) ? builtinFilters[name] : undefined;
    if (f === undefined) throw new Error(`unknown scheduler filter: ${name}`);
    return f;
  });
}
