/**
 * Review H2: the embedded PostgreSQL is private. Nothing listens on TCP, the socket sits in a 0700
 * directory, and even through the socket the superuser needs its generated password (scram-sha-256);
 * a persistent data dir opens again with its stored password, and one without (older novact, trust)
 * gets a new one.
 */
import t from 'tap';
import { statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASSWORD_FILE } from '../../runtime/services/postgres-auth.js';
import { startPostgres } from '../../runtime/services/postgres-server.js';

interface PgClient {
  connect(): Promise<void>;
  query<R = Record<string, unknown>>(sql: string): Promise<{ rows: R[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}
type PgConfig = { connectionString?: string; host?: string; port?: number; user?: string; password?: string; database?: string };
const pg = createRequire(import.meta.url)('pg') as { Client: new (config: PgConfig) => PgClient };

async function client(config: PgConfig): Promise<PgClient> {
  const c = new pg.Client(config);
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** Resolves with the socket error code of a TCP connect to 127.0.0.1:port (or 'connected'). */
function tcpProbe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const db = await startPostgres();
t.teardown(() => db.stop());

t.test('nothing listens on TCP: 127.0.0.1:<port> is refused', async (t) => {
  t.equal(await tcpProbe(db.port), 'ECONNREFUSED', 'no listener on the port the socket is named after');
  await t.rejects(client({ host: '127.0.0.1', port: db.port, user: 'postgres', database: 'novact' }), { code: 'ECONNREFUSED' });
  const c = await client({ connectionString: db.url });
  t.teardown(() => c.end());
  const rows = (await c.query<{ listen: string; rules: string[] }>(
    "select current_setting('listen_addresses') as listen, array(select distinct type from pg_hba_file_rules) as rules",
  )).rows;
  t.same(rows, [{ listen: '', rules: ['local'] }], 'listen_addresses empty; pg_hba has only local (socket) rules');
});

t.test('the socket needs the password; with it the superuser is in', async (t) => {
  const socket = { host: db.socketDir, port: db.port, user: db.user, database: db.database };
  await t.rejects(client({ ...socket, password: 'not-the-password' }), { code: '28P01' }, 'a wrong password is refused');
  await t.rejects(client({ ...socket, password: '' }), 'no password is refused');
  const c = await client({ ...socket, password: db.password });
  t.teardown(() => c.end());
  const [row] = (await c.query<{ u: string; addr: string | null; method: string }>(
    "select current_user as u, inet_server_addr()::text as addr, (select auth_method from pg_hba_file_rules limit 1) as method",
  )).rows;
  t.same(row, { u: 'postgres', addr: null, method: 'scram-sha-256' }, 'scram over the unix socket');
  t.equal(statSync(db.socketDir).mode & 0o777, 0o700, 'the socket directory is 0700');
  t.equal(statSync(join(db.dataDir, PASSWORD_FILE)).mode & 0o777, 0o600, 'the stored password is 0600');
  t.equal(db.url, db.socketUrl, 'one URL: the socket one');
});

t.test('a persistent data dir opens again; without its stored password it gets a new one', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'novact-pgpriv-'));
  await chmod(parent, 0o755); // As root the server runs as `postgres`, which must reach the data dir.
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const dataDir = join(parent, 'pg');

  const first = await startPostgres({ dataDir, fsync: false });
  const c1 = await client({ connectionString: first.url });
  await c1.query("create table note as select 'kept'::text as body");
  await c1.end();
  await first.stop();

  // A TCP listener on the port it asks for does not matter: it binds none.
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => holder.close(() => r())));
  const port = (holder.address() as { port: number }).port;

  const second = await startPostgres({ dataDir, port, fsync: false });
  t.equal(second.password, first.password, 'the same stored password');
  const c2 = await client({ connectionString: second.url });
  t.same((await c2.query('select body from note')).rows, [{ body: 'kept' }], 'same data, on a port held by someone else');
  await c2.end();
  await second.stop();

  // A data dir from before passwords (or whose file was lost): a new password is set and stored.
  await rm(join(dataDir, PASSWORD_FILE));
  const third = await startPostgres({ dataDir, fsync: false });
  t.teardown(() => third.stop());
  t.not(third.password, first.password, 'a new password');
  const oldPassword = { host: third.socketDir, port: third.port, user: third.user, database: third.database, password: first.password };
  await t.rejects(client(oldPassword), { code: '28P01' }, 'the old one no longer works');
  const c3 = await client({ connectionString: third.url });
  t.teardown(() => c3.end());
  t.same((await c3.query('select body from note')).rows, [{ body: 'kept' }]);
  t.equal(statSync(join(dataDir, PASSWORD_FILE)).mode & 0o777, 0o600, 'stored 0600');
});
