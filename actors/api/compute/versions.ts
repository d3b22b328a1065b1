/** Compute version discovery: `GET /` lists the versions, `GET /v2.1` describes v2.1 and its microversion range. */
import type { Links } from '../links.js';
import { MAX_VERSION, MIN_VERSION, formatVersion } from '../microversion.js';
import { open } from '../policy.js';
import type { Route } from '../routes.js';

function v21(links: Links): Record<string, unknown> {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: formatVersion(MAX_VERSION),
    min_version: formatVersion(MIN_VERSION),
    updated: '2013-07-23T11:33:21Z',
    links: [
      { rel: 'self', href: `${links.compute}/` },
      { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

export function versionRoutes(links: Links): Route[] {
  return [
    {
      method: 'GET', url: '/', policy: open,
      handler: async () => {
        const { id, status, version, min_version, updated, links: l } = v21(links) as Record<string, unknown>;
        return { versions: [{ id, status, version, min_version, updated, links: (l as unknown[]).slice(0, 1) }] };
      },
    },
    { method: 'GET', url: '/v2.1', policy: open, handler: async () => ({ version: v21(links) }) },
  ];
}
