/**
 * One connection pool per role (review M6): the scheduler's ledger claims and the conductor's instance
 * batches must never wait behind the API's work, which any unauthenticated request can cause (a
 * garbage token costs a lookup). The API's pool is small and its statements short; the conductor's
 * tenant-driven listings (`GET /servers?name=<regex>`, usage) get a pool of their own with the same
 * limits, so a slow regex cannot hold the connections instance writes need (review L7). Migrations
 * run once, through an admin pool without a statement timeout (a migration may rewrite a big table).
 * Each role's pools log in as that role's own PostgreSQL user, allowed only its own tables
 * (`role-logins.ts`, `role-grants.ts`); the admin login is kept for migrations and operators.
 */
import type { Logger } from '../log/logger.js';
import { openDatabase, type Orm } from './orm.js';
import { POOL_ROLE } from './role-grants.js';
import { ensureRoleLogins, type RoleLoginOptions } from './role-logins.js';

/** The pools: one per role, plus the conductor's tenant-driven reads. */
export type DbPool = 'conductor' | 'conductorReads' | 'scheduler' | 'image' | 'network' | 'api';

export interface PoolOptions {
  /** Connections at most. */
  max?: number;
  /** Per statement, on every connection; 0 = none. */
  statementTimeoutMs?: number;
  /** A session idle in an open transaction this long is ended; 0 = never. */
  idleInTransactionTimeoutMs?: number;
  /** Waiting for a free connection of a full pool this long fails the call (retryable 503). */
  acquireTimeoutMs?: number;
}

/** `ClusterOptions.database`: defaults for every pool, and each pool's own. */
export interface DatabasePoolOptions extends Omit<PoolOptions, 'max'>, RoleLoginOptions {
  pools?: Partial<Record<DbPool, PoolOptions>>;
}

export const DEFAULT_POOLS: Readonly<Record<DbPool, Required<PoolOptions>>> = {
  conductor: { max: 10, statementTimeoutMs: 15_000, idleInTransactionTimeoutMs: 60_000, acquireTimeoutMs: 30_000 },
  scheduler: { max: 10, statementTimeoutMs: 15_000, idleInTransactionTimeoutMs: 60_000, acquireTimeoutMs: 30_000 },
  image: { max: 4, statementTimeoutMs: 15_000, idleInTransactionTimeoutMs: 60_000, acquireTimeoutMs: 30_000 },
  network: { max: 4, statementTimeoutMs: 15_000, idleInTransactionTimeoutMs: 60_000, acquireTimeoutMs: 30_000 },
  // Reachable before authentication: bounded, short statements, a full pool fails fast.
  api: { max: 8, statementTimeoutMs: 5_000, idleInTransactionTimeoutMs: 10_000, acquireTimeoutMs: 5_000 },
  conductorReads: { max: 4, statementTimeoutMs: 5_000, idleInTransactionTimeoutMs: 10_000, acquireTimeoutMs: 5_000 },
};

/** A pool's settings: its own, else the cluster-wide ones given, else its defaults. */
export function poolSettings(pool: DbPool, o: DatabasePoolOptions = {}): Required<PoolOptions> {
  const own = o.pools?.[pool] ?? {};
  const d = DEFAULT_POOLS[pool];
  return {
    max: own.max ?? d.max,
    statementTimeoutMs: own.statementTimeoutMs ?? o.statementTimeoutMs ?? d.statementTimeoutMs,
    idleInTransactionTimeoutMs: own.idleInTransactionTimeoutMs ?? o.idleInTransactionTimeoutMs ?? d.idleInTransactionTimeoutMs,
    acquireTimeoutMs: own.acquireTimeoutMs ?? o.acquireTimeoutMs ?? d.acquireTimeoutMs,
  };
}

export interface RoleDatabases {
  /** Migrations and operator work (and tests' direct reads): no statement timeout, two connections. */
  readonly admin: Orm;
  /** The pool of `pool`; opened by `open` only for the pools asked for. */
  get(pool: DbPool): Orm;
  /** True when every pool logs in as the admin user (it may not create roles, or `logins: 'shared'`). */
  readonly sharedLogin: boolean;
  close(): Promise<void>;
}

/**
 * Migrates through the admin pool, makes the roles' logins and grants, then opens the pools asked
 * for (each its own ORM and pg pool, logged in as its role).
 */
export async function openRoleDatabases(url: string, pools: DbPool[], o: DatabasePoolOptions = {}, log?: Logger): Promise<RoleDatabases> {
  const admin = await openDatabase({ url, migrate: true, poolMax: 2, applicationName: 'novact-admin' });
  let logins: Awaited<ReturnType<typeof ensureRoleLogins>>;
  try {
    logins = await ensureRoleLogins(admin, url, o, log);
  } catch (err) {
    await admin.close();
    throw err;
  }
  const opened = new Map<DbPool, Orm>();
  // Opened together: each is mostly entity discovery (~50 ms) and the first connection's handshake.
  const results = await Promise.allSettled(pools.map(async (pool) => {
    const s = poolSettings(pool, o);
    opened.set(pool, await openDatabase({
      url: logins?.[POOL_ROLE[pool]] ?? url,
      migrate: false,
      poolMax: s.max,
      statementTimeoutMs: s.statementTimeoutMs,
      idleInTransactionTimeoutMs: s.idleInTransactionTimeoutMs,
      acquireTimeoutMs: s.acquireTimeoutMs,
      applicationName: `novact-${pool}`,
    }));
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled([admin, ...opened.values()].map((orm) => orm.close()));
    throw failed.reason;
  }
  return {
    admin,
    sharedLogin: logins === undefined,
    get(pool) {
      const orm = opened.get(pool);
      if (!orm) throw new Error(`no database pool "${pool}" was opened`);
      return orm;
    },
    async close() {
      await Promise.allSettled([...opened.values(), admin].map((orm) => orm.close()));
    },
  };
}
