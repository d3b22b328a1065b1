/**
 * A role's health, as `novact up`, the cluster and the NATS micro service stats show it. `ok`:
 * serving; `degraded`: a role-critical actor is being rebuilt (requests get a retryable 503 for
 * that moment); `unhealthy`: it could not be kept running, the role answers 503 until restarted.
 */
import { UnavailableError } from '../protocols/errors.js';

export type HealthStatus = 'ok' | 'degraded' | 'unhealthy';

export interface HealthView {
  status: HealthStatus;
  /** Why it is not ok (the last crash), null when ok and never restarted. */
  reason: string | null;
  /** Role-level restarts (rebuilds of a role-critical actor) so far. */
  roleRestarts: number;
  since: string;
}

export class RoleHealth {
  private view: HealthView;

  constructor(
    readonly role: string,
    private readonly now: () => number,
  ) {
    this.view = { status: 'ok', reason: null, roleRestarts: 0, since: new Date(now()).toISOString() };
  }

  get status(): HealthStatus {
    return this.view.status;
  }

  snapshot(): HealthView {
    return { ...this.view };
  }

  set(status: HealthStatus, reason: string | null = this.view.reason): void {
    if (status !== this.view.status) this.view.since = new Date(this.now()).toISOString();
    this.view.status = status;
    this.view.reason = reason;
  }

  restarted(): void {
    this.view.roleRestarts++;
  }

  /** Throws the typed 503 a request gets while the role cannot serve it. */
  check(): void {
    if (this.view.status === 'ok') return;
    throw new UnavailableError(
      this.view.status === 'unhealthy' ? `the ${this.role} role is unhealthy and cannot serve requests` : `the ${this.role} role is restarting; retry`,
    );
  }
}
