/**
 * Liveness and readiness of one process, as `/healthz` and `/readyz` answer them.
 *
 * - live: the process serves, and no role is past its restart budget (`unhealthy` roles answer 503
 *   until the process restarts, which is exactly what a liveness failure asks an orchestrator for).
 * - ready: started (every role asked for is up), not draining (a stop has begun, so a load
 *   balancer should send nothing new), and every readiness check passes: connected to NATS,
 *   PostgreSQL answering, every role `ok`. A check that takes longer than its bound fails.
 */
export interface CheckResult {
  ok: boolean;
  /** Why not (or what was seen). Never fleet data: `/readyz` is public on the API port. */
  detail?: string;
}
export type Check = () => CheckResult | Promise<CheckResult>;

export interface ProbeReport {
  ok: boolean;
  status: 'ok' | 'starting' | 'draining' | 'failing';
  checks: Record<string, CheckResult>;
}

export const CHECK_TIMEOUT_MS = 2_000;

export class Probes {
  private phase: 'starting' | 'started' | 'draining' = 'starting';
  private readonly readiness = new Map<string, Check>();
  private readonly liveness = new Map<string, Check>();

  /** A readiness check (its removal returned). */
  ready(name: string, check: Check): () => void {
    this.readiness.set(name, check);
    return () => this.readiness.delete(name);
  }

  /** A liveness check (its removal returned). */
  live(name: string, check: Check): () => void {
    this.liveness.set(name, check);
    return () => this.liveness.delete(name);
  }

  /** Every role asked for has started. */
  started(): void {
    if (this.phase === 'starting') this.phase = 'started';
  }

  /** From now on not ready: the process is stopping (or an operator asked it to drain). */
  drain(): void {
    this.phase = 'draining';
  }

  get draining(): boolean {
    return this.phase === 'draining';
  }

  async liveReport(): Promise<ProbeReport> {
    const checks = await run(this.liveness);
    return { ok: Object.values(checks).every((c) => c.ok), status: Object.values(checks).every((c) => c.ok) ? 'ok' : 'failing', checks };
  }

  async readyReport(): Promise<ProbeReport> {
    const checks = await run(this.readiness);
    checks.started = this.phase === 'starting' ? { ok: false, detail: 'roles still starting' } : { ok: true };
    checks.draining = this.phase === 'draining' ? { ok: false, detail: 'draining: stopping' } : { ok: true };
    const ok = Object.values(checks).every((c) => c.ok);
    const status = this.phase === 'starting' ? 'starting' : this.phase === 'draining' ? 'draining' : ok ? 'ok' : 'failing';
    return { ok, status, checks };
  }
}

async function run(checks: Map<string, Check>): Promise<Record<string, CheckResult>> {
  const entries = await Promise.all([...checks].map(async ([name, check]) => [name, await bounded(check)] as const));
  return Object.fromEntries(entries);
}

async function bounded(check: Check): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve().then(check), late]);
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
