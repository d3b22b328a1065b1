/** What every role (conductor, scheduler, compute, image) is started with, and what it returns. */
import type { Subjects } from '../protocols/subjects.js';
import type { ActorSystem } from './actors/system.js';
import type { Clock } from './clock.js';
import type { HealthView } from './health.js';
import type { Logger } from './log/logger.js';
import type { Metrics } from './metrics/metrics.js';
import type { Probes } from './metrics/probes.js';
import type { Bridge } from './nats/bridge.js';

export interface RoleContext {
  bridge: Bridge;
  subjects: Subjects;
  actors: ActorSystem;
  clock: Clock;
  log: Logger;
  /** Timeout for requests this role makes to others. */
  requestTimeoutMs: number;
  /** This process's metrics (one registry per cluster object); absent when metrics are off, and roles then record nothing. */
  metrics?: Metrics;
  /** This process's probes and scrape token: what the API answers on `/healthz`, `/readyz` and `/metrics`. */
  ops?: { probes: Probes; scrapeToken?: string };
}

export interface Role {
  readonly name: string;
  /** Roles with a role-critical actor say whether they can serve (runtime/health.ts). */
  health?(): HealthView;
  stop(): Promise<void>;
}
