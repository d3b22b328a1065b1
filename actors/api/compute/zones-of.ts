/**
 * Which availability zone each host is in: the zone of its aggregate (the scheduler's catalog), or
 * Nova's `default_availability_zone`, `nova`, for hosts in none.
 */
import type { Backend } from '../backend.js';

export const DEFAULT_ZONE = 'nova';

export async function zonesOfHosts(backend: Backend): Promise<{ zoneOf: (host: string) => string; zones: { zone: string; hosts: string[] }[] }> {
  const { zones } = await backend.aggregate<{ zones: { zone: string; hosts: string[] }[] }>('zones', {});
  const byHost = new Map<string, string>();
  for (const z of zones) for (const h of z.hosts) byHost.set(h, z.zone);
  return { zoneOf: (host) => byHost.get(host) ?? DEFAULT_ZONE, zones };
}
