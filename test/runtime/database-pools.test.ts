/**
 * Review M6 (pool part) and L7: every role has its own pool with a statement timeout, the API's is
 * bounded, so what any request can make the API do never holds the connections the ledger needs; a
 * statement cut off by its timeout is a typed, retryable 503 without SQL text; and a pathological
 * `GET /servers?name=` regex is cut off the same way, the cluster answering on.
 */
import t from 'tap';
import type { Knex } from '@mikro-orm/postgresql';
import { asNovactError } from '../../protocols/errors.js';
import { DEFAULT_POOLS, type DbPool } from '../../runtime/db/role-databases.js';
import { fault, startApiCluster } from '../harness/api-http.js';
import { settled } from '../harness/cluster.js';

const SHORT_MS = 300;
const { cluster, http, admin } = await startApiCluster(t, {
  hosts: 1,
  database: { pools: { api: { statementTimeoutMs: SHORT_MS, acquireTimeoutMs: SHORT_MS }, conductorReads: { statementTimeoutMs: SHORT_MS } } },
});
const dbs = cluster.databases!;
const knexOf = (pool: DbPool) => dbs.get(pool).em.getConnection().getKnex();

t.test('each pool sets its own statement and idle-in-transaction timeouts on its connections', async (t) => {
  const show = async (knex: ReturnType<typeof knexOf>) => {
    const r = await knex.raw("select current_setting('statement_timeout') as st, current_setting('idle_in_transaction_session_timeout') as idle, current_setting('application_name') as app");
    return r.rows[0] as { st: string; idle: string; app: string };
  };
  t.same(await show(knexOf('scheduler')), { st: '15s', idle: '1min', app: 'novact-scheduler' }, 'the ledger: 15 s');
  t.same(await show(knexOf('conductor')), { st: '15s', idle: '1min', app: 'novact-conductor' });
  t.same(await show(knexOf('api')), { st: `${SHORT_MS}ms`, idle: '10s', app: 'novact-api' }, 'the API: configured here');
  t.same(await show(cluster.orm!.em.getConnection().getKnex()), { st: '0', idle: '0', app: 'novact-admin' }, 'migrations: no limit');
});

t.test('a statement over its timeout is cancelled and answered as a typed, retryable 503', async (t) => {
  const started = Date.now();
  const err = await knexOf('api').raw('select pg_sleep(10)').then(() => undefined, (e: unknown) => e);
  t.ok(Date.now() - started < 5_000, `cut off after ${Date.now() - started} ms`);
  t.match(err, { code: '57014' }, 'SQLSTATE query_canceled');
  const typed = asNovactError(err);
  t.match(typed, { fault: 'serviceUnavailable', code: 503, retryable: true });
  t.notMatch(typed.message, /pg_sleep|select/i, 'no SQL text in the answer');
});

t.test('the API pool held to its last connection does not stop a build and its ledger claim', async (t) => {
  // Open transactions, each holding a connection, until the pool has none left (the API role itself
  // may be holding one for a moment).
  const begin = (): Promise<Knex.Transaction> => knexOf('api').transaction();
  const held: Knex.Transaction[] = [];
  const release = () => Promise.all(held.splice(0).map((trx) => trx.rollback().catch(() => undefined)));
  t.teardown(release);
  let full: unknown;
  while (full === undefined && held.length <= DEFAULT_POOLS.api.max) {
    await begin().then(async (trx) => {
      held.push(trx);
      await trx.raw('select 1');
    }, (e: unknown) => (full = e));
  }
  t.ok(held.length >= DEFAULT_POOLS.api.max - 1 && held.length <= DEFAULT_POOLS.api.max, `${held.length} API connections held in open transactions`);
  t.match(asNovactError(full), { code: 503, retryable: true }, 'one more: the API pool is full, a typed 503 at once');

  const flavor = (await cluster.client.listFlavors())[0]!;
  const image = (await cluster.client.listImages())[0]!;
  const s = await cluster.client.createServer({ name: 'while-api-starved', flavorRef: flavor.id, imageRef: image.id });
  const done = await cluster.client.waitForServer(s.id, settled, 20_000);
  t.equal(done.status, 'ACTIVE', 'built: conductor writes and the scheduler claim ran on their own pools');
  const claimed = await knexOf('scheduler').raw('select count(*)::int as n from allocations where consumer = ?', [s.id]);
  t.equal(claimed.rows[0].n > 0, true, 'the claim is in the ledger');
  t.equal((await knexOf('api').raw('select 1 as one').then(() => 'ok', () => 'still full')), 'still full', 'the API pool was full throughout');
  await release();
  await cluster.client.deleteServer(s.id);
});

t.test('L7: a pathological name regex is cut off as a 503, and the API answers on', async (t) => {
  const alice = await http.member(admin, 'regex-project', 'alice', 'member');
  const image = (await cluster.client.listImages())[0]!;
  const flavor = (await cluster.client.listFlavors())[0]!;
  const created = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'aaaa', flavorRef: flavor.id, imageRef: image.id } } });
  t.equal(created.status, 202, created.text);

  // PostgreSQL spends seconds compiling nested bounded repeats before it gives up ("too complex").
  const evil = encodeURIComponent('((((a{0,10}){0,10}){0,10}){0,10}){0,10}');
  const started = Date.now();
  const slow = await http.get(`/v2.1/servers?name=${evil}`, { token: alice.token });
  const took = Date.now() - started;
  t.equal(slow.status, 503, slow.text);
  t.match(fault(slow), { name: 'serviceUnavailable', code: 503 });
  t.notMatch(slow.text, /select|instances|\{0,10\}/i, 'no SQL text, no echo of the pattern');
  t.comment(`answered in ${took} ms (the compile alone takes ~4 s of PostgreSQL CPU)`);

  const fine = await http.get('/v2.1/servers?name=^aa', { token: alice.token });
  t.equal(fine.status, 200, fine.text);
  t.same(fine.body.servers.map((s: { name: string }) => s.name), ['aaaa'], 'the same listing with a sane regex works');
});
