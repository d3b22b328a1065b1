/**
 * The state file `novact up` leaves behind so client commands find the cluster without flags:
 * `$NOVACT_STATE_FILE`, else `$XDG_RUNTIME_DIR/novact/cluster.json`, else `/tmp/novact-<uid>/cluster.json`.
 * It holds credentials and tells clients which NATS and database to trust, so in a shared `/tmp`
 * another user must be unable to plant or swap it (review L6): the directory must be ours and 0700,
 * never a symlink; the file ours, not a symlink, written through an exclusive, randomly named temp file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fchmodSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { NatsAuthTable } from '../runtime/nats/credentials.js';
import { CliError } from './usage.js';

export interface ClusterState {
  natsUrl: string;
  subjectRoot: string;
  pid: number;
  /** What `novact up --join` needs to run more roles in another process (per-role NATS users). */
  join?: { natsUrl: string; natsAuth: NatsAuthTable; databaseUrl: string };
  /** The REST API's bootstrap admin password, when `novact up` generated it. */
  adminPassword?: string;
}

export function stateFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NOVACT_STATE_FILE) return env.NOVACT_STATE_FILE;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'novact', 'cluster.json');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `novact-${uid}`, 'cluster.json');
}

const myUid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/** Refusing a state directory or file someone else could have planted or could change (exit 2). */
export class UnsafeStateError extends CliError {
  constructor(path: string, why: string) {
    super(`refusing the state file at ${path}: ${why}; remove it, or set NOVACT_STATE_FILE to a path in a directory only you can write`, 2);
  }
}

/** `novact-<uid>` or `<runtime dir>/novact`: a directory novact names and keeps 0700 itself. */
const isOwnDir = (dir: string): boolean => /^novact(-\w+)?$/.test(basename(dir));

/**
 * The state directory, created 0700 when missing; refused unless it is a real directory (a symlink is
 * not followed) owned by us. Novact's own directory, ours but too open, is made 0700 (through the
 * opened directory, not the path); any other (a `NOVACT_STATE_FILE` elsewhere) is refused when
 * others may write it, and its mode is left alone.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  checkDir(dir, isOwnDir(dir));
}

function checkDir(dir: string, fixMode: boolean): void {
  const l = lstatSync(dir);
  if (l.isSymbolicLink()) throw new UnsafeStateError(dir, 'its directory is a symbolic link');
  if (!l.isDirectory()) throw new UnsafeStateError(dir, 'its directory is not a directory');
  // O_NOFOLLOW|O_DIRECTORY: what we check and chmod is the directory we looked at, not a swapped path.
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    const uid = myUid();
    if (uid !== undefined && st.uid !== uid) throw new UnsafeStateError(dir, `its directory is owned by uid ${st.uid}, not by you (uid ${uid})`);
    if ((st.mode & 0o077) !== 0 && fixMode) fchmodSync(fd, 0o700);
    else if ((st.mode & 0o022) !== 0) throw new UnsafeStateError(dir, `others may write its directory (mode ${(st.mode & 0o777).toString(8)}, not 700)`);
  } finally {
    closeSync(fd);
  }
}

/** The file's text, or undefined when there is none; refused when it or its directory is not safely ours. */
function readPrivate(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UnsafeStateError(path, 'it is a symbolic link');
    return undefined;
  }
  try {
    // A state file in a directory others can write may have been swapped in by them.
    checkDir(dirname(path), false);
    const st = fstatSync(fd);
    const uid = myUid();
    if (!st.isFile()) throw new UnsafeStateError(path, 'it is not a regular file');
    if (uid !== undefined && st.uid !== uid) throw new UnsafeStateError(path, `it is owned by uid ${st.uid}, not by you (uid ${uid})`);
    if ((st.mode & 0o022) !== 0) throw new UnsafeStateError(path, `others may write it (mode ${(st.mode & 0o777).toString(8)})`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The state at `path`, or undefined when there is none or it is not a novact state file.
 * Throws `UnsafeStateError` when the file or its directory could have been planted by someone else.
 */
export function readState(path: string): ClusterState | undefined {
  const text = readPrivate(path);
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as Partial<ClusterState>;
    if (typeof o.natsUrl !== 'string' || typeof o.subjectRoot !== 'string' || typeof o.pid !== 'number') return undefined;
    const state: ClusterState = { natsUrl: o.natsUrl, subjectRoot: o.subjectRoot, pid: o.pid };
    const j = o.join;
    if (j && typeof j.natsUrl === 'string' && typeof j.databaseUrl === 'string' && typeof j.natsAuth === 'object' && j.natsAuth !== null) state.join = j;
    if (typeof o.adminPassword === 'string') state.adminPassword = o.adminPassword;
    return state;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Written atomically (temp file + rename) in a directory only the user can write. The temp name is
 * random and opened O_EXCL|O_NOFOLLOW: a name planted in advance (or a symlink) fails, never clobbers.
 */
export function writeState(path: string, state: ClusterState): void {
  const dir = dirname(path);
  ensurePrivateDir(dir);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** Removes the file if it still describes the process `pid` (another `up` may have replaced it). */
export function removeState(path: string, pid: number): void {
  let state: ClusterState | undefined;
  try {
    state = readState(path);
  } catch {
    return; // Not ours to remove.
  }
  if (state?.pid === pid) rmSync(path, { force: true });
}
