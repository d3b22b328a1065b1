/**
 * The operations side of one cluster object: its metrics registry, its probes (`/healthz`,
 * `/readyz`) and, when asked for, the operations port. `startCluster` hands each role's bridge,
 * pool and the actor system to it; it turns them into readiness checks and metrics.
 *
 * Readiness: every role connection is connected to NATS, every pool answers `select 1` (at most
 * once a second, so a busy prober cannot load the database), every role is `ok`, started, not
 * draining. Liveness: no role is `unhealthy` (past its restart budget: only a restart helps).
 */
import type { HealthView } from '../runtime/health.js';
import type { ActorSystem } from '../runtime/actors/system.js';
import type { Orm } from '../runtime/db/orm.js';
import { Metrics } from '../runtime/metrics/metrics.js';
import { startOpsServer, type OpsServer } from '../runtime/metrics/ops-server.js';
import { poolOf, watchPool } from '../runtime/metrics/pool-metrics.js';
import { Probes, type CheckResult } from '../runtime/metrics/probes.js';
import type { Bridge, BridgeOptions } from '../runtime/nats/bridge.js';

export interface ClusterMetricsOptions {
  /** Instrument this process (default true); false records nothing (the bench's "metrics off"). */
  enabled?: boolean;
  /** Serve `/metrics`, `/healthz`, `/readyz` on this port (0: a free one); absent: no operations port. */
  port?: number;
  /** The operations port's address (default 127.0.0.1). */
  host?: string;
  /** A scrape token: `/metrics` then needs `Authorization: Bearer <token>` (both ports). */
  token?: string;
  /** Node's process metrics (default true). */
  process?: boolean;
}

/** A database probe's answer is reused this long. */
const DB_PROBE_CACHE_MS = 1_000;

export class Operations {
  readonly metrics: Metrics | undefined;
  readonly probes = new Probes();
  private readonly bridges: { role: string; bridge: Bridge }[] = [];
  private readonly pools: { name: string; orm: Orm }[] = [];
  private readonly undo: (() => void)[] = [];
  private server: OpsServer | undefined;
  private dbProbe: { at: number; result: Promise<CheckResult> } | undefined;

  constructor(readonly options: ClusterMetricsOptions = {}) {
    if (options.enabled ?? true) this.metrics = new Metrics({ process: options.process ?? true });
    this.probes.ready('nats', () => {
      const down = this.bridges.filter((b) => !b.bridge.connected).map((b) => b.role);
      return down.length === 0 ? { ok: true } : { ok: false, detail: `not connected to NATS: ${down.join(', ')}` };
    });
    this.probes.ready('postgres', () => this.probeDatabases());
  }

  /** The operations port, when one was asked for (started before the roles: `/healthz` answers while they start). */
  async listen(): Promise<void> {
    if (this.options.port === undefined) return;
    this.server = await startOpsServer({
      port: this.options.port,
      probes: this.probes,
      ...(this.options.host !== undefined ? { host: this.options.host } : {}),
      ...(this.metrics ? { metrics: this.metrics } : {}),
      ...(this.options.token !== undefined ? { scrapeToken: this.options.token } : {}),
    });
  }

  get url(): string | undefined {
    return this.server?.url;
  }

  /** What a role's bridge is built with. */
  bridgeOptions(role: string): BridgeOptions {
    return this.metrics ? { metrics: this.metrics, role } : { role };
  }

  /** What the API role is given (its own `/healthz`, `/readyz`, `/metrics`). */
  get roleOps(): { probes: Probes; scrapeToken?: string } {
    return { probes: this.probes, ...(this.options.token !== undefined ? { scrapeToken: this.options.token } : {}) };
  }

  /** A role's connection: readiness needs it connected. */
  watchBridge(role: string, bridge: Bridge): void {
    this.bridges.push({ role, bridge });
  }

  /** A role's pool: readiness needs it answering; its waits and connections are metrics. */
  watchPool(name: string, orm: Orm): void {
    this.pools.push({ name, orm });
    const pool = this.metrics && poolOf(orm);
    if (this.metrics && pool) this.undo.push(watchPool(this.metrics, name, pool));
  }

  watchActors(actors: ActorSystem): void {
    if (this.metrics) this.undo.push(actors.instrument(this.metrics));
  }

  /** Every role has started: readiness now depends on their health; liveness on none being unhealthy. */
  started(health: () => Record<string, HealthView>): void {
    this.probes.ready('roles', () => {
      const bad = Object.entries(health()).filter(([, h]) => h.status !== 'ok');
      return bad.length === 0 ? { ok: true } : { ok: false, detail: bad.map(([r, h]) => `${r} ${h.status}`).join(', ') };
    });
    this.probes.live('roles', () => {
      const dead = Object.entries(health()).filter(([, h]) => h.status === 'unhealthy');
      return dead.length === 0 ? { ok: true } : { ok: false, detail: `unhealthy: ${dead.map(([r]) => r).join(', ')}` };
    });
    const m = this.metrics?.m;
    if (m) {
      this.undo.push(this.metrics!.onScrape(() => {
        for (const [role, h] of Object.entries(health())) {
          for (const status of ['ok', 'degraded', 'unhealthy'] as const) m.roleHealth.set({ role, status }, h.status === status ? 1 : 0);
          m.roleRestarts.child(role).value = h.roleRestarts;
        }
      }));
    }
    this.probes.started();
  }

  async close(): Promise<void> {
    this.probes.drain();
    for (const u of this.undo.splice(0)) u();
    await this.server?.close();
    this.server = undefined;
  }

  private probeDatabases(): Promise<CheckResult> {
    const now = Date.now();
    if (this.dbProbe && now - this.dbProbe.at < DB_PROBE_CACHE_MS) return this.dbProbe.result;
    const result = Promise.all(this.pools.map(async ({ name, orm }) => {
      try {
        await orm.em.getConnection().execute('select 1');
        return undefined;
      } catch {
        return name;
      }
    })).then((failed): CheckResult => {
      const bad = failed.filter((n): n is string => n !== undefined);
      return bad.length === 0 ? { ok: true } : { ok: false, detail: `PostgreSQL does not answer: ${bad.join(', ')}` };
    });
    this.dbProbe = { at: now, result };
    return result;
  }
}
