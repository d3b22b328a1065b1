/**
 * REST API latency under load: `GET /v2.1/servers/{id}` and `POST /v2.1/servers` at fixed request
 * rates, each driven from a second process (bench/api-load.ts), against an all-in-one cluster with
 * the api role (embedded NATS and PostgreSQL unless NATS_URL/DATABASE_URL are set, fake hosts).
 * Prints one JSON line: per phase, requests sent, ok, errors (by status), achieved rate and latency
 * percentiles in milliseconds.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../cluster/cluster.js';
import type { LoadResult, LoadSpec } from './api-load.js';
import { benchTracing } from './discard-exporter.js';

export interface ApiBenchOptions {
  hosts: number;
  /** GET /servers/{id} per second. */
  getRate: number;
  /** POST /servers per second. */
  postRate: number;
  seconds: number;
  /** Instrument the cluster (default true). */
  metrics?: boolean;
  /** Record spans, discarded by the exporter (default false). */
  tracing?: boolean;
}

const PASSWORD = 'bench-admin';

function load(spec: LoadSpec): Promise<LoadResult> {
  const child = fork(fileURLToPath(new URL('./api-load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (r) => resolve(r as LoadResult));
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    child.send(spec);
  });
}

async function json(url: string, init: RequestInit & { token?: string }): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (init.token) headers['X-Auth-Token'] = init.token;
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export async function apiBench(o: ApiBenchOptions): Promise<Record<string, unknown>> {
  const cluster = await startCluster({
    hosts: o.hosts,
    logLevel: 'error',
    natsUrl: process.env.NATS_URL,
    databaseUrl: process.env.DATABASE_URL,
    fakeHost: { vcpus: 1024, memoryMb: 4_194_304, diskGb: 262_144 },
    scheduler: { maxInstancesPerHost: 100_000 },
    api: { adminPassword: PASSWORD },
    metrics: o.metrics === false ? { enabled: false } : {},
    tracing: benchTracing(o.tracing),
  } as Parameters<typeof startCluster>[0]);
  try {
    await cluster.waitForHosts(o.hosts, 120_000);
    const base = cluster.apiUrl!;
    const auth = await json(`${base}/v3/auth/tokens`, {
      method: 'POST',
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: PASSWORD } } },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    const token = auth.headers.get('x-subject-token')!;
    const project = auth.body.token.project.id as string;
    // The POST phase creates rate × seconds servers: lift the project's quota first.
    await json(`${base}/v2.1/os-quota-sets/${project}`, { method: 'PUT', token, body: JSON.stringify({ quota_set: { instances: -1, cores: -1, ram: -1 } }) });
    const image = (await cluster.client.listImages())[0]!;
    const boot = await json(`${base}/v2.1/servers`, { method: 'POST', token, body: JSON.stringify({ server: { name: 'target', flavorRef: '1', imageRef: image.id } }) });
    const id = boot.body.server.id as string;
    await cluster.client.waitForServer(id, (s) => s.status === 'ACTIVE');

    // This process's CPU during the read phase: at a fixed rate, the instrumentation's cost shows there first.
    const cpu0 = process.cpuUsage();
    const get = await load({ url: base, method: 'GET', path: `/v2.1/servers/${id}`, token, rate: o.getRate, seconds: o.seconds });
    const cpu = process.cpuUsage(cpu0);
    const getCpuSeconds = Math.round((cpu.user + cpu.system) / 1e4) / 100;
    const post = await load({
      url: base, method: 'POST', path: '/v2.1/servers', token, rate: o.postRate, seconds: o.seconds,
      body: JSON.stringify({ server: { name: 'bench-{{i}}', flavorRef: '1', imageRef: image.id } }),
    });
    return { bench: 'api', hosts: o.hosts, metrics: o.metrics !== false, tracing: o.tracing === true, get, getCpuSeconds, post, rssMb: Math.round(process.memoryUsage().rss / 1_048_576) };
  } finally {
    await cluster.stop();
  }
}
