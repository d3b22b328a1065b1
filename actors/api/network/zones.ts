/**
 * `GET /v2.0/availability_zones`: the network service's zones (`{name, resource, state}` per zone
 * and resource), as the role lists them with the query applied. The openstack CLI lists these next
 * to the compute zones.
 */
import { NetZones } from '../../../protocols/catalog/network.js';
import type { ApiDeps } from '../deps.js';
import type { Route } from '../routes.js';
import { netReader } from './net-policy.js';
import { V2, callerOf, queryOf, searchOf } from './net-request.js';
import { pageLinks } from './page-links.js';

export function zoneRoutes(d: ApiDeps): Route[] {
  const { backend, links } = d;
  return [
    {
      method: 'GET', url: `${V2}/availability_zones`, policy: netReader('get_availability_zone'),
      handler: async (req) => {
        const page = await backend.net(NetZones, 'zone', { by: callerOf(req), query: queryOf(req) });
        const more = pageLinks(`${links.network}/v2.0/availability_zones`, searchOf(req), page);
        return { availability_zones: page.items, ...(more.length > 0 ? { availability_zones_links: more } : {}) };
      },
    },
  ];
}
