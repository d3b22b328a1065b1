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
    for (const s of services) {
      const z = zoneOf(s.host);
      const list = byZone.get(z);
      if (list) list.push(s);
      else byZone.set(z, [s]);
    }
    return byZone;
  };
  return [
    {
      method: 'GET', url: '/v2.1/os-availability-zone', policy: reader('os_compute_api:os-availability-zone:list'),
      handler: async () => {
        // Computed by the conductor: one row per zone, never every service record (Horizon asks on every launch form).
        const { zones } = await zonesOfHosts(backend);
        const summary = await backend.zoneSummary(zones, DEFAULT_ZONE);
        const list = summary.zones.length === 0 ? [{ zone: DEFAULT_ZONE, available: false }] : summary.zones;
        return {
          availabilityZoneInfo: list.map((z) => ({ zoneName: z.zone, zoneState: { available: z.available }, hosts: null })),
        };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-availability-zone/detail', policy: admin('os_compute_api:os-availability-zone:detail'),
      handler: async () => {
        // Every host is in the answer, so the records are paged from the conductor.
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
