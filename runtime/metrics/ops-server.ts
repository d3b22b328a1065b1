/**
 * The operations port (`--metrics-port`): `/metrics`, `/healthz` and `/readyz` over node:http, for
 * processes without the API (a joined scheduler or compute process) and for scrapers that should
 * not go through the tenant-facing port. Access rules: ops-http.ts. Short timeouts: a scraper that
 * never finishes its request must not hold a socket.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';
import { bearerMatches, metricsAnswer, probeAnswer, type OpsAnswer } from './ops-http.js';
import type { Probes } from './probes.js';

export interface OpsServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  metrics?: Metrics;
  probes: Probes;
  /** When set, `/metrics` needs `Authorization: Bearer <token>`. */
  scrapeToken?: string;
}

export interface OpsServer {
  readonly url: string;
  close(): Promise<void>;
}

const json = (status: number, body: unknown): OpsAnswer => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

async function route(req: IncomingMessage, o: OpsServerOptions): Promise<OpsAnswer> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'only GET and HEAD' });
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') return probeAnswer(o.probes, 'live');
  if (path === '/readyz') return probeAnswer(o.probes, 'ready');
  if (path === '/metrics') {
    if (o.scrapeToken !== undefined && !bearerMatches(req.headers.authorization, o.scrapeToken)) return json(401, { error: 'a scrape token is required (Authorization: Bearer …)' });
    return metricsAnswer(o.metrics);
  }
  return json(404, { error: 'not found: /metrics, /healthz, /readyz' });
}

export async function startOpsServer(o: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    route(req, o).then(
      (a) => {
        res.writeHead(a.status, { 'content-type': a.contentType, 'cache-control': 'no-store', ...(a.status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
        res.end(req.method === 'HEAD' ? undefined : a.body);
      },
      () => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal error' }));
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
