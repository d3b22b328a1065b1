import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, StorageType, StringCodec, type NatsConnection } from 'nats';
import { startNatsServer } from '../../runtime/services/nats-server.js';
import { startPostgres } from '../../runtime/services/postgres-server.js';
import { startServers } from './servers.js';

// `pg` ships no types and @types/pg is not a dependency: describe the little used here.
interface PgClient {
  connect(): Promise<void>;
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}
const pg = createRequire(import.meta.url)('pg') as {
  Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient;
};

const sc = StringCodec();

/** Resolves on the next status event of `type`; subscribe before causing it. */
async function nextStatus(nc: NatsConnection, type: 'disconnect' | 'reconnect'): Promise<void> {
  for await (const s of nc.status()) if (s.type === type) return;
}

async function pgClient(url: string, connectionTimeoutMillis?: number): Promise<PgClient> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis });
  client.on('error', () => {}); // A killed server must fail queries, not crash the test process.
  await client.connect();
  return client;
}

async function timed<T>(t: Test, what: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await fn();
  t.comment(`${what}: ${Math.round(performance.now() - start)} ms`);
  return result;
}

t.test('nats: request/reply, then kill and restart on the same port', async (t) => {
  const server = await timed(t, 'nats-server start', () => startNatsServer());
  t.teardown(() => server.stop());
  t.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  t.not(server.port, 4222);

  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  t.teardown(() => nc.close());
  nc.subscribe('echo', { callback: (_err, msg) => msg.respond(msg.data) });
  const reply = await nc.request('echo', sc.encode('hello'), { timeout: 2000 });
  t.equal(sc.decode(reply.data), 'hello');

  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'], storage: StorageType.File });
  await nc.jetstream().publish('keep.1', sc.encode('stored'));

  const oldPid = server.pid;
  const disconnected = nextStatus(nc, 'disconnect');
  await server.kill();
  await disconnected;
  await t.rejects(nc.request('echo', sc.encode('lost'), { timeout: 300 }), 'requests fail while the server is down');

  const reconnected = nextStatus(nc, 'reconnect');
  await timed(t, 'nats-server restart', () => server.restart());
  await reconnected;
  t.not(server.pid, oldPid, 'a new process');
  const again = await nc.request('echo', sc.encode('back'), { timeout: 2000 });
  t.equal(sc.decode(again.data), 'back', 'the same client and subscription work again');
  const kept = await jsm.streams.getMessage('KEEP', { seq: 1 });
  t.equal(sc.decode(kept.data), 'stored', 'JetStream store survives SIGKILL + restart');
});

t.test('nats: pause makes requests time out, resume recovers', async (t) => {
  const server = await startNatsServer({ jetstream: false });
  t.teardown(() => server.stop());
  const nc = await connect({ servers: server.url });
  t.teardown(() => nc.close());
  nc.subscribe('echo', { callback: (_err, msg) => msg.respond(msg.data) });
  await server.pause();
  await t.rejects(nc.request('echo', sc.encode('x'), { timeout: 300 }));
  server.resume();
  t.equal(sc.decode((await nc.request('echo', sc.encode('y'), { timeout: 2000 })).data), 'y');
});

// PostgreSQL listens on no TCP port at all (test/runtime/postgres-private.test.ts).
t.test('a taken port fails startup clearly, with the server output', async (t) => {
  const holder = await startNatsServer({ jetstream: false });
  t.teardown(() => holder.stop());
  await t.rejects(startNatsServer({ port: holder.port }), /nats-server exited during startup[\s\S]*address already in use/);
});

t.test('postgres: SELECT 1, rows survive kill + restart', async (t) => {
  const db = await timed(t, 'postgres start (initdb + createdb)', () => startPostgres());
  t.teardown(() => db.stop());
  t.match(db.url, /^postgresql:\/\/postgres:[\w-]+@localhost:\d+\/novact\?host=%2F/);
  t.not(db.port, 5432);

  const client = await pgClient(db.url);
  const one = await client.query<{ one: number }>('SELECT 1 AS one');
  t.equal(one.rows[0]?.one, 1);
  await client.query('CREATE TABLE host (name text PRIMARY KEY, vcpus int NOT NULL)');
  await client.query('INSERT INTO host VALUES ($1, $2)', ['h1', 8]);

  const oldPid = db.pid;
  await timed(t, 'postgres kill', () => db.kill());
  await t.rejects(client.query('SELECT 1'), 'the old connection is dead');
  await timed(t, 'postgres restart (crash recovery)', () => db.restart());
  t.not(db.pid, oldPid);

  const fresh = await pgClient(db.url);
  t.teardown(() => fresh.end());
  const rows = await fresh.query<{ name: string; vcpus: number }>('SELECT name, vcpus FROM host');
  t.same(rows.rows, [{ name: 'h1', vcpus: 8 }]);

  // The embedded cluster's URL reaches the same database over the unix socket (no server address).
  const local = await pgClient(db.socketUrl);
  t.teardown(() => local.end());
  const viaSocket = await local.query<{ n: number; addr: string | null }>('SELECT count(*)::int AS n, inet_server_addr()::text AS addr FROM host');
  t.same(viaSocket.rows, [{ n: 1, addr: null }], 'socketUrl: same rows, over a unix socket');
});

t.test('postgres: pause hangs new connections, resume recovers', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  await db.pause();
  await t.rejects(pgClient(db.url, 300));
  db.resume();
  const client = await pgClient(db.url);
  t.teardown(() => client.end());
  t.equal((await client.query<{ n: number }>('SELECT 2 AS n')).rows[0]?.n, 2);
});

t.test('postgres: a given dataDir persists across stop and a new start', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'novact-pgdata-'));
  await chmod(parent, 0o755); // As root the server runs as `postgres`, which must reach the data dir.
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const dataDir = join(parent, 'pg');

  const first = await startPostgres({ dataDir, database: 'keep' });
  const c1 = await pgClient(first.url);
  await c1.query('CREATE TABLE note (body text)');
  await c1.query("INSERT INTO note VALUES ('persisted')");
  await c1.end();
  await first.stop();
  t.ok(existsSync(join(dataDir, 'PG_VERSION')), 'stop keeps a given dataDir');

  const second = await timed(t, 'postgres start on an existing dataDir', () => startPostgres({ dataDir, database: 'keep' }));
  t.teardown(() => second.stop());
  const c2 = await pgClient(second.url);
  t.teardown(() => c2.end());
  t.same((await c2.query('SELECT body FROM note')).rows, [{ body: 'persisted' }]);
});

t.test('postgres: a missing binDir fails clearly', async (t) => {
  await t.rejects(startPostgres({ binDir: '/nonexistent/bin' }), /initdb[\s\S]*ENOENT/);
});

t.test('two of each at once get different ports; stop removes temp dirs', async (t) => {
  const [n1, n2, p1, p2] = await Promise.all([startNatsServer(), startNatsServer(), startPostgres(), startPostgres()]);
  const ports = new Set([n1.port, n2.port, p1.port, p2.port]);
  t.equal(ports.size, 4, `ports ${[...ports].join(', ')}`);
  t.not(p1.dataDir, p2.dataDir);
  t.not(n1.storeDir, n2.storeDir);
  for (const dir of [n1.storeDir, n2.storeDir, p1.dataDir, p2.dataDir]) t.ok(existsSync(dir), `${dir} exists while running`);

  await Promise.all([n1.stop(), n2.stop(), p1.stop(), p2.stop()]);
  for (const dir of [n1.storeDir, n2.storeDir, p1.dataDir, p2.dataDir]) t.notOk(existsSync(dir), `${dir} removed by stop`);
  await n1.stop(); // Idempotent.
  await p1.stop();
});

t.test('startServers gives a file one of each and stops them at teardown', async (t) => {
  let dirs: string[] = [];
  await t.test('inner', async (t) => {
    const { nats, pg: db } = await startServers(t);
    dirs = [nats.storeDir, db.dataDir];
    const nc = await connect({ servers: nats.url });
    await nc.close();
    const client = await pgClient(db.url);
    await client.end();
  });
  for (const dir of dirs) t.notOk(existsSync(dir), `${dir} removed at teardown`);
});
