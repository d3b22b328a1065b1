/**
 * Keystone tokens. A token is 32 random bytes (base64url); PostgreSQL keeps only its SHA-256 with
 * the user, project, roles and expiry, so every API replica can validate any replica's tokens.
 * Validations are cached per replica for `cacheMs` (keystonemiddleware's token cache does the same):
 * a revocation takes effect at once on the replica that revoked, and within `cacheMs` elsewhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Token, type TokenRow } from '../../../runtime/db/entities/index.js';
import type { Orm } from '../../../runtime/db/orm.js';
import type { Clock, Timer } from '../../../runtime/clock.js';
import type { Logger } from '../../../runtime/log/logger.js';
import { errorFields } from '../../../runtime/log/logger.js';
import { unauthorized } from '../faults.js';

export interface TokenConfig {
  /** Keystone's `[token] expiration`: 3600 s. */
  ttlMs: number;
  cacheMs: number;
  cacheEntries: number;
}

export const DEFAULT_TOKEN_CONFIG: TokenConfig = { ttlMs: 3_600_000, cacheMs: 5_000, cacheEntries: 10_000 };

/** Expired tokens are purged this long after expiry (so a late validation still says "expired"). */
const PURGE_AFTER_MS = 24 * 3_600_000;

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export class TokenService {
  private readonly cache = new Map<string, { row: TokenRow; at: number }>();
  private purgeTimer: Timer | undefined;

  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly cfg: TokenConfig = DEFAULT_TOKEN_CONFIG,
  ) {}

  async issue(userId: string, projectId: string, roles: string[], methods: string[]): Promise<{ token: string; row: TokenRow }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const row: TokenRow = {
      idHash: hashOf(token), userId, projectId, roles, methods, auditId: randomBytes(16).toString('base64url').slice(0, 22),
      issuedAt: new Date(now), expiresAt: new Date(now + this.cfg.ttlMs), revokedAt: null,
    };
    await this.orm.em.fork().insert(Token, row);
    this.remember(row, now);
    return { token, row };
  }

  /** The token's record, or a 401 when it is unknown, revoked or expired. */
  async validate(token: string): Promise<TokenRow> {
    const now = this.clock.now();
    const idHash = hashOf(token);
    const hit = this.cache.get(idHash);
    let row = hit && now - hit.at < this.cfg.cacheMs ? hit.row : undefined;
    if (!row) {
      row = (await this.orm.em.fork().findOne(Token, { idHash }, { disableIdentityMap: true })) ?? undefined;
      if (row) this.remember(row, now);
    }
    if (!row || row.revokedAt !== null) throw unauthorized('The request you have made requires authentication.');
    if (row.expiresAt.getTime() <= now) {
      this.cache.delete(idHash);
      throw unauthorized('The token has expired.');
    }
    return row;
  }

  async revoke(token: string): Promise<boolean> {
    const idHash = hashOf(token);
    this.cache.delete(idHash);
    return (await this.orm.em.fork().nativeUpdate(Token, { idHash, revokedAt: null }, { revokedAt: new Date(this.clock.now()) })) > 0;
  }

  /** Starts the periodic purge of long-expired tokens. */
  start(intervalMs = 3_600_000): void {
    this.purgeTimer = this.clock.setInterval(() => void this.purge().catch((err) => this.log.warn('token purge failed', errorFields(err))), intervalMs);
  }

  stop(): void {
    this.purgeTimer?.cancel();
    this.cache.clear();
  }

  async purge(): Promise<number> {
    return this.orm.em.fork().nativeDelete(Token, { expiresAt: { $lt: new Date(this.clock.now() - PURGE_AFTER_MS) } });
  }

  private remember(row: TokenRow, now: number): void {
    if (this.cache.size >= this.cfg.cacheEntries) {
      // Oldest first: a Map iterates in insertion order.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.delete(row.idHash);
    this.cache.set(row.idHash, { row, at: now });
  }
}
