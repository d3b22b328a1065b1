/**
 * The state file `novact up` leaves behind so client commands find the cluster without flags:
 * `$NOVACT_STATE_FILE`, else `$XDG_RUNTIME_DIR/novact/cluster.json`, else `/tmp/novact-<uid>/cluster.json`.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { NatsAuthTable } from '../runtime/nats/credentials.js';

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

/** The state at `path`, or undefined when there is none or it is not a novact state file. */
export function readState(path: string): ClusterState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
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

/** Written atomically (temp file + rename) in a directory only the user can read. */
export function writeState(path: string, state: ClusterState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Removes the file if it still describes the process `pid` (another `up` may have replaced it). */
export function removeState(path: string, pid: number): void {
  if (readState(path)?.pid === pid) rmSync(path, { force: true });
}
