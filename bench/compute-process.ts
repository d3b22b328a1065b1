/**
 * A compute process for the simulation benchmark: joins a running cluster's NATS and runs only the
 * compute role with N fake hosts, so the hosts' reports and guest operations use a core of their own,
 * as compute nodes would. Started by `sim --split`; configuration arrives as JSON in the environment.
 * Prints `ready` once every host sent its first report; stops cleanly on SIGTERM.
 */
import { startCluster, type ClusterOptions } from '../runtime/cluster.js';

export const COMPUTE_PROCESS_ENV = 'NOVACT_BENCH_COMPUTE';

export interface ComputeProcessConfig {
  natsUrl: string;
  natsAuth: NonNullable<ClusterOptions['natsAuth']>;
  subjectRoot: string;
  hosts: number;
  compute: NonNullable<ClusterOptions['compute']>;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env[COMPUTE_PROCESS_ENV] ?? '') as ComputeProcessConfig;
  const cluster = await startCluster({
    natsUrl: cfg.natsUrl,
    natsAuth: cfg.natsAuth,
    subjectRoot: cfg.subjectRoot,
    roles: ['compute'],
    hosts: cfg.hosts,
    compute: cfg.compute,
    logLevel: 'error',
  });
  process.once('SIGTERM', () => {
    cluster.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  process.stdout.write('ready\n');
}

if (process.env[COMPUTE_PROCESS_ENV] !== undefined) {
  main().catch((err: unknown) => {
    process.stderr.write(`compute process failed: ${String(err)}\n`);
    process.exit(1);
  });
}
