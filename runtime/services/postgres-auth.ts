/**
 * How the embedded PostgreSQL is closed to everyone but novact: no TCP listener, a unix socket in a
 * 0700 directory, and a superuser with a generated password checked by scram-sha-256, so a process
 * that does reach the socket still needs the secret. The password lives in the data directory (0600)
 * so a persistent cluster opens again with it.
 */
import { randomBytes } from 'node:crypto';
import { chown, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SUPERUSER = 'postgres';
/** Inside the data dir: PostgreSQL ignores files it does not know, and backups carry it along. */
export const PASSWORD_FILE = 'novact-superuser.password';

export interface ServerUser {
  uid: number;
  gid: number;
}

/** 32 random bytes, base64url: no character needs quoting in SQL or escaping in a URL. */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

/** A file only the server's OS user (and we, when that is us) can read. */
export async function writePrivate(path: string, text: string, owner?: ServerUser): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  if (owner) await chown(path, owner.uid, owner.gid);
}

export async function storePassword(dataDir: string, password: string, owner?: ServerUser): Promise<void> {
  await writePrivate(join(dataDir, PASSWORD_FILE), `${password}\n`, owner);
}

/** The stored password, or undefined when there is none (a data dir from before passwords). */
export async function readStoredPassword(dataDir: string): Promise<string | undefined> {
  try {
    const text = (await readFile(join(dataDir, PASSWORD_FILE), 'utf8')).trim();
    return /^[A-Za-z0-9_-]{16,}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rewritten at every start, so a data dir initialised with `trust` (older novact) is closed too:
 * only the unix socket, only with the password. There is no `host` line: nothing listens on TCP.
 */
export async function writeHba(dataDir: string, owner?: ServerUser): Promise<void> {
  await writePrivate(join(dataDir, 'pg_hba.conf'), '# Written by novact at each start.\nlocal all all scram-sha-256\n', owner);
}

/** The libpq-style URL over the socket directory (`?host=`), as node-postgres and novact's ORM read it. */
export function socketUrl(o: { user: string; password: string; port: number; database: string; socketDir: string }): string {
  const auth = `${encodeURIComponent(o.user)}:${encodeURIComponent(o.password)}`;
  return `postgresql://${auth}@localhost:${o.port}/${encodeURIComponent(o.database)}?host=${encodeURIComponent(o.socketDir)}`;
}
