/**
 * `/healthz`, `/readyz` and `/metrics` on the API port (the same answers as the operations port,
 * runtime/metrics/ops-http.ts). The API port faces tenants and the internet, so `/metrics` (fleet
 * size, instance states, request rates) needs the scrape token (`Authorization: Bearer …`) when one
 * is configured, or a cloud admin's Keystone token (`X-Auth-Token`); anything else is a 401/403.
 * The probes say only ok or not and which check failed: open, for load balancers and orchestrators.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../../runtime/metrics/metrics.js';
import { bearerMatches, metricsAnswer, probeAnswer, type OpsAnswer } from '../../runtime/metrics/ops-http.js';
import type { Probes } from '../../runtime/metrics/probes.js';
import { forbidden, unauthorized } from './faults.js';
import type { TokenService } from './identity/tokens.js';
import { open } from './policy.js';
import type { Route } from './routes.js';

export interface OpsRouteDeps {
  probes: Probes;
  metrics?: Metrics;
  scrapeToken?: string;
  tokens: TokenService;
}

const send = (reply: FastifyReply, a: OpsAnswer) => reply.code(a.status).header('cache-control', 'no-store').type(a.contentType).send(a.body);

/** The scrape token, else an admin's Keystone token: a 401 without either, a 403 for a non-admin. */
async function mayScrape(req: FastifyRequest, d: OpsRouteDeps): Promise<void> {
  if (d.scrapeToken !== undefined && bearerMatches(req.headers.authorization, d.scrapeToken)) return;
  const token = req.headers['x-auth-token'];
  if (typeof token !== 'string' || token.length === 0 || token.length > 512) throw unauthorized();
  const { roles } = await d.tokens.validate(token);
  if (!roles.includes('admin')) throw forbidden('Only cloud admins (or a scrape token) may read /metrics.');
}

export function opsRoutes(d: OpsRouteDeps): Route[] {
  return [
    { method: 'GET', url: '/healthz', policy: open, handler: async (_req, reply) => send(reply, await probeAnswer(d.probes, 'live')) },
    { method: 'GET', url: '/readyz', policy: open, handler: async (_req, reply) => send(reply, await probeAnswer(d.probes, 'ready')) },
    {
      method: 'GET', url: '/metrics', policy: open,
      handler: async (req, reply) => {
        await mayScrape(req, d);
        return send(reply, await metricsAnswer(d.metrics));
      },
    },
  ];
}
