/**
 * The service catalog in tokens: identity, compute, image and network, each with public, internal and admin
 * endpoints at this API's base URL. Clients (keystoneauth, the openstack CLI) find every service
 * through it, so it is what makes one HTTP server look like a cloud.
 */
import { createHash } from 'node:crypto';
import type { Links } from '../links.js';

export const REGION = 'RegionOne';

const stableId = (s: string) => createHash('sha256').update(`novact-catalog:${s}`).digest('hex').slice(0, 32);

export interface CatalogEntry {
  type: string;
  name: string;
  id: string;
  endpoints: { id: string; interface: 'public' | 'internal' | 'admin'; region: string; region_id: string; url: string }[];
}

export function catalog(links: Links): CatalogEntry[] {
  const services: [type: string, name: string, url: string][] = [
    ['identity', 'keystone', links.identity],
    ['compute', 'nova', links.compute],
    ['image', 'glance', links.image],
    ['network', 'neutron', links.network],
  ];
  return services.map(([type, name, url]) => ({
    type,
    name,
    id: stableId(type),
    endpoints: (['public', 'internal', 'admin'] as const).map((iface) => ({
      id: stableId(`${type}:${iface}`), interface: iface, region: REGION, region_id: REGION, url,
    })),
  }));
}
