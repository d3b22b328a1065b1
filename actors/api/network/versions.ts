/**
 * Networking version discovery: `GET /networking` lists v2.0 (no token needed, as Neutron's root),
 * `GET /networking/v2.0/` lists its core resources with their links (Neutron's core are networks,
 * subnets, subnet pools and ports; novact has no subnet pools). keystoneauth reads the first to
 * find the versioned endpoint of the catalog's `network` entry.
 */
import { KINDS } from '../../../protocols/network/resources.js';
import type { Links } from '../links.js';
import { open } from '../policy.js';
import type { Route } from '../routes.js';
import { V2 } from './net-request.js';
import { netReader } from './net-policy.js';

const CORE = [KINDS.network, KINDS.subnet, KINDS.port];

export function networkVersionRoutes(links: Links): Route[] {
  return [
    {
      method: 'GET', url: '/networking', policy: open,
      handler: async () => ({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${links.network}/v2.0/` }] }] }),
    },
    {
      method: 'GET', url: V2, policy: netReader('get_resources'),
      handler: async () => ({
        resources: CORE.map((k) => ({ name: k.kind, collection: k.collection, links: [{ rel: 'self', href: `${links.network}/v2.0/${k.path}` }] })),
      }),
    },
  ];
}
