import type { HostFilter } from '../types.js';
import { csvContains } from './aggregate-metadata.js';

const KEY_PREFIX = 'filter_tenant_id';

/**
 * Aggregates with metadata `filter_tenant_id` (comma separated; also any key starting with it, to
 * get past the 255-character value limit) reserve their hosts for those projects. As in Nova, the
 * allowed projects of all the host's aggregates are pooled; a host in no such aggregate is open.
 */
export const AggregateMultiTenancyIsolation: HostFilter = {
  name: 'AggregateMultiTenancyIsolation',
  passes: (host, spec) => {
    let restricted = false;
    const aggs = host.aggregates;
    for (let i = 0; i < aggs.length; i++) {
      const md = aggs[i]!.metadata;
      for (const key in md) {
        if (!key.startsWith(KEY_PREFIX) || !Object.prototype.hasOwnProperty.call(md, key)) continue;
        restricted = true;
        if (csvContains(md[key]!, spec.projectId)) return true;
      }
    }
    return !restricted;
  },
};
