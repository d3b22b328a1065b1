/**
 * Neutron's optional `.json` format suffix (`GET /v2.0/networks.json`, `…/ports/<id>.json`; the
 * python-neutronclient library sends it): dropped from networking paths before routing, as Neutron
 * drops it. A tag that itself ends in `.json` loses it there too, as in Neutron.
 */
export function withoutJsonSuffix(url: string): string {
  if (!url.startsWith('/networking/')) return url;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.endsWith('.json')) return url;
  return path.slice(0, -'.json'.length) + (q < 0 ? '' : url.slice(q));
}
