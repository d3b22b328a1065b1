/**
 * Availability zones (`os-availability-zone`): the zones of the scheduler's aggregates, plus `nova`
 * (Nova's default zone) for hosts in no zone. `/detail` (admin) lists each zone's hosts with their
 * `nova-compute` service state.
 */
import type { ApiDeps } from '../deps.js';
import { admin, reader } from '../policy.js';
import type { Route } from '../routes.js';
import { DEFAULT_ZONE, zonesOfHosts } from './zones-of.js';

const serviceTime = (iso: string) => iso.replace(/\.(\d{3})Z$/, '.$1000').replace(/Z$/, '');

export function availabilityZoneRoutes(d: ApiDeps): Route[] {
  const { backend } = d;
  const zoneMap = async () => {
    const [services, { zoneOf }] = await Promise.all([backend.services(), zonesOfHosts(backend)]);
    const byZone = new Map<string, typeof services>();
    for (const s of services) byZone.set(zoneOf(s.host), [...(byZone.get(zoneOf(s.host)) ?? []), s]);
    return byZone;
  };
  return [
    {
      method: 'GET', url: '/v2.1/os-availability-zone', policy: reader('os_compute_api:os-availability-zone:list'),
      handler: async () => {
        const byZone = await zoneMap();
        if (byZone.size === 0) byZone.set(DEFAULT_ZONE, []);
        return {
          availabilityZoneInfo: [...byZone.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([zone, services]) => ({
            zoneName: zone, zoneState: { available: services.some((s) => s.state === 'up' && s.status === 'enabled') }, hosts: null,
          })),
        };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-availability-zone/detail', policy: admin('os_compute_api:os-availability-zone:detail'),
      handler: async () => {
        const byZone = await zoneMap();
        return {
          availabilityZoneInfo: [...byZone.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([zone, services]) => ({
            zoneName: zone,
            zoneState: { available: services.some((s) => s.state === 'up' && s.status === 'enabled') },
            hosts: Object.fromEntries(services.map((s) => [s.host, {
              'nova-compute': { available: s.state === 'up', active: s.status === 'enabled', updated_at: serviceTime(s.lastSeenAt) },
            }])),
          })),
        };
      },
    },
  ];
}
