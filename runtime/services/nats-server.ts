/**
 * A private nats-server child process for tests and single-machine deployments.
 * Every server gets its own port (never the standard 4222, which may belong to someone else) and
 * its own JetStream store, and can be crashed, paused and restarted in place to test recovery.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, launch, waitStopped, type Running } from './child-process.js';

export interface NatsServerOptions {
  /** Passed as `-c file`; the port, store and name flags below still override it. */
  configFile?: string;
  /**
   * A generated config, written (0600) into the server's own 0700 run dir and used instead of
   * `configFile`; `reconfigure()` replaces it without a restart.
   */
  configText?: string;
  jetstream?: boolean;
  /** JetStream store; default a new temp dir, removed by stop(). */
  storeDir?: string;
  /** Default: a free port chosen by the server itself (`-p -1`). */
  port?: number;
  serverName?: string;
  binary?: string;
  /** Extra command-line arguments, appended last. */
  args?: string[];
  /** Extra environment for the server (nats.conf can reference `$VARIABLES`, e.g. passwords). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  /** Pid of the current process (changes on restart). */
  readonly pid: number;
  readonly storeDir: string;
  /** Graceful shutdown; waits for exit and removes the temp dirs this module created. */
  stop(): Promise<void>;
  /** SIGKILL, waits for exit; keeps the store for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port and store (stops the running process gracefully first). */
  restart(): Promise<void>;
  /** SIGSTOP; resolves once every thread of the server is stopped. */
  pause(): Promise<void>;
  /**
   * Writes a new generated config (`configText` servers only) and reloads it (SIGHUP, as
   * `nats-server --signal reload`); resolves once the server says it reloaded, rejects if it refused.
   */
  reconfigure(configText: string): Promise<void>;
  resume(): void;
}

const DEFAULT_BINARY = '/usr/sbin/nats-server';
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 20;
const RELOAD_TIMEOUT_MS = 10_000;

// Servers still running when this process exits are SIGKILLed so aborted test runs leak nothing.
const liveChildren = new Set<ChildProcess>();
const liveTempDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function launchServer(binary: string, args: string[], log?: (line: string) => void, env?: Record<string, string>): Running {
  installExitHook();
  const run = launch(binary, args, { env: env ? { ...process.env, ...env } : process.env }, log);
  liveChildren.add(run.child);
  void run.exited.then(() => liveChildren.delete(run.child));
  return run;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** With `-p -1` the server writes `<exe>_<pid>.ports` holding `{"nats": ["nats://host:port"]}`. */
async function readPortsFile(dir: string, pid: number): Promise<number | undefined> {
  const name = (await readdir(dir)).find((f) => f.endsWith(`_${pid}.ports`));
  if (!name) return undefined;
  try {
    const parsed = JSON.parse(await readFile(join(dir, name), 'utf8')) as { nats?: string[] };
    const url = parsed.nats?.[0];
    return url ? Number(new URL(url).port) : undefined;
  } catch {
    return undefined; // Partially written; try again on the next poll.
  }
}

function failure(why: string, run: Running): Error {
  return new Error(`nats-server ${why}\n--- output ---\n${run.output()}`);
}

/**
 * Ready once our own pid's ports file names the port and it accepts connections. Probing a known
 * port alone is not enough: another process holding it would answer for a server that failed to bind.
 */
async function waitReady(run: Running, portsDir: string): Promise<number> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let port: number | undefined;
  for (;;) {
    if (!isAlive(run.child)) {
      await run.exited;
      const how = run.child.signalCode ?? `code ${run.child.exitCode ?? 'none'}`;
      throw failure(`exited during startup (${how})`, run);
    }
    if (Date.now() > deadline) {
      run.child.kill('SIGKILL');
      throw failure(`not ready within ${READY_TIMEOUT_MS} ms`, run);
    }
    if (port === undefined && run.child.pid !== undefined) port = await readPortsFile(portsDir, run.child.pid);
    if (port !== undefined && (await canConnect(port))) return port;
    await Promise.race([new Promise((r) => setTimeout(r, POLL_MS)), run.exited]);
  }
}

async function terminate(run: Running, signal: NodeJS.Signals): Promise<void> {
  if (!isAlive(run.child)) return run.exited;
  run.child.kill(signal);
  run.child.kill('SIGCONT'); // A paused server would not act on SIGTERM.
  const timer = setTimeout(() => run.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await run.exited;
  clearTimeout(timer);
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = opts.binary ?? (existsSync(DEFAULT_BINARY) ? DEFAULT_BINARY : 'nats-server');
  const jetstream = opts.jetstream ?? true;
  // The run dir holds the ports file, and the default store, so one rm cleans up everything we made.
  const runDir = await mkdtemp(join(tmpdir(), 'novact-nats-'));
  liveTempDirs.add(runDir);
  const storeDir = opts.storeDir ?? join(runDir, 'store');
  await mkdir(storeDir, { recursive: true });
  const serverName = opts.serverName ?? `novact-${runDir.slice(-6)}`;
  // mkdtemp makes the run dir 0700: the generated config (host users, role password variables) is ours alone.
  const configFile = opts.configText === undefined ? opts.configFile : join(runDir, 'nats.conf');
  // A reload compares the file with the running options, and the server name and store dir given
  // as flags are not carried over: without them in the file too, every reload is refused.
  const withRunOptions = (text: string): string => {
    let out = text;
    if (jetstream) {
      const store = `store_dir: ${JSON.stringify(storeDir)}`;
      out = /^jetstream\s*\{/m.test(out) ? out.replace(/^jetstream\s*\{/m, `jetstream {\n  ${store}`) : `${out}\njetstream { ${store} }`;
    }
    return `${out}\nserver_name: ${JSON.stringify(serverName)}\n`;
  };
  const writeConfig = async (text: string) => {
    const tmp = `${configFile!}.tmp`;
    await writeFile(tmp, withRunOptions(text), { mode: 0o600 });
    await rename(tmp, configFile!);
  };
  if (opts.configText !== undefined) await writeConfig(opts.configText);
  // Every output line also goes to whoever waits for a reload's outcome.
  const lineWatchers = new Set<(line: string) => void>();
  const onLine = (line: string) => {
    opts.log?.(line);
    for (const w of lineWatchers) w(line);
  };

  const argsFor = (port: number): string[] => [
    ...(configFile ? ['-c', configFile] : ['-a', '127.0.0.1']),
    ...['-p', String(port), '--ports_file_dir', runDir],
    // A generated config carries the store and the name itself (withRunOptions).
    ...(jetstream ? ['-js', ...(opts.configText === undefined ? ['--store_dir', storeDir] : [])] : []),
    ...((jetstream || opts.serverName) && opts.configText === undefined ? ['--server_name', serverName] : []),
    ...(opts.args ?? []),
  ];

  let run = launchServer(binary, argsFor(opts.port ?? -1), onLine, opts.env);
  let port: number;
  try {
    port = await waitReady(run, runDir);
  } catch (err) {
    await run.exited;
    await rm(runDir, { recursive: true, force: true });
    liveTempDirs.delete(runDir);
    throw err;
  }
  let stopped = false;

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return run.child.pid ?? -1;
    },
    storeDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(run, 'SIGTERM');
      await rm(runDir, { recursive: true, force: true });
      liveTempDirs.delete(runDir);
    },
    async kill() {
      if (isAlive(run.child)) run.child.kill('SIGKILL');
      await run.exited;
    },
    async restart() {
      if (stopped) throw new Error('nats-server: restart() after stop(); its directories are gone');
      await terminate(run, 'SIGTERM');
      run = launchServer(binary, argsFor(port), onLine, opts.env);
      await waitReady(run, runDir);
    },
    async pause() {
      if (!isAlive(run.child)) return;
      run.child.kill('SIGSTOP');
      await waitStopped([run.child.pid!]);
    },
    resume() {
      if (isAlive(run.child)) run.child.kill('SIGCONT');
    },
    async reconfigure(text: string) {
      if (opts.configText === undefined) throw new Error('nats-server: reconfigure() needs a server started with configText');
      await writeConfig(text);
      if (!isAlive(run.child)) return; // A killed server reads the new file when restarted.
      let watcher!: (line: string) => void;
      let timer: NodeJS.Timeout | undefined;
      const outcome = new Promise<void>((resolve, reject) => {
        watcher = (line) => {
          if (/Reloaded server configuration/.test(line)) resolve();
          else if (/Failed to reload/i.test(line)) reject(new Error(`nats-server refused the new config: ${line}`));
        };
        timer = setTimeout(() => reject(new Error(`nats-server did not reload within ${RELOAD_TIMEOUT_MS} ms`)), RELOAD_TIMEOUT_MS);
      });
      lineWatchers.add(watcher);
      try {
        run.child.kill('SIGHUP');
        await outcome;
      } finally {
        clearTimeout(timer);
        lineWatchers.delete(watcher);
      }
    },
  };
}
