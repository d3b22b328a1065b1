/**
 * Keystone tokens. A token is 32 random bytes (base64url); PostgreSQL keeps only its SHA-256 with
 * the user, project, audit chain and expiry, so every API replica can validate any replica's tokens.
 *
 * Validation resolves what the token grants *now*, as Keystone's Fernet tokens do: the user's current
 * roles on the project, and that user and project still exist and are enabled. The result is cached
 * per replica for `cacheMs` (keystonemiddleware's token cache does the same), so a revoked grant, a
 * disabled or deleted user, a deleted project or a changed password takes effect at once on the
 * replica that made the change and within `cacheMs` on every other. Unknown tokens are remembered
 * for `negativeCacheMs`, so replaying garbage does not cost a query each time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Token, type TokenRow } from '../../../runtime/db/entities/index.js';
import type { Orm } from '../../../runtime/db/orm.js';
import type { Clock, Timer } from '../../../runtime/clock.js';
import type { Logger } from '../../../runtime/log/logger.js';
import { errorFields } from '../../../runtime/log/logger.js';
import { unauthorized } from '../faults.js';
import { effectiveRoles, type RoleName } from './roles.js';

export interface TokenConfig {
  /** Keystone's `[token] expiration`: 3600 s. */
  ttlMs: number;
  cacheMs: number;
  cacheEntries: number;
  /** How long an unknown token is answered 401 without asking the database. */
  negativeCacheMs: number;
}

export const DEFAULT_TOKEN_CONFIG: TokenConfig = { ttlMs: 3_600_000, cacheMs: 5_000, cacheEntries: 10_000, negativeCacheMs: 3_000 };

/** Expired tokens are purged this long after expiry (so a late validation still says "expired"). */
const PURGE_AFTER_MS = 24 * 3_600_000;

/** Every token this service issues: 32 bytes in base64url, no padding. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** A valid token and what it grants now. */
export interface ValidToken {
  token: TokenRow;
  /** The user's current roles on the token's project, implied ones included. */
  roles: RoleName[];
}

/** A token row with its user's and project's state, as read at one moment. */
interface Resolved {
  token: TokenRow;
  roles: RoleName[];
  live: boolean;
}

interface ResolvedRow {
  id_hash: string;
  user_id: string;
  project_id: string;
  roles: string[];
  methods: string[];
  audit_id: string;
  audit_chain_id: string | null;
  parent_audit_id: string | null;
  issued_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  user_enabled: boolean | null;
  project_enabled: boolean | null;
  current_roles: string[];
}

const RESOLVE_SQL = `
  select t.*, u.enabled as user_enabled, p.enabled as project_enabled,
         coalesce((select json_agg(a.role) from keystone_role_assignments a
                   where a.user_id = t.user_id and a.project_id = t.project_id), '[]'::json) as current_roles
  from keystone_tokens t
  left join keystone_users u on u.id = t.user_id
  left join keystone_projects p on p.id = t.project_id
  where t.id_hash = ?`;

/** The token and every token issued from it, directly or through others (token-method children). */
const REVOKE_CHAIN_SQL = `
  with recursive chain(audit_id) as (
    select audit_id from keystone_tokens where id_hash = ?
    union
    select t.audit_id from keystone_tokens t join chain c on t.parent_audit_id = c.audit_id
  )
  update keystone_tokens set revoked_at = ?
  where audit_id in (select audit_id from chain) and revoked_at is null
  returning id_hash`;

export class TokenService {
  private readonly cache = new Map<string, { v: Resolved; at: number }>();
  private readonly unknown = new Map<string, number>();
  private purgeTimer: Timer | undefined;
  /** Database lookups made by `validate` (a figure for tests and metrics). */
  lookups = 0;

  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly cfg: TokenConfig = DEFAULT_TOKEN_CONFIG,
  ) {}

  private get knex() {
    return this.orm.em.getConnection().getKnex();
  }

  /**
   * Issues a token. One issued from `parent` (the token method) keeps the parent's expiry, so
   * re-authenticating with a token never extends it, and joins the parent's audit chain.
   */
  async issue(userId: string, projectId: string, roles: RoleName[], methods: string[], parent?: TokenRow): Promise<{ token: string; row: TokenRow }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const row: TokenRow = {
      idHash: hashOf(token), userId, projectId, roles, methods, auditId: randomBytes(16).toString('base64url').slice(0, 22),
      auditChainId: parent ? parent.auditChainId ?? parent.auditId : null,
      parentAuditId: parent ? parent.auditId : null,
      issuedAt: new Date(now), expiresAt: parent ? parent.expiresAt : new Date(now + this.cfg.ttlMs), revokedAt: null,
    };
    await this.orm.em.fork().insert(Token, row);
    this.remember(row.idHash, { token: row, roles, live: true }, now);
    return { token, row };
  }

  /** The token and what it grants now, or a 401 when it is unknown, revoked, expired or grants nothing. */
  async validate(token: string): Promise<ValidToken> {
    if (!TOKEN_SHAPE.test(token)) throw unauthorized();
    const now = this.clock.now();
    const idHash = hashOf(token);
    const miss = this.unknown.get(idHash);
    if (miss !== undefined && now - miss < this.cfg.negativeCacheMs) throw unauthorized();
    const hit = this.cache.get(idHash);
    let v = hit && now - hit.at < this.cfg.cacheMs ? hit.v : undefined;
    if (!v) {
      v = await this.resolve(idHash);
      if (!v) {
        this.rememberUnknown(idHash, now);
        throw unauthorized();
      }
      this.remember(idHash, v, now);
    }
    if (v.token.revokedAt !== null || !v.live) throw unauthorized();
    if (v.token.expiresAt.getTime() <= now) {
      this.cache.delete(idHash);
      throw unauthorized('The token has expired.');
    }
    return { token: v.token, roles: v.roles };
  }

  /** Revokes the token and every token issued from it; false when it was not live. */
  async revoke(token: string): Promise<boolean> {
    const idHash = hashOf(token);
    const res = await this.knex.raw<{ rows: { id_hash: string }[] }>(REVOKE_CHAIN_SQL, [idHash, new Date(this.clock.now())]);
    this.cache.delete(idHash);
    for (const r of res.rows) this.cache.delete(r.id_hash);
    return res.rows.some((r) => r.id_hash === idHash);
  }

  /** Revokes every live token of the user (password change, disable, delete), here and in the database. */
  async revokeUser(userId: string): Promise<void> {
    await this.orm.em.fork().nativeUpdate(Token, { userId, revokedAt: null }, { revokedAt: new Date(this.clock.now()) });
    this.forget((t) => t.userId === userId);
  }

  /** Revokes every live token scoped to the project (disable, delete). */
  async revokeProject(projectId: string): Promise<void> {
    await this.orm.em.fork().nativeUpdate(Token, { projectId, revokedAt: null }, { revokedAt: new Date(this.clock.now()) });
    this.forget((t) => t.projectId === projectId);
  }

  /**
   * Drops this replica's cached validations matching `which`, so the next use re-reads them (a grant
   * or revoke changes roles). Other replicas re-read within `cacheMs`.
   */
  forget(which: (t: TokenRow) => boolean): void {
    for (const [k, e] of this.cache) if (which(e.v.token)) this.cache.delete(k);
  }

  /** Starts the periodic purge of long-expired tokens. */
  start(intervalMs = 3_600_000): void {
    this.purgeTimer = this.clock.setInterval(() => void this.purge().catch((err) => this.log.warn('token purge failed', errorFields(err))), intervalMs);
  }

  stop(): void {
    this.purgeTimer?.cancel();
    this.cache.clear();
    this.unknown.clear();
  }

  async purge(): Promise<number> {
    return this.orm.em.fork().nativeDelete(Token, { expiresAt: { $lt: new Date(this.clock.now() - PURGE_AFTER_MS) } });
  }

  private async resolve(idHash: string): Promise<Resolved | undefined> {
    this.lookups++;
    const res = await this.knex.raw<{ rows: ResolvedRow[] }>(RESOLVE_SQL, [idHash]);
    const r = res.rows[0];
    if (!r) return undefined;
    const token: TokenRow = {
      idHash: r.id_hash, userId: r.user_id, projectId: r.project_id, roles: r.roles, methods: r.methods, auditId: r.audit_id,
      auditChainId: r.audit_chain_id, parentAuditId: r.parent_audit_id, issuedAt: new Date(r.issued_at), expiresAt: new Date(r.expires_at),
      revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
    };
    const roles = effectiveRoles(r.current_roles ?? []);
    // A deleted or disabled user or project, or no role left on the project: the token grants nothing.
    return { token, roles, live: r.user_enabled === true && r.project_enabled === true && roles.length > 0 };
  }

  private remember(idHash: string, v: Resolved, now: number): void {
    this.unknown.delete(idHash);
    bounded(this.cache, this.cfg.cacheEntries);
    this.cache.delete(idHash);
    this.cache.set(idHash, { v, at: now });
  }

  private rememberUnknown(idHash: string, now: number): void {
    bounded(this.unknown, this.cfg.cacheEntries);
    this.unknown.set(idHash, now);
  }
}

/** Makes room for one entry: the oldest goes first (a Map iterates in insertion order). */
function bounded(m: Map<string, unknown>, max: number): void {
  while (m.size >= max) {
    const oldest = m.keys().next().value;
    if (oldest === undefined) return;
    m.delete(oldest);
  }
}
