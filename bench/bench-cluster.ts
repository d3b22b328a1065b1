/** The cluster the in-process benchmarks run on: big fake hosts, quiet logs, NATS/PostgreSQL from the environment if set. */
import { startCluster, type Cluster } from '../cluster/cluster.js';

export async function startBenchCluster(hosts: number): Promise<Cluster> {
  const cluster = await startCluster({
    hosts,
    logLevel: 'error',
    natsUrl: process.env.NATS_URL,
    databaseUrl: process.env.DATABASE_URL,
    fakeHost: { vcpus: 128, memoryMb: 1_048_576, diskGb: 65_536 },
    scheduler: { maxInstancesPerHost: 1_000 },
  } as Parameters<typeof startCluster>[0]);
  await cluster.waitForHosts(hosts, 120_000);
  return cluster;
}
