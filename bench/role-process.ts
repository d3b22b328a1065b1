/**
 * A role process for the simulation benchmark: joins a running cluster (its NATS and PostgreSQL) and
 * runs only the roles it is given, so that they use a core of their own, as they would on their own
 * machines. Started by `sim --split`; configuration arrives as JSON in the environment. Prints
 * `ready` once started, and `{"hostsUp":N}` once its scheduler (if any) sees every host; on SIGTERM
 * prints its scheduler's figures as one JSON line and stops. With metrics on (the default) it serves
 * them on an operations port of its own and prints `{"opsUrl":…}` before `ready`, for the parent to scrape.
 */
import { startCluster, type ClusterOptions, type RoleName } from '../cluster/cluster.js';
import { percentiles } from './percentiles.js';
import { benchTracing } from './discard-exporter.js';

export const ROLE_PROCESS_ENV = 'NOVACT_BENCH_ROLES';

export interface RoleProcessConfig {
  natsUrl: string;
  natsAuth: NonNullable<ClusterOptions['natsAuth']>;
  databaseUrl?: string;
  hostSeed?: string;
  subjectRoot: string;
  roles: RoleName[];
  hosts: number;
  compute: NonNullable<ClusterOptions['compute']>;
  /** Instrument this process (default true); off: nothing recorded, no operations port. */
  metrics?: boolean;
  /** Record spans (discarded by the exporter): `sim --tracing on`. */
  tracing?: boolean;
}

/** What a scheduler process reports when it stops. */
export interface SchedulerFigures {
  decisions: number;
  noValidHost: number;
  lostClaims: number;
  decisionUs: Record<string, number>;
  maxHostsDown: number;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env[ROLE_PROCESS_ENV] ?? '') as RoleProcessConfig;
  const cluster = await startCluster({
    natsUrl: cfg.natsUrl,
    natsAuth: cfg.natsAuth,
    ...(cfg.databaseUrl === undefined ? {} : { databaseUrl: cfg.databaseUrl }),
    ...(cfg.hostSeed === undefined ? {} : { hostSeed: cfg.hostSeed }),
    subjectRoot: cfg.subjectRoot,
    roles: cfg.roles,
    hosts: cfg.hosts,
    compute: cfg.compute,
    logLevel: 'error',
    metrics: cfg.metrics === false ? { enabled: false } : { port: 0 },
    tracing: benchTracing(cfg.tracing),
  });
  if (cluster.opsUrl) process.stdout.write(`${JSON.stringify({ opsUrl: cluster.opsUrl })}\n`);
  const scheduler = cluster.scheduler;
  let maxHostsDown = 0;
  const downTimer = setInterval(() => {
    if (!scheduler) return;
    const now = Date.now();
    let down = 0;
    for (const h of scheduler.states.all()) if (now - h.lastSeenAt > 60_000) down++;
    maxHostsDown = Math.max(maxHostsDown, down);
  }, 1000);
  process.once('SIGTERM', () => {
    clearInterval(downTimer);
    if (scheduler) {
      const s = scheduler.stats;
      const figures: SchedulerFigures = { decisions: s.decisions, noValidHost: s.noValidHost, lostClaims: s.lostClaims, decisionUs: percentiles(s.decisionUs, [50, 99]), maxHostsDown };
      process.stdout.write(`${JSON.stringify(figures)}\n`);
    }
    cluster.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  process.stdout.write('ready\n');
  if (scheduler) {
    await cluster.waitForHosts(cfg.hosts, 600_000);
    process.stdout.write(`${JSON.stringify({ hostsUp: cfg.hosts })}\n`);
  }
}

if (process.env[ROLE_PROCESS_ENV] !== undefined) {
  main().catch((err: unknown) => {
    process.stderr.write(`role process failed: ${String(err)}\n`);
    process.exit(1);
  });
}
