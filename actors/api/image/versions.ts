/** Glance version discovery under `/image`: `GET /image` (300 Multiple Choices, as Glance answers) and `/image/versions`. */
import type { Links } from '../links.js';
import { open } from '../policy.js';
import type { Route } from '../routes.js';

export function imageVersionRoutes(links: Links): Route[] {
  const versions = () => ({
    versions: [
      { id: 'v2.9', status: 'CURRENT', links: [{ rel: 'self', href: `${links.image}/v2/` }] },
      ...['2.8', '2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0'].map((v) => ({
        id: `v${v}`, status: 'SUPPORTED', links: [{ rel: 'self', href: `${links.image}/v2/` }],
      })),
    ],
  });
  return [
    { method: 'GET', url: '/image', policy: open, handler: async (_req, reply) => reply.code(300).send(versions()) },
    { method: 'GET', url: '/image/versions', policy: open, handler: async () => versions() },
  ];
}
