/**
 * NATS users, one per role (see nats.conf), the operator's `client` and the embedded server's
 * `registrar`. An embedded nats-server gets fresh random passwords on every run through its
 * environment; against an external NATS they come from the options or from
 * `NOVACT_NATS_<ROLE>_PASSWORD`. Hosts have no password: each has an nkey identity (host-identity.ts).
 */
import { randomBytes } from 'node:crypto';

export const NATS_USERS = ['conductor', 'scheduler', 'image', 'network', 'api', 'client', 'registrar'] as const;
export type NatsUser = (typeof NATS_USERS)[number];
/** The users a joining process may be handed, one per role it runs (never client or registrar). */
export const ROLE_USERS = ['conductor', 'scheduler', 'image', 'network', 'api'] as const satisfies readonly NatsUser[];
export interface NatsAuth {
  user: string;
  pass: string;
}
export type NatsAuthTable = Partial<Record<NatsUser, NatsAuth>>;

const envName = (u: NatsUser) => `NOVACT_NATS_${u.toUpperCase()}_PASSWORD`;

export function generateAuth(): Record<NatsUser, NatsAuth> {
  // nats-server parses a `$VARIABLE` as a config value: a leading letter and hex digits keep it a
  // plain string (a leading digit would be read as a number).
  return Object.fromEntries(NATS_USERS.map((u) => [u, { user: u, pass: `p${randomBytes(20).toString('hex')}` }])) as Record<NatsUser, NatsAuth>;
}

/** The environment nats.conf reads its passwords from. */
export function authEnv(auth: Record<NatsUser, NatsAuth>): Record<string, string> {
  return Object.fromEntries(NATS_USERS.map((u) => [envName(u), auth[u].pass]));
}

export function authFromEnv(env: NodeJS.ProcessEnv): NatsAuthTable {
  const out: NatsAuthTable = {};
  for (const u of NATS_USERS) {
    const pass = env[envName(u)];
    if (pass) out[u] = { user: u, pass };
  }
  return out;
}

/** `nats://host:port` with the user and password in it, as nats.js and the NATS CLI accept. */
export function urlWithAuth(url: string, auth: NatsAuth | undefined): string {
  if (!auth) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(auth.user);
  u.password = encodeURIComponent(auth.pass);
  return u.toString().replace(/\/$/, '');
}

/** Only the entries of `table` for `users`: what a process running just those needs. */
export function authFor(table: NatsAuthTable, users: readonly string[]): NatsAuthTable {
  const out: NatsAuthTable = {};
  for (const u of ROLE_USERS) if (users.includes(u) && table[u]) out[u] = table[u];
  return out;
}
