/**
 * Opens PostgreSQL through MikroORM with novact's entities and committed migrations. Migrations are
 * listed explicitly (not globbed) so the same code runs from TypeScript sources and compiled output.
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';

export type Orm = MikroORM;

export interface DatabaseOptions {
  url: string;
  /** Run pending migrations on open (default true). */
  migrate?: boolean;
  poolMax?: number;
  /**
   * Set on every connection: PostgreSQL cancels a statement running longer (SQLSTATE 57014, a typed
   * 503). 0 or absent = no limit (migrations).
   */
  statementTimeoutMs?: number;
  /** Set on every connection: a session idle inside an open transaction this long is ended (its locks freed). */
  idleInTransactionTimeoutMs?: number;
  /** How long a caller waits for a free connection of a full pool before a (retryable) error. Default 30 s. */
  acquireTimeoutMs?: number;
  /** Shown in pg_stat_activity (which role a connection serves). */
  applicationName?: string;
  debug?: boolean;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Orm> {
  // libpq's `?host=/socket/dir` selects a unix socket; MikroORM reads only the URL's hostname, so
  // the socket directory is passed as the host explicitly.
  const socketDir = new URL(opts.url).searchParams.get('host');
  const orm = await MikroORM.init({
    clientUrl: opts.url,
    ...(socketDir?.startsWith('/') ? { host: socketDir } : {}),
    entities: ENTITIES,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    migrations: { migrationsList: MIGRATIONS, transactional: true, snapshot: false },
    pool: { min: 0, max: opts.poolMax ?? 10, acquireTimeoutMillis: opts.acquireTimeoutMs ?? 30_000 },
    // Sent in node-postgres's startup packet, so they hold for every connection of the pool.
    driverOptions: {
      connection: {
        ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
        ...(opts.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs } : {}),
        ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
      },
    },
    debug: opts.debug ?? false,
    allowGlobalContext: false,
    // The ORM's own logging would go to console; novact logs through its logger.
    logger: () => undefined,
  });
  if (opts.migrate ?? true) await migrate(orm);
  return orm;
}

/** Apply pending migrations (`novact db migrate`, and on open unless disabled). */
export async function migrate(orm: Orm): Promise<void> {
  await orm.getMigrator().up();
}
