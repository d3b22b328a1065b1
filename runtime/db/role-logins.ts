/**
 * One PostgreSQL login per role (least privilege): `<db>_conductor`, `<db>_scheduler`, `<db>_image`,
 * `<db>_api`, each granted only what `role-grants.ts` lists, so one role's credential can do only
 * that role's job. Applied through the admin pool after every migration run, in one transaction
 * under an advisory lock (processes of one cluster starting together), and idempotent: the logins'
 * privileges are revoked and granted again, so a grant removed from the table is removed from the
 * database too.
 *
 * The passwords are not stored anywhere new: each is an HMAC of the admin credential (the admin
 * URL's password, or `loginSecret`), so every process holding the admin URL (the one that started
 * the cluster, and those that join it) derives the same ones, and a role's password reveals neither
 * the admin's nor another role's. An admin user that may not create roles (an external
 * `DATABASE_URL` with a plain owner), or an admin URL without a password, leaves every pool on the
 * shared admin login, with one warning.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Knex } from '@mikro-orm/postgresql';
import type { Logger } from '../log/logger.js';
import type { Orm } from './orm.js';
import { DB_ROLES, insertTables, ROLE_GRANTS, type DbRole } from './role-grants.js';
import { scramVerifier } from './scram.js';

export interface RoleLoginOptions {
  /** The key the logins' passwords are derived from; default: the admin URL's password. */
  loginSecret?: string;
  /** `shared`: every pool logs in as the admin user (no logins made). Default `own`. */
  logins?: 'own' | 'shared';
}

/** Unique per database (roles are per server, shared by every database on it). */
export function loginName(database: string, role: DbRole): string {
  const plain = /^[a-z_][a-z0-9_]*$/.test(database) && database.length <= 48;
  const base = plain ? database : `novact_${createHash('sha256').update(database).digest('hex').slice(0, 12)}`;
  return `${base}_${role}`;
}

/** 32 bytes of HMAC, base64url: no character needs quoting in SQL or escaping in a URL. */
export function loginPassword(secret: string, user: string): string {
  return createHmac('sha256', secret).update(`novact-db-login:${user}`).digest('base64url');
}

/** The admin URL with the login's user and password (same server, database and socket). */
export function loginUrl(adminUrl: string, user: string, password: string): string {
  const u = new URL(adminUrl);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const rowsOf = <T>(r: unknown): T[] => (r as { rows: T[] }).rows;

/**
 * Makes (or updates) the logins and applies the grants; returns each role's URL, or undefined
 * when the pools must share the admin login (warned about here, once).
 */
export async function ensureRoleLogins(admin: Orm, adminUrl: string, o: RoleLoginOptions = {}, log?: Logger): Promise<Record<DbRole, string> | undefined> {
  if (o.logins === 'shared') return undefined;
  const knex = admin.em.getConnection().getKnex();
  const [me] = rowsOf<{ db: string; schema: string; can: boolean; user: string }>(await knex.raw(
    `select current_database() as db, current_schema() as schema, current_user as user, (rolsuper or rolcreaterole) as can
     from pg_roles where rolname = current_user`,
  ));
  const secret = o.loginSecret ?? decodeURIComponent(new URL(adminUrl).password);
  const shared = (why: string) => {
    log?.warn(`DATABASE: every role shares the login "${me?.user}" (${why}); one login per role needs an admin user with CREATEROLE (docs/architecture.md, "Database logins")`, { user: me?.user });
    return undefined;
  };
  if (!me) return shared('its role attributes could not be read');
  if (!me.can) return shared('it may not create roles');
  if (!secret) return shared('the admin URL has no password to derive the logins\' passwords from');

  const users = Object.fromEntries(DB_ROLES.map((r) => [r, loginName(me.db, r)])) as Record<DbRole, string>;
  await knex.transaction(async (trx) => {
    await trx.raw(`select pg_advisory_xact_lock(hashtextextended('novact:role-logins', 0))`);
    for (const role of DB_ROLES) await upsertLogin(trx, users[role], loginPassword(secret, users[role]));
    await applyGrants(trx, me.db, me.schema, users);
  });
  return Object.fromEntries(DB_ROLES.map((r) => [r, loginUrl(adminUrl, users[r], loginPassword(secret, users[r]))])) as Record<DbRole, string>;
}

async function upsertLogin(trx: Knex.Transaction, user: string, password: string): Promise<void> {
  const exists = rowsOf(await trx.raw('select 1 from pg_roles where rolname = ?', [user])).length > 0;
  // The salt is derived too: the same verifier every run, so re-applying changes nothing.
  const salt = createHash('sha256').update(`novact-db-login-salt:${password}`).digest().subarray(0, 16);
  await trx.raw(`${exists ? 'alter' : 'create'} role ${ident(user)} login password ${literal(scramVerifier(password, salt))}`);
}

/** Exactly the table's privileges: everything revoked (PUBLIC's too), then granted again. */
async function applyGrants(trx: Knex.Transaction, db: string, schema: string, users: Record<DbRole, string>): Promise<void> {
  const s = ident(schema);
  const everyone = ['public', ...DB_ROLES.map((r) => ident(users[r]))].join(', ');
  await trx.raw(`revoke all on all tables in schema ${s} from ${everyone}`);
  await trx.raw(`revoke all on all sequences in schema ${s} from ${everyone}`);
  // PostgreSQL before 15 lets everyone create objects in `public`.
  await trx.raw(`revoke create on schema ${s} from public`);
  for (const role of DB_ROLES) {
    const u = ident(users[role]);
    await trx.raw(`grant connect on database ${ident(db)} to ${u}`);
    await trx.raw(`grant usage on schema ${s} to ${u}`);
    for (const [table, privileges] of Object.entries(ROLE_GRANTS[role])) {
      await trx.raw(`grant ${privileges.join(', ')} on ${s}.${ident(table)} to ${u}`);
    }
    for (const seq of await ownedSequences(trx, schema, insertTables(role))) {
      await trx.raw(`grant usage on sequence ${s}.${ident(seq)} to ${u}`);
    }
  }
}

/** Sequences owned by a column of `tables` (`serial`, identity). */
async function ownedSequences(trx: Knex.Transaction, schema: string, tables: string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const rows = rowsOf<{ seq: string }>(await trx.raw(
    `select distinct s.relname as seq
     from pg_class s
     join pg_namespace n on n.oid = s.relnamespace
     join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.oid and d.refclassid = 'pg_class'::regclass
     join pg_class t on t.oid = d.refobjid
     where s.relkind = 'S' and n.nspname = ? and t.relname = any(?)`,
    [schema, tables],
  ));
  return rows.map((r) => r.seq);
}
