/**
 * Compute version discovery: `GET /` lists the versions, `GET /v2.1` describes v2.1 and its
 * microversion range. Nova still lists the legacy v2.0 first (clients such as Tempest assert it) and
 * each listed version's self link must answer, so `GET /v2` describes v2.0 (no microversions).
 */
import type { Links } from '../links.js';
import { MAX_VERSION, MIN_VERSION, formatVersion } from '../microversion.js';
import { open } from '../policy.js';
import type { Route } from '../routes.js';

const DESCRIBED_BY = { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' };

function v21(links: Links): Record<string, unknown> {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: formatVersion(MAX_VERSION),
    min_version: formatVersion(MIN_VERSION),
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${links.compute}/` }, DESCRIBED_BY],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

function v20(links: Links): Record<string, unknown> {
  return {
    id: 'v2.0',
    status: 'SUPPORTED',
    version: '',
    min_version: '',
    updated: '2011-01-21T11:33:21Z',
    links: [{ rel: 'self', href: `${links.base}/v2/` }, DESCRIBED_BY],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2' }],
  };
}

/** A version as `GET /` lists it: no media types, only the self link. */
function listed(v: Record<string, unknown>): Record<string, unknown> {
  const { id, status, version, min_version, updated, links } = v;
  return { id, status, version, min_version, updated, links: (links as unknown[]).slice(0, 1) };
}

export function versionRoutes(links: Links): Route[] {
  return [
    { method: 'GET', url: '/', policy: open, handler: async () => ({ versions: [listed(v20(links)), listed(v21(links))] }) },
    { method: 'GET', url: '/v2', policy: open, handler: async () => ({ version: v20(links) }) },
    { method: 'GET', url: '/v2.1', policy: open, handler: async () => ({ version: v21(links) }) },
  ];
}
