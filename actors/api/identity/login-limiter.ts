/**
 * Login rate limits: a token bucket per key (a user name or id, a source address), in memory, per API
 * replica. Each attempt takes one token; a bucket refills at `perSecond` up to `burst`. The map is
 * bounded: at `maxKeys`, buckets that have refilled completely are dropped first, then the oldest.
 */
export interface BucketConfig {
  burst: number;
  perSecond: number;
}

export interface LoginLimits {
  /** Per source address, every `POST /v3/auth/tokens` and password change. */
  perSource: BucketConfig;
  /** Per user (as named in the request, known or not), every password check. */
  perUser: BucketConfig;
  maxKeys: number;
}

/** Generous: a person or a CLI script never meets them; a password-guessing loop does. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perSource: { burst: 200, perSecond: 10 },
  perUser: { burst: 50, perSecond: 2 },
  maxKeys: 10_000,
};

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly cfg: BucketConfig,
    private readonly maxKeys: number,
  ) {}

  /** Takes a token: 0 when allowed, else the milliseconds until one is available. */
  take(key: string, now: number): number {
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.cfg.burst, b.tokens + ((now - b.at) / 1000) * this.cfg.perSecond);
      b.at = now;
    } else {
      this.makeRoom(now);
      b = { tokens: this.cfg.burst, at: now };
      this.buckets.set(key, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return this.cfg.perSecond > 0 ? Math.ceil(((1 - b.tokens) / this.cfg.perSecond) * 1000) : 60_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  private makeRoom(now: number): void {
    if (this.buckets.size < this.maxKeys) return;
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.cfg.perSecond >= this.cfg.burst) this.buckets.delete(k);
    }
    // Still full: the oldest entry goes (a Map iterates in insertion order).
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }
}

/** The two limits a login passes: its source first, then the user it names. */
export class LoginLimiter {
  private readonly sources: TokenBuckets;
  private readonly users: TokenBuckets;

  constructor(readonly cfg: LoginLimits = DEFAULT_LOGIN_LIMITS) {
    this.sources = new TokenBuckets(cfg.perSource, cfg.maxKeys);
    this.users = new TokenBuckets(cfg.perUser, cfg.maxKeys);
  }

  /** 0 when the attempt may go ahead, else the milliseconds to wait. */
  source(address: string, now: number): number {
    return this.sources.take(address, now);
  }

  user(key: string, now: number): number {
    return this.users.take(key, now);
  }
}
