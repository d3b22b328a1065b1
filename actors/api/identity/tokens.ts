/**
 * Keystone tokens. A token is 32 random bytes (base64url); PostgreSQL keeps only its SHA-256 with
 * the user, project, audit chain and expiry, so every API replica can validate any replica's tokens.
 *
 * Validation resolves what the token grants *now*, as Keystone's Fernet tokens do: the user's current
 * roles on the project (or the system: project id `all`), its own and its groups', with their implied
 * roles, bounded by the application credential's roles for a token issued from one; and that the
 * user, the project, their domains and the application credential still exist and are enabled. The result is cached
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
import { SYSTEM_TARGET } from './assignment-store.js';
import { roleStoreFor, type RoleStore } from './role-store.js';
import type { RoleName } from './roles.js';

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

/** A token is system-scoped when its project id is the system target. */
export const isSystemToken = (t: TokenRow): boolean => t.projectId === SYSTEM_TARGET;

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
  app_cred_id: string | null;
  user_enabled: boolean | null;
  target_enabled: boolean | null;
  app_cred_found: boolean;
  app_cred_roles: string[] | null;
  app_cred_expires_at: Date | null;
  current_roles: string[];
}

const RESOLVE_SQL = `
  select t.*, (u.enabled and ud.enabled) as user_enabled,
         (t.project_id = '${SYSTEM_TARGET}' or (p.enabled and pd.enabled)) as target_enabled,
         ac.id is not null as app_cred_found, ac.roles as app_cred_roles, ac.expires_at as app_cred_expires_at,
         coalesce((select json_agg(a.role_id) from keystone_assignments a
                   where a.target_id = t.project_id
                     and a.type in (case when t.project_id = '${SYSTEM_TARGET}' then 'UserSystem' else 'UserProject' end,
                                    case when t.project_id = '${SYSTEM_TARGET}' then 'GroupSystem' else 'GroupProject' end)
                     and (a.actor_id = t.user_id or a.actor_id in (select m.group_id from keystone_group_members m where m.user_id = t.user_id))),
                  '[]'::json) as current_roles
  from keystone_tokens t
  left join keystone_users u on u.id = t.user_id
  left join keystone_domains ud on ud.id = u.domain_id
  left join keystone_projects p on p.id = t.project_id
  left join keystone_domains pd on pd.id = p.domain_id
  left join keystone_app_credentials ac on ac.id = t.app_cred_id
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
  private readonly roles: RoleStore;

  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly cfg: TokenConfig = DEFAULT_TOKEN_CONFIG,
  ) {
    this.roles = roleStoreFor(orm, clock);
  }

  private get knex() {
    return this.orm.em.getConnection().getKnex();
  }

  /**
   * Issues a token. One issued from `parent` (the token method) keeps the parent's expiry, so
   * re-authenticating with a token never extends it, and joins the parent's audit chain (and keeps
   * its application credential, so a token cannot shed its restriction). `projectId` is the system
   * target for a system-scoped token.
   */
  async issue(userId: string, projectId: string, roles: RoleName[], methods: string[], parent?: TokenRow, appCredId: string | null = parent?.appCredId ?? null): Promise<{ token: string; row: TokenRow }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const row: TokenRow = {
      idHash: hashOf(token), userId, projectId, roles, methods, auditId: randomBytes(16).toString('base64url').slice(0, 22),
      auditChainId: parent ? parent.auditChainId ?? parent.auditId : null,
      parentAuditId: parent ? parent.auditId : null,
      issuedAt: new Date(now), expiresAt: parent ? parent.expiresAt : new Date(now + this.cfg.ttlMs), revokedAt: null, appCredId,
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

  /** Revokes every live token of a user or on a project in the domain (disable, delete). */
  async revokeDomain(domainId: string): Promise<void> {
    await this.knex.raw(
      `update keystone_tokens set revoked_at = ? where revoked_at is null
         and (user_id in (select id from keystone_users where domain_id = ?) or project_id in (select id from keystone_projects where domain_id = ?))`,
      [new Date(this.clock.now()), domainId, domainId],
    );
    this.cache.clear();
  }

  /** Revokes the tokens issued from an application credential. */
  async revokeAppCred(appCredId: string): Promise<void> {
    await this.orm.em.fork().nativeUpdate(Token, { appCredId, revokedAt: null }, { revokedAt: new Date(this.clock.now()) });
    this.forget((t) => t.appCredId === appCredId);
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
      revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at), appCredId: r.app_cred_id,
    };
    let roles = (await this.roles.expand(r.current_roles ?? [])).map((x) => x.name);
    let appCredLive = true;
    if (r.app_cred_id !== null) {
      const allowed = new Set((await this.roles.expand(r.app_cred_roles ?? [])).map((x) => x.name));
      roles = roles.filter((x) => allowed.has(x));
      appCredLive = r.app_cred_found && (r.app_cred_expires_at === null || new Date(r.app_cred_expires_at).getTime() > this.clock.now());
    }
    // A deleted or disabled user, project or domain, a deleted or expired application credential,
    // or no role left: the token grants nothing.
    return { token, roles, live: r.user_enabled === true && r.target_enabled === true && appCredLive && roles.length > 0 };
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
