/**
 * Crash policies. nact's default logs to the console and stops the actor; every novact actor gets
 * an explicit policy instead: restart (reset state from its `init`) with exponential backoff while
 * within a restart budget, then give up (stop, or escalate to the parent).
 */
export interface RestartPolicy {
  /** Restarts allowed within `windowMs` before giving up. */
  maxRestarts: number;
  windowMs: number;
  /** Delay before the first restart; doubles per restart inside the window, capped. */
  backoffMs: number;
  maxBackoffMs: number;
  /** What to do when the budget is spent. */
  onExhausted: 'stop' | 'escalate';
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 10,
  windowMs: 60_000,
  backoffMs: 5,
  maxBackoffMs: 1_000,
  onExhausted: 'stop',
};

/** Remembers recent restarts of one actor and decides the next move. Pure apart from the clock reading. */
export class RestartBudget {
  private times: number[] = [];

  constructor(private readonly policy: RestartPolicy) {}

  /** Returns the backoff before restarting, or undefined when the budget is spent. */
  next(now: number): number | undefined {
    this.times = this.times.filter((t) => now - t < this.policy.windowMs);
    if (this.times.length >= this.policy.maxRestarts) return undefined;
    const backoff = Math.min(this.policy.maxBackoffMs, this.policy.backoffMs * 2 ** this.times.length);
    this.times.push(now);
    return backoff;
  }

  get recent(): number {
    return this.times.length;
  }
}
