/**
 * What `/metrics`, `/healthz` and `/readyz` answer, shared by the API port (Fastify) and the
 * `--metrics-port` server (node:http).
 *
 * Access to `/metrics` (it describes the fleet: host counts, instance states, request rates):
 * - with a scrape token configured (`NOVACT_METRICS_TOKEN`, `ClusterOptions.metrics.token`), a
 *   request must carry `Authorization: Bearer <token>` (compared in constant time), on either port;
 * - on the API port, a Keystone token of a cloud admin (`X-Auth-Token`) is accepted too, and
 *   nothing else: that port faces the tenants;
 * - on the metrics port without a scrape token, anyone who can reach it may scrape: it listens on
 *   127.0.0.1 unless the operator gives another address (`--metrics-port HOST:PORT`).
 * `/healthz` and `/readyz` are open on both: they say only ok or not, and which check failed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metrics } from './metrics.js';
import type { ProbeReport, Probes } from './probes.js';

export interface OpsAnswer {
  status: number;
  contentType: string;
  body: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when `authorization` is `Bearer <token>` (hashed first: equal lengths for timingSafeEqual). */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  if (authorization === undefined) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

export async function metricsAnswer(metrics: Metrics | undefined): Promise<OpsAnswer> {
  if (!metrics) return { status: 404, contentType: 'application/json', body: JSON.stringify({ error: 'metrics are off in this process' }) };
  return { status: 200, contentType: metrics.contentType, body: await metrics.scrape() };
}

export async function probeAnswer(probes: Probes, which: 'live' | 'ready'): Promise<OpsAnswer> {
  const r: ProbeReport = which === 'live' ? await probes.liveReport() : await probes.readyReport();
  return { status: r.ok ? 200 : 503, contentType: 'application/json', body: JSON.stringify(r) };
}
