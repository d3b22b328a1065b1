/**
 * A cluster for one test file: private nats-server and PostgreSQL (killable), all roles in-process,
 * fast report intervals, hosts ready before the first test. Stopped at teardown.
 */
import type { Test } from 'tap';
import { startCluster, type Cluster, type ClusterOptions } from '../../cluster/cluster.js';
import { startServers } from './servers.js';

export async function startTestCluster(t: Test, opts: ClusterOptions = {}) {
  const servers = await startServers(t);
  const cluster = await startCluster({
    natsUrl: servers.nats.url,
    databaseUrl: servers.pg.url,
    logLevel: (process.env.NOVACT_LOG as 'error' | undefined) ?? 'error',
    requestTimeoutMs: 5_000,
    ...opts,
    compute: { reportIntervalMs: 500, heartbeatIntervalMs: 200, ...opts.compute },
    conductor: { spawnTimeoutMs: 5_000, powerTimeoutMs: 5_000, convergeAttempts: 4, ...opts.conductor },
  });
  // Registered after the servers' teardown, so it runs first (tap runs teardowns in reverse).
  t.teardown(() => cluster.stop());
  const hosts = typeof opts.hosts === 'number' ? opts.hosts : Array.isArray(opts.hosts) ? opts.hosts.length : 5;
  if ((opts.roles ?? ['scheduler', 'compute']).includes('compute')) await cluster.waitForHosts(hosts);
  return { cluster, servers };
}

/** Waits until every server in `ids` satisfies `done`. */
export function waitAll(cluster: Cluster, ids: string[], done: Parameters<Cluster['client']['waitForServer']>[1], timeoutMs = 30_000) {
  return Promise.all(ids.map((id) => cluster.client.waitForServer(id, done, timeoutMs)));
}

export const settled = (s: { status: string }) => s.status !== 'BUILD';
export const idle = (s: { taskState: string | null }) => s.taskState === null;
