/**
 * One PostgreSQL login per role: each role's pool logs in as its own user, granted exactly the
 * tables of `role-grants.ts` (nothing to PUBLIC), so one role's credential cannot do another's job
 * (SQLSTATE 42501), while the normal paths (boot, delete, image upload, token issue) still work.
 * Re-applying is idempotent, and an admin user that may not create roles falls back to the shared
 * login with one warning.
 */
import t from 'tap';
import type { Knex } from '@mikro-orm/postgresql';
import { openDatabase } from '../../runtime/db/orm.js';
import { type DbPool } from '../../runtime/db/role-databases.js';
import { DB_ROLES, ROLE_GRANTS } from '../../runtime/db/role-grants.js';
import { ensureRoleLogins, loginName, loginUrl } from '../../runtime/db/role-logins.js';
import type { Logger } from '../../runtime/log/logger.js';
import { startApiCluster } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1 });
const dbs = cluster.databases!;
const knexOf = (pool: DbPool): Knex => dbs.get(pool).em.getConnection().getKnex();
const adminKnex = cluster.orm!.em.getConnection().getKnex();
const rows = async <T>(knex: Knex, sql: string, b: unknown[] = []) => ((await knex.raw(sql, b as never)) as { rows: T[] }).rows;
const denied = (knex: Knex, sql: string) => knex.raw(sql).then(() => 'allowed', (e: { code?: string }) => e.code);

t.test('each pool logs in as its own role; the admin pool as the admin', async (t) => {
  t.equal(dbs.sharedLogin, false);
  const who = async (knex: Knex) => (await rows<{ u: string }>(knex, 'select current_user as u'))[0]!.u;
  for (const pool of ['conductor', 'scheduler', 'image', 'api'] as const) t.equal(await who(knexOf(pool)), `novact_${pool}`, pool);
  t.equal(await who(knexOf('conductorReads')), 'novact_conductor', 'the conductor’s tenant reads are the conductor’s');
  t.equal(await who(adminKnex), 'postgres');
});

t.test('a role’s login cannot do another role’s job (42501)', async (t) => {
  const api = knexOf('api');
  t.equal(await denied(api, 'update instances set name = name'), '42501', 'the API cannot write instances');
  t.equal(await denied(api, 'select count(*) from instances'), '42501', 'nor read them (it asks the conductor)');
  t.equal(await denied(api, 'select count(*) from allocations'), '42501', 'nor read the ledger');
  t.equal(await denied(api, 'select count(*) from mikro_orm_migrations'), '42501', 'nor the migrations table');
  const sched = knexOf('scheduler');
  t.equal(await denied(sched, 'update instances set name = name'), '42501', 'the scheduler cannot write instances');
  t.equal(await denied(sched, 'update compute_nodes set disabled = disabled'), '42501', 'it only reads compute nodes');
  t.equal(await denied(sched, 'select count(*) from keystone_tokens'), '42501');
  const image = knexOf('image');
  for (const table of ['keystone_users', 'keystone_tokens', 'keystone_projects', 'keystone_assignments']) {
    t.equal(await denied(image, `select count(*) from ${table}`), '42501', `the image role cannot read ${table}`);
  }
  t.equal(await denied(image, 'delete from images'), '42501', 'image deletes are a status, never a DELETE');
  t.equal(await denied(knexOf('conductor'), 'select count(*) from keystone_users'), '42501', 'the conductor has no identity tables');
  t.equal(await denied(knexOf('conductor'), 'create table stray (x int)'), '42501', 'no role creates objects');
  t.equal(await denied(api, 'select 1'), 'allowed', 'the login itself works');
});

t.test('the privileges in the database are exactly the grants table, and none is PUBLIC’s', async (t) => {
  const got = await rows<{ grantee: string; table_name: string; privilege_type: string }>(adminKnex,
    `select grantee, table_name, privilege_type from information_schema.role_table_grants
     where table_schema = current_schema() and grantee <> 'postgres' order by 1, 2, 3`);
  const want = DB_ROLES.flatMap((r) => Object.entries(ROLE_GRANTS[r]).flatMap(([table, ps]) => ps.map((p) => ({ grantee: loginName('novact', r), table_name: table, privilege_type: p }))));
  const key = (g: { grantee: string; table_name: string; privilege_type: string }) => `${g.grantee} ${g.table_name} ${g.privilege_type}`;
  t.same(got.map(key).sort(), want.map(key).sort());
  const tables = await rows<{ t: string }>(adminKnex, `select tablename as t from pg_tables where schemaname = current_schema() and tablename <> 'mikro_orm_migrations'`);
  const granted = new Set(DB_ROLES.flatMap((r) => Object.keys(ROLE_GRANTS[r])));
  t.same(tables.map((r) => r.t).filter((x) => !granted.has(x)), [], 'every table belongs to some role (a new table needs its grants)');
});

t.test('re-applying changes nothing and keeps the pools working', async (t) => {
  const before = await rows(adminKnex, `select grantee, table_name, privilege_type from information_schema.role_table_grants where table_schema = current_schema() order by 1, 2, 3`);
  const urls = await ensureRoleLogins(cluster.orm!, cluster.databaseUrl);
  t.equal(urls?.api, loginUrl(cluster.databaseUrl, 'novact_api', new URL(urls!.api).password), 'the same login URL');
  const after = await rows(adminKnex, `select grantee, table_name, privilege_type from information_schema.role_table_grants where table_schema = current_schema() order by 1, 2, 3`);
  t.same(after, before);
  // A new connection logs in with the (re-set, same) password and reads the role's own tables.
  const orm = await openDatabase({ url: urls!.api, migrate: false, poolMax: 1 });
  t.teardown(() => orm.close());
  t.ok((await rows<{ n: number }>(orm.em.getConnection().getKnex(), 'select count(*)::int as n from keystone_users'))[0]!.n > 0);
});

t.test('boot, delete, image upload and token issue work through the roles’ own logins', async (t) => {
  const m = await http.member(admin, 'logins', 'lena', 'member');
  t.ok(m.token, 'token issued');
  const image = (await cluster.client.listImages())[0]!;
  const r = await http.post('/v2.1/servers', { token: m.token, body: { server: { name: 'vm', flavorRef: '1', imageRef: image.id } } });
  t.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  await cluster.client.waitForServer(id, (s) => s.status === 'ACTIVE' && s.taskState === null);
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: m.token })).status, 204);
  await cluster.client.waitForServer(id, (s) => s.status === 'DELETED');
  const allocs = await rows(adminKnex, 'select 1 from allocations where consumer = ?', [id]);
  t.same(allocs, [], 'the claim was released');
  const img = await http.post('/image/v2/images', { token: m.token, body: { name: 'up', disk_format: 'raw', container_format: 'bare' } });
  t.equal(img.status, 201, img.text);
  const up = await http.put(`/image/v2/images/${img.body.id}/file`, { token: m.token, raw: Buffer.alloc(4096, 7), headers: { 'Content-Type': 'application/octet-stream' } });
  t.equal(up.status, 204, up.text);
  t.equal((await http.get(`/image/v2/images/${img.body.id}`, { token: m.token })).body.status, 'active');
});

t.test('an admin that may not create roles: the shared login, with one warning', async (t) => {
  await adminKnex.raw(`create role plain_owner login password 'plain-owner-secret-1234'`);
  const url = loginUrl(cluster.databaseUrl, 'plain_owner', 'plain-owner-secret-1234');
  const orm = await openDatabase({ url, migrate: false, poolMax: 1 });
  t.teardown(() => orm.close());
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, error() {}, warn: (msg) => void warnings.push(msg), child: () => log };
  t.equal(await ensureRoleLogins(orm, url, {}, log), undefined);
  t.equal(warnings.length, 1);
  t.match(warnings[0], /shares the login "plain_owner".*may not create roles/);
});
