/**
 * A private PostgreSQL cluster run as a child process: a throwaway one per test file, or a persistent
 * embedded one when `dataDir` is given. We run the postmaster ourselves (not `pg_ctl start`, which
 * daemonises) so we hold its pid to crash, pause and restart it. It never touches the standard
 * port 5432 or a system cluster. It is private (`postgres-auth.ts`): no TCP listener, a unix socket
 * in a 0700 directory, a generated superuser password checked with scram-sha-256.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isAlive, launch, procStat, waitGone, waitStopped, type Running } from './child-process.js';
import { freePort } from './free-port.js';
import { generatePassword, readStoredPassword, socketUrl, storePassword, SUPERUSER, writeHba, writePrivate, type ServerUser } from './postgres-auth.js';

export interface PostgresOptions {
  /** Reused if already initialised (persistent embedded DB), else initialised; kept by stop(). */
  dataDir?: string;
  port?: number;
  database?: string;
  /** Default: the newest /usr/lib/postgresql/<version>/bin. */
  binDir?: string;
  log?: (line: string) => void;
  /** Default false for a temp cluster (tests), true when dataDir is given. */
  fsync?: boolean;
}

export interface PostgresHandle {
  /**
   * `postgresql://postgres:<password>@localhost:PORT/DB?host=<socket dir>`: the superuser over the
   * unix socket, the only way in (nothing listens on TCP). The port only names the socket file.
   */
  readonly url: string;
  /**
   * The same URL (kept for callers that asked for the socket explicitly): a unix socket round trip
   * also costs several times less CPU in the kernel than a loopback TCP one.
   */
  readonly socketUrl: string;
  /** The directory holding the socket (0700, the server's OS user's). */
  readonly socketDir: string;
  readonly user: string;
  /** The superuser's generated password (stored 0600 in the data dir for a persistent cluster). */
  readonly password: string;
  readonly port: number;
  readonly dataDir: string;
  readonly database: string;
  /** Pid of the current postmaster (changes on restart). */
  readonly pid: number;
  /** Fast shutdown; waits for exit; removes the cluster if it was a temp one. */
  stop(): Promise<void>;
  /** SIGKILL the postmaster and its backends (a crash); keeps the data for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port and data (stops a running server gracefully first). */
  restart(): Promise<void>;
  /** SIGSTOP/SIGCONT the postmaster and its backends, so the whole server hangs. */
  /** SIGSTOP to the server and its backends; resolves once every one of them is stopped. */
  pause(): Promise<void>;
  resume(): void;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
// Error messages quote the first and last lines of output: usage errors come first, crashes last.
const READY_LINE = 'database system is ready to accept connections';
const PORT_ATTEMPTS = 5;

// Servers still running when this process exits are SIGKILLed so aborted test runs leak nothing.
const livePostmasters = new Set<ChildProcess>();
const liveTempDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of livePostmasters) signalTree(child.pid, 'SIGKILL');
    for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Direct children of `pid` (the postmaster forks every backend itself), from /proc. */
function childPids(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat?.ppid === pid) kids.push(Number(entry));
  }
  return kids;
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Signal the postmaster and its backends; stopping the postmaster first keeps it from forking more. */
function signalTree(pid: number | undefined, signal: NodeJS.Signals): number[] {
  if (pid === undefined || pid <= 0) return []; // kill(-1) would signal every process we may signal.
  if (signal === 'SIGKILL' || signal === 'SIGSTOP') trySignal(pid, 'SIGSTOP');
  const kids = childPids(pid);
  trySignal(pid, signal);
  for (const kid of kids) trySignal(kid, signal);
  return kids;
}

function findBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'postgres'))) return join(root, v, 'bin');
  throw new Error(`PostgreSQL: no ${root}/<version>/bin/postgres; run scripts/setup.sh or pass binDir`);
}

/** PostgreSQL refuses to run as root, so as root we run it as the `postgres` system user. */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error('PostgreSQL will not run as root and there is no "postgres" user (installing postgresql creates it)');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

// Our own PG* variables must not redirect the tools; C messages keep the ready line parseable.
function toolEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  return { ...env, LC_ALL: 'C' };
}

interface Server extends Running {
  /** Resolves when the postmaster logs that it accepts connections. */
  ready: Promise<void>;
}

function launchTool(bin: string, args: string[], spawnOpts: SpawnOptions, log?: (line: string) => void, input?: string): Server {
  let markReady = (): void => {};
  const ready = new Promise<void>((r) => (markReady = r));
  const run = launch(bin, args, { ...spawnOpts, env: { ...toolEnv(), ...spawnOpts.env } }, (line) => {
    if (line.includes(READY_LINE)) markReady();
    log?.(line);
  }, input);
  return { ...run, ready };
}

function failure(why: string, run: Running): Error {
  return new Error(`PostgreSQL ${why}\n--- output ---\n${run.output()}`);
}

/** Run a short-lived tool (initdb, createdb) to completion; returns its output, throws on failure. */
async function runTool(bin: string, args: string[], spawnOpts: SpawnOptions, log?: (line: string) => void, input?: string): Promise<string> {
  const run = launchTool(bin, args, spawnOpts, log, input);
  await run.exited;
  if (run.child.exitCode !== 0) throw failure(`${bin} ${args.join(' ')} failed`, run);
  return run.output();
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresHandle> {
  installExitHook();
  const binDir = opts.binDir ?? findBinDir();
  const database = opts.database ?? 'novact';
  const user = serverUser();
  const asServer: SpawnOptions = user ? { uid: user.uid, gid: user.gid } : {};
  const persistent = opts.dataDir !== undefined;
  const fsync = opts.fsync ?? persistent;

  // The run dir holds the unix socket (short path) and, for a temp cluster, the data too.
  const runDir = await mkdtemp(join(tmpdir(), 'novact-pg-'));
  liveTempDirs.add(runDir);
  const dataDir = opts.dataDir !== undefined ? resolve(opts.dataDir) : join(runDir, 'data');
  const cleanup = async (): Promise<void> => {
    await rm(runDir, { recursive: true, force: true });
    liveTempDirs.delete(runDir);
  };
  const log = opts.log;
  const serverOpts: SpawnOptions = { ...asServer, cwd: runDir };

  const serverArgs = (p: number): string[] => [
    ...['-D', dataDir, '-p', String(p), '-k', runDir],
    // No TCP at all: the socket, in the 0700 run dir, is the only way in (review H2).
    ...['-c', 'listen_addresses=', '-c', 'unix_socket_permissions=0700', '-c', 'max_connections=200', '-c', 'lc_messages=C'],
    // Not synchronous_commit=off: a killed server would lose its last commits (WAL still in shared
    // memory), and crash tests must see what a real crash keeps. fsync=off only risks an OS crash.
    ...(fsync ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off']),
  ];
  const startOn = async (p: number): Promise<Running> => {
    const r = launchTool(join(binDir, 'postgres'), serverArgs(p), serverOpts, log);
    livePostmasters.add(r.child);
    void r.exited.then(() => livePostmasters.delete(r.child));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      r.ready.then(() => 'ready' as const),
      r.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), READY_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (outcome === 'ready') return r;
    if (outcome === 'timeout') {
      await waitGone(signalTree(r.child.pid, 'SIGKILL'), 5_000);
      throw failure(`not ready within ${READY_TIMEOUT_MS} ms on port ${p}`, r);
    }
    const how = r.child.signalCode ?? `code ${r.child.exitCode ?? 'none'}`;
    throw failure(`exited during startup on port ${p} (${how})`, r);
  };

  let run: Running | undefined;
  let port = opts.port ?? 0;
  let password: string;
  try {
    if (user) await chown(runDir, user.uid, user.gid);
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      if (persistent) {
        await mkdir(dataDir, { recursive: true });
        if (user) await chown(dataDir, user.uid, user.gid);
      }
      password = generatePassword();
      // initdb wants an empty data dir, so the password goes through the run dir, then into the data dir.
      const pwfile = join(runDir, 'pwfile');
      await writePrivate(pwfile, `${password}\n`, user);
      const initArgs = ['-D', dataDir, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C'];
      await runTool(join(binDir, 'initdb'), fsync ? initArgs : [...initArgs, '--no-sync'], serverOpts, log).catch((err: Error) => {
        if (!user || !err.message.includes('Permission denied')) throw err;
        throw new Error(`${err.message}\nhint: as root, PostgreSQL runs as "postgres", which needs x permission on every parent of ${dataDir}`);
      }).finally(() => rm(pwfile, { force: true }));
      await storePassword(dataDir, password, user);
    } else {
      // A data dir without a stored password (older novact used trust): give the superuser one.
      password = (await readStoredPassword(dataDir)) ?? (await resetPassword(binDir, dataDir, serverOpts, log, user));
    }
    await writeHba(dataDir, user);

    // A port from freePort() can be taken before the postmaster binds it: retry with another.
    for (let attempt = 1; ; attempt++) {
      if (opts.port === undefined) port = await freePort();
      try {
        run = await startOn(port);
        break;
      } catch (err) {
        const portTaken = String(err).includes('Address already in use');
        if (!portTaken || opts.port !== undefined || attempt >= PORT_ATTEMPTS) throw err;
      }
    }

    if (database !== 'postgres') {
      const createArgs = ['-h', runDir, '-p', String(port), '-U', SUPERUSER, '-w', database];
      try {
        // The password in the child's environment (readable only by us), never in argv.
        await runTool(join(binDir, 'createdb'), createArgs, { cwd: runDir, env: { PGPASSWORD: password } }, log);
      } catch (err) {
        // A reused data dir already has it.
        if (!String(err).includes('already exists')) throw err;
      }
    }
  } catch (err) {
    if (run && isAlive(run.child)) await waitGone(signalTree(run.child.pid, 'SIGKILL'), 5_000);
    await run?.exited;
    await cleanup();
    throw err;
  }

  let current: Running = run;
  let stopped = false;
  const crash = async (): Promise<void> => {
    if (!isAlive(current.child)) return current.exited;
    const kids = signalTree(current.child.pid, 'SIGKILL');
    await current.exited;
    await waitGone(kids, 5_000);
  };
  const shutdown = async (): Promise<void> => {
    if (!isAlive(current.child)) return current.exited;
    signalTree(current.child.pid, 'SIGCONT'); // A paused server cannot shut down.
    current.child.kill('SIGINT'); // Fast shutdown, as `pg_ctl stop -m fast`.
    const timer = setTimeout(() => void crash(), STOP_TIMEOUT_MS);
    await current.exited;
    clearTimeout(timer);
  };

  const url = socketUrl({ user: SUPERUSER, password, port, database, socketDir: runDir });
  return {
    url,
    socketUrl: url,
    socketDir: runDir,
    user: SUPERUSER,
    password,
    port,
    dataDir,
    database,
    get pid() {
      return current.child.pid ?? -1;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await shutdown();
      await cleanup();
    },
    kill: crash,
    async restart() {
      if (stopped) throw new Error('PostgreSQL: restart() after stop()');
      await shutdown();
      current = await startOn(port);
    },
    async pause() {
      if (!isAlive(current.child)) return;
      const kids = signalTree(current.child.pid, 'SIGSTOP');
      await waitStopped([current.child.pid!, ...kids]);
    },
    resume() {
      if (isAlive(current.child)) signalTree(current.child.pid, 'SIGCONT');
    },
  };
}

/**
 * Sets a new generated superuser password in single-user mode (no server running, nothing listening)
 * and stores it. The statement goes through stdin, so the password is never in argv or a log line.
 */
async function resetPassword(binDir: string, dataDir: string, spawnOpts: SpawnOptions, log: ((line: string) => void) | undefined, owner?: ServerUser): Promise<string> {
  const password = generatePassword();
  const out = await runTool(join(binDir, 'postgres'), ['--single', '-D', dataDir, '-c', 'lc_messages=C', 'postgres'], spawnOpts, log,
    `ALTER ROLE ${SUPERUSER} PASSWORD '${password}';\n`);
  // Single-user mode exits 0 even when the statement failed.
  if (/\bERROR:/.test(out)) throw new Error(`PostgreSQL: could not set the superuser password in ${dataDir}\n--- output ---\n${out}`);
  await storePassword(dataDir, password, owner);
  return password;
}
