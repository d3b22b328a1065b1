/**
 * A session-mode libvirtd of novact's own (one per libvirt host): unprivileged, its HOME and XDG
 * directories inside `dir`, reached on its own socket, so tests and `novact up --driver libvirt`
 * need no system libvirt and never share one.
 *
 * libvirtd is privileged (system mode, fixed /etc, /run and /var paths) whenever its euid is 0. As
 * root we therefore start it in a new user namespace where it is `nobody` (mapped to our own uid
 * outside): it runs in session mode with no capabilities, and still owns, as far as the kernel is
 * concerned, the files we create for it (disks, kernels, config drives).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isAlive, launch, pidsWithEnv, waitGone, type Running } from './child-process.js';
import { defaultCapabilitiesCache, harvestCapabilities, seedCapabilities } from './libvirt-capabilities.js';

export interface LibvirtdOptions {
  /** Where the daemon's directories, socket and logs live (default: a new temp dir, removed on stop). */
  dir?: string;
  /** How long to wait for the socket (default 30 s). */
  readyTimeoutMs?: number;
  /**
   * QEMU capabilities shared with other daemons (see libvirt-capabilities.ts): seeded from here
   * on start, written back on stop. Default ~/.cache/novact/libvirt-capabilities; null: no sharing.
   */
  capabilitiesCache?: string | null;
}

export interface LibvirtdHandle {
  /** `qemu+unix:///session?socket=<dir>/…/libvirt-sock`. */
  uri: string;
  dir: string;
  pid: number;
  /** The daemon's recent output (errors). */
  output(): string;
  /** Stops the daemon (SIGTERM, then SIGKILL); removes `dir` when it was a temp dir. */
  stop(): Promise<void>;
  /** SIGKILL now (chaos tests); the guests' qemu processes are left as a crash leaves them. */
  kill(): void;
}

const BINARY = '/usr/sbin/libvirtd';
// Where Debian (multiarch) and others put libvirt's driver modules.
const DRIVER_DIRS = [
  '/usr/lib/x86_64-linux-gnu/libvirt/connection-driver',
  '/usr/lib/aarch64-linux-gnu/libvirt/connection-driver',
  '/usr/lib64/libvirt/connection-driver',
  '/usr/lib/libvirt/connection-driver',
];
const QEMU_DRIVER = 'libvirt_driver_qemu.so';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const GONE_TIMEOUT_MS = 10_000;
const POLL_MS = 20;
// sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
const MAX_SOCKET_PATH = 107;
/** `/libvirt/qemu/lib/domain-<id up to 6 digits>-<20 chars>/monitor.sock`. */
const MONITOR_SUFFIX_BYTES = '/libvirt/qemu/lib/domain-'.length + 6 + 1 + 20 + '/monitor.sock'.length;

// The daemon reads these at start: warnings and errors to stderr (kept by launch); no virtlogd
// (qemu's output goes straight to files, and no second daemon to stop); no security driver (an
// unprivileged daemon can load no AppArmor or SELinux profile).
const LIBVIRTD_CONF = 'log_outputs = "3:stderr"\n';
const QEMU_CONF = 'stdio_handler = "file"\nsecurity_driver = "none"\n';

// Daemons still running when this process exits are SIGKILLed, guests too, so aborted runs leak nothing.
const live = new Map<ChildProcess, { home: string; tempDir?: string; alias?: string }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [child, { home, tempDir, alias }] of live) {
      child.kill('SIGKILL');
      for (const pid of pidsWithEnv(`HOME=${home}`)) trySignal(pid, 'SIGKILL');
      for (const d of [tempDir, alias]) if (d) rmSync(d, { recursive: true, force: true });
    }
  });
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function qemuDriver(): string {
  const found = DRIVER_DIRS.map((d) => join(d, QEMU_DRIVER)).find((f) => existsSync(f));
  if (!found) throw new Error(`libvirtd: no ${QEMU_DRIVER} in ${DRIVER_DIRS.join(', ')}; run scripts/setup.sh`);
  return found;
}

/** An unprivileged user that exists on every Debian machine (libvirt looks its own uid up). */
function nobody(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('libvirtd: as root it runs as "nobody" in a user namespace, and /etc/passwd has no "nobody"');
  return { uid: Number(uid), gid: Number(gid) };
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ path });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

function readPid(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}

function failure(why: string, run: Running): Error {
  return new Error(`libvirtd ${why}\n--- output ---\n${run.output()}`);
}

export async function startLibvirtd(opts: LibvirtdOptions = {}): Promise<LibvirtdHandle> {
  if (!existsSync(BINARY)) throw new Error(`libvirtd: ${BINARY} is missing; run scripts/setup.sh`);
  installExitHook();
  const tempDir = opts.dir === undefined ? await mkdtemp(join(tmpdir(), 'novact-libvirtd-')) : undefined;
  const dir = tempDir ?? resolve(opts.dir!);
  const paths = {
    home: join(dir, 'home'),
    config: join(dir, 'config'),
    cache: join(dir, 'cache'),
    runtime: join(dir, 'run'),
    tmp: join(dir, 'tmp'),
    drivers: join(dir, 'drivers'),
  };
  const socket = join(paths.runtime, 'libvirt', 'libvirt-sock');
  const pidFile = join(paths.runtime, 'libvirt', 'libvirtd.pid');
  let alias: string | undefined;
  const cleanup = async (): Promise<void> => {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    if (alias) await rm(alias, { recursive: true, force: true });
  };
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    await cleanup();
    throw new Error(`libvirtd: the socket path ${socket} is longer than a unix socket allows (${MAX_SOCKET_PATH} bytes); use a shorter dir`);
  }
  for (const p of [paths.home, paths.config, paths.cache, paths.runtime, paths.tmp]) await mkdir(p, { recursive: true, mode: 0o700 });
  // libvirtd loads every driver module it finds in its driver dir, and skips missing ones: a dir
  // holding only QEMU's leaves out the network, nwfilter, interface, storage, node device and
  // secret drivers, which want root, dnsmasq, the system bus or udev, and which novact never calls.
  await rm(paths.drivers, { recursive: true, force: true });
  await mkdir(paths.drivers, { mode: 0o700 });
  await symlink(qemuDriver(), join(paths.drivers, QEMU_DRIVER));
  await mkdir(join(paths.config, 'libvirt'), { recursive: true, mode: 0o700 });
  const conf = join(paths.config, 'libvirt', 'libvirtd.conf');
  await writeFile(conf, LIBVIRTD_CONF);
  await writeFile(join(paths.config, 'libvirt', 'qemu.conf'), QEMU_CONF);
  // libvirt puts each guest's QEMU monitor socket under XDG_CONFIG_HOME
  // (`libvirt/qemu/lib/domain-<id>-<name, 20 chars>/monitor.sock`): a config dir too long for that
  // is reached through a short link in /tmp instead, removed at stop.
  alias = Buffer.byteLength(paths.config) + MONITOR_SUFFIX_BYTES > MAX_SOCKET_PATH ? await mkdtemp('/tmp/nvl-') : undefined;
  if (alias) await symlink(paths.config, join(alias, 'c'));
  const configHome = alias ? join(alias, 'c') : paths.config;
  const sharedCapabilities = opts.capabilitiesCache === undefined ? defaultCapabilitiesCache() : opts.capabilitiesCache;
  if (sharedCapabilities) await seedCapabilities(sharedCapabilities, paths.cache);
  // qemu is detached from the daemon (its parent is init); it inherits this HOME, which finds it.
  const home = realpathSync(paths.home);

  // A clean environment: nothing of ours (a session bus, DISPLAY, LIBVIRT_* overrides) leaks in.
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    LC_ALL: 'C',
    HOME: home,
    XDG_CONFIG_HOME: configHome,
    XDG_CACHE_HOME: paths.cache,
    XDG_RUNTIME_DIR: paths.runtime,
    TMPDIR: paths.tmp,
    LIBVIRT_DRIVER_DIR: paths.drivers,
  };
  // No --timeout: a session daemon given one exits when idle, under a host that still needs it.
  const daemonArgs = ['--config', conf];
  const asRoot = process.geteuid?.() === 0;
  const user = asRoot ? nobody() : undefined;
  const [bin, args] = user
    ? ['unshare', ['--user', `--map-user=${user.uid}`, `--map-group=${user.gid}`, BINARY, ...daemonArgs]]
    : [BINARY, daemonArgs];
  const run = launch(bin, args, { cwd: dir, env });
  // Kept after a kill() too: the guests it leaves are still ours to end when this process exits.
  live.set(run.child, { home, tempDir, alias });
  let stopping = false;

  const reapGuests = async (): Promise<void> => {
    const pids = pidsWithEnv(`HOME=${home}`);
    for (const pid of pids) trySignal(pid, 'SIGKILL');
    await waitGone(pids, GONE_TIMEOUT_MS);
  };

  const readyTimeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
  const deadline = Date.now() + readyTimeoutMs;
  try {
    for (;;) {
      if (!isAlive(run.child)) {
        await run.exited;
        const how = run.child.signalCode ?? `code ${run.child.exitCode ?? 'none'}`;
        throw failure(`exited during startup (${how})`, run);
      }
      // Our own pid in the pid file first: another daemon on the same dir would answer on the socket.
      if (readPid(pidFile) === run.child.pid && (await canConnect(socket))) break;
      if (Date.now() > deadline) {
        run.child.kill('SIGKILL');
        await run.exited;
        throw failure(`did not open ${socket} within ${readyTimeoutMs} ms`, run);
      }
      await Promise.race([new Promise((r) => setTimeout(r, POLL_MS)), run.exited]);
    }
  } catch (err) {
    // Only this run's daemon is ours to end here: another one (refused above) may own the dir's guests.
    live.delete(run.child);
    await cleanup();
    throw err;
  }

  return {
    uri: `qemu+unix:///session?socket=${socket}`,
    dir,
    pid: run.child.pid ?? -1,
    output: run.output,
    async stop() {
      if (stopping) return;
      stopping = true;
      if (isAlive(run.child)) {
        run.child.kill('SIGTERM');
        const timer = setTimeout(() => run.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await run.exited;
        clearTimeout(timer);
      }
      // The daemon leaves running guests running (as it would for a restart): a stop ends them.
      await reapGuests();
      // A shared cache we cannot write only costs the next daemon its own probe.
      if (sharedCapabilities) await harvestCapabilities(sharedCapabilities, paths.cache).catch(() => undefined);
      live.delete(run.child);
      await cleanup();
    },
    kill() {
      if (isAlive(run.child)) run.child.kill('SIGKILL');
    },
  };
}
