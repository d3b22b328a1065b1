/**
 * `novact up`: the all-in-one cluster in the foreground (embedded nats-server and PostgreSQL unless
 * given URLs), a state file for client commands, optional demo servers, graceful stop on SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { roleInboxPrefix } from '../protocols/host-identity.js';
import { splitCredentials } from '../runtime/nats/connection.js';
import type { ServerView } from '../protocols/messages.js';
import type { Cluster, ClusterOptions, RoleName } from '../cluster/cluster.js';
import type { LogLevel } from '../runtime/log/logger.js';
import * as fmt from './format.js';
import { OWNER_HOST_PREFIX, hostNames, joinHostPrefix } from './host-names.js';
import { joinCluster } from './join.js';
import type { LibvirtHosts } from '../cluster/libvirt-hosts.js';
import { isAlive, readState, removeState, stateFilePath, writeState } from './state-file.js';
import { CliError, UsageError, intOption, strOption, type CommandSpec, type RunContext } from './usage.js';

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const HOSTS_TIMEOUT_MS = 60_000;
const DEMO_TIMEOUT_MS = 120_000;
/** A second signal this long after the first forces the exit (the first may arrive twice at once:
 * from the terminal to the whole process group and relayed by bin/novact.js). */
const FORCE_AFTER_MS = 1_000;

export const UP_COMMAND: CommandSpec = {
  path: ['up'],
  args: [],
  options: ['hosts', 'driver', 'nats-url', 'database-url', 'data-dir', 'demo', 'subject-root', 'api-port', 'roles', 'join', 'host-seed', 'host-prefix', 'metrics-port'],
  synopsis: '[--hosts N] [--driver fake|libvirt] [--host-prefix P] [--nats-url URL] [--database-url URL] [--data-dir DIR] [--demo N] [--api-port PORT] [--metrics-port [HOST:]PORT] [--roles R,R…] [--join] [--host-seed FILE]',
  summary: 'run a cluster in the foreground (Ctrl-C stops it); --join runs more roles for the one already up',
  run: runUp,
};

const ALL_ROLES: readonly RoleName[] = ['conductor', 'scheduler', 'compute', 'image', 'network', 'api'];

function rolesOption(ctx: RunContext, join: boolean): RoleName[] {
  const given = strOption(ctx.values, 'roles');
  if (given === undefined) return join ? ['compute'] : [...ALL_ROLES];
  const roles = given.split(',').map((r) => r.trim());
  const unknown = roles.filter((r) => !ALL_ROLES.includes(r as RoleName));
  if (unknown.length > 0 || roles.length === 0) throw new UsageError(`--roles takes some of ${ALL_ROLES.join(',')}; got '${given}'`, UP_COMMAND);
  return [...new Set(roles as RoleName[])];
}

/**
 * The fake hosts' names: `compute-N` for the owner; for a joiner `<machine>-<random>-N` unless
 * `--host-prefix` says otherwise, so two processes never claim the same host names.
 */
export function hostNamesOption(values: RunContext['values'], join: boolean, hosts: number): { prefix: string; names: string[] } {
  const prefix = strOption(values, 'host-prefix') ?? (join ? joinHostPrefix() : OWNER_HOST_PREFIX);
  try {
    return { prefix, names: hostNames(prefix, hosts) };
  } catch (err) {
    throw new UsageError(`--host-prefix: ${(err as Error).message}`, UP_COMMAND);
  }
}

const DRIVERS = ['fake', 'libvirt'] as const;
type DriverName = (typeof DRIVERS)[number];

function driverOption(ctx: RunContext): DriverName {
  const given = strOption(ctx.values, 'driver') ?? 'fake';
  if (!(DRIVERS as readonly string[]).includes(given)) throw new UsageError(`--driver takes one of ${DRIVERS.join(', ')}; got '${given}'`, UP_COMMAND);
  return given as DriverName;
}

function clusterOptions(ctx: RunContext): { options: ClusterOptions; hosts: number; hostNames: string[]; demo: number; join: boolean; driver: DriverName } {
  const join = ctx.values.join === true;
  const roles = rolesOption(ctx, join);
  const driver = driverOption(ctx);
  // A real guest costs a QEMU process each: one libvirt host unless asked for more.
  const hosts = roles.includes('compute') ? intOption(ctx.values, 'hosts', driver === 'libvirt' ? 1 : 5, UP_COMMAND) : 0;
  const { prefix, names } = hostNamesOption(ctx.values, join, hosts);
  const demo = intOption(ctx.values, 'demo', 0, UP_COMMAND);
  if (demo > 0 && (hosts === 0 || join)) throw new UsageError('--demo needs at least one host, in a cluster of its own (not with --join)', UP_COMMAND);
  const level = (ctx.env.NOVACT_LOG || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`NOVACT_LOG must be one of ${LOG_LEVELS.join(', ')}, got '${level}'`, UP_COMMAND);
  const options: ClusterOptions = { hosts, hostPrefix: prefix, logLevel: level, roles, metrics: metricsOption(ctx) };
  if (join) {
    for (const flag of ['nats-url', 'database-url', 'data-dir', 'subject-root', 'host-seed']) {
      if (ctx.values[flag] !== undefined) throw new UsageError(`--join takes the cluster's own settings from its state file; drop --${flag}`, UP_COMMAND);
    }
    return { options, hosts, hostNames: names, demo, join, driver };
  }
  const natsUrl = strOption(ctx.values, 'nats-url') ?? (ctx.env.NATS_URL || undefined);
  const databaseUrl = strOption(ctx.values, 'database-url') ?? (ctx.env.DATABASE_URL || undefined);
  const dataDir = strOption(ctx.values, 'data-dir');
  const subjectRoot = strOption(ctx.values, 'subject-root');
  if (natsUrl) options.natsUrl = natsUrl;
  if (databaseUrl) options.databaseUrl = databaseUrl;
  if (dataDir) {
    if (databaseUrl) throw new UsageError('--data-dir is for the embedded PostgreSQL; it cannot go with --database-url', UP_COMMAND);
    options.dataDir = dataDir;
  }
  if (subjectRoot) options.subjectRoot = subjectRoot;
  // The compute role's host identity on your own NATS (`novact host credentials`).
  const seedFile = strOption(ctx.values, 'host-seed');
  if (seedFile) {
    if (!natsUrl) throw new UsageError('--host-seed is for an external NATS (--nats-url); the embedded one makes its own', UP_COMMAND);
    try {
      options.hostSeed = readFileSync(seedFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`cannot read --host-seed ${seedFile}: ${(err as Error).message}`, UP_COMMAND);
    }
  }
  if (ctx.values['api-port'] !== undefined) options.api = { port: intOption(ctx.values, 'api-port', DEFAULT_API_PORT, UP_COMMAND) };
  return { options, hosts, hostNames: names, demo, join, driver };
}

/**
 * `--metrics-port [HOST:]PORT`: `/metrics`, `/healthz`, `/readyz` on their own port (127.0.0.1
 * unless a host is given), for joined role processes too. NOVACT_METRICS_TOKEN, when set, is the
 * scrape token `/metrics` then requires on this port and the API's (`Authorization: Bearer …`).
 */
export function metricsOption(ctx: Pick<RunContext, 'values' | 'env'>): NonNullable<ClusterOptions['metrics']> {
  const token = ctx.env.NOVACT_METRICS_TOKEN || undefined;
  const out: NonNullable<ClusterOptions['metrics']> = token === undefined ? {} : { token };
  const given = strOption(ctx.values, 'metrics-port');
  if (given === undefined) return out;
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\s]+):)?(\d{1,5})$/.exec(given);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65_535) throw new UsageError(`--metrics-port takes PORT or HOST:PORT, got '${given}'`, UP_COMMAND);
  out.port = port;
  if (m[1] !== undefined) out.host = m[1].replace(/^\[|\]$/g, '');
  return out;
}

/** Nova's port. Without --api-port, `up` takes it when free and any free port otherwise. */
const DEFAULT_API_PORT = 8774;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function runUp(ctx: RunContext): Promise<number> {
  const { options, hosts, hostNames: names, demo, join, driver } = clusterOptions(ctx);
  const statePath = stateFilePath(ctx.env);
  const previous = readState(statePath);
  const running = previous && previous.pid !== process.pid && isAlive(previous.pid);
  if (join) {
    // Another process of the cluster that is up: its NATS (with the per-role users), its database.
    if (!running || !previous.join) throw new CliError(`--join needs a running 'novact up' recorded in ${statePath}`, 2);
    try {
      Object.assign(options, await joinCluster({ ...previous, join: previous.join }, options.roles!, names));
    } catch (err) {
      throw new CliError(`cannot join the cluster in ${statePath}: ${err instanceof Error ? err.message : String(err)}`, 1);
    }
  } else if (running) {
    throw new CliError(`another novact cluster (pid ${previous.pid}) is recorded in ${statePath}; stop it, or set NOVACT_STATE_FILE to run a second one`, 2);
  }
  // The state file belongs to the process that started the cluster; a joined one leaves it alone.
  const ownsState = !join;

  let cluster: Cluster | undefined;
  let libvirt: LibvirtHosts | undefined;
  let stopping: Promise<number> | undefined;
  let firstSignalAt = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const stop = (): Promise<number> => {
    stopping ??= (async () => {
      if (ownsState) removeState(statePath, process.pid);
      if (!cluster) return 0; // still starting: stopped once startCluster returns
      ctx.err.write('novact: stopping…\n');
      try {
        await cluster.stop();
        await libvirt?.stop();
        ctx.err.write('novact: stopped\n');
        return 0;
      } catch (err) {
        ctx.err.write(`error: stopping the cluster failed: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      }
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstSignalAt === 0) {
      firstSignalAt = now;
      void stop().then(resolveDone);
    } else if (now - firstSignalAt > FORCE_AFTER_MS) {
      ctx.err.write(`novact: ${signal} again, exiting without a clean stop\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (ownsState) process.on('exit', () => removeState(statePath, process.pid));

  try {
    // Loaded here, not at the top: the cluster pulls in the ORM, which client commands do not need.
    const { startCluster } = await import('../cluster/cluster.js');
    if (options.roles!.includes('api')) options.api ??= { port: (await portFree(DEFAULT_API_PORT)) ? DEFAULT_API_PORT : 0 };
    if (driver === 'libvirt' && hosts > 0) {
      libvirt = await startLibvirtFleet(names, options.dataDir);
      options.hosts = libvirt.hosts;
    }
    cluster = await startCluster(options);
  } catch (err) {
    await libvirt?.stop().catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const where = [options.natsUrl && `NATS ${fmt.redact(options.natsUrl)}`, options.databaseUrl && `database ${fmt.redact(options.databaseUrl)}`].filter(Boolean).join(', ');
    throw new CliError(`cannot start the cluster${where ? ` (${where})` : ''}: ${err instanceof Error ? err.message : String(err)}`, 1);
  }
  if (firstSignalAt !== 0) {
    // A signal arrived while starting: stop now that there is something to stop.
    stopping = undefined;
    return stop();
  }
  if (ownsState) {
    writeState(statePath, {
      natsUrl: cluster.natsUrl,
      subjectRoot: cluster.subjects.root,
      pid: process.pid,
      // Every role's user, for `--join` to pick from (it takes only those of the roles it runs).
      join: { natsUrl: splitCredentials(cluster.natsUrl).url, natsAuth: cluster.roleAuth, databaseUrl: cluster.databaseUrl },
      // A generated admin password lives here (0600), not in the banner's scrollback.
      ...(cluster.api?.passwordGenerated ? { adminPassword: cluster.api.adminPassword } : {}),
    });
  }

  // A joined compute process holds no client credential: nothing to ask.
  // Real guests need real bytes: the tiny test guest is uploaded (once) and is what the demo boots.
  const seeded = driver === 'libvirt' && !join ? await (await import('../cluster/test-image-seed.js')).seedTestImage(cluster.client) : undefined;
  const images = join ? [] : await cluster.client.listImages().catch(() => []);
  const image = seeded ?? images.find((i) => i.status === 'active') ?? images[0];
  const info = {
    pid: process.pid,
    // Never the password: it is in the state file (0600) for the CLI.
    natsUrl: splitCredentials(cluster.natsUrl).url,
    natsUser: splitCredentials(cluster.natsUrl).user ?? null,
    natsEmbedded: !!cluster.embedded.nats,
    databaseUrl: fmt.redact(cluster.databaseUrl),
    databaseEmbedded: !!cluster.embedded.postgres,
    dataDir: cluster.embedded.postgres ? (options.dataDir ?? null) : null,
    hosts,
    driver,
    hostNames: names,
    roles: options.roles!,
    joined: join,
    subjectRoot: cluster.subjects.root,
    stateFile: statePath,
    apiUrl: cluster.apiUrl ?? null,
    opsUrl: cluster.opsUrl ?? null,
    // A password the operator chose is theirs to know; a generated one is in the state file.
    adminPasswordGenerated: !!cluster.api?.passwordGenerated,
  };
  ctx.out.write(ctx.values.json ? `${JSON.stringify(info)}\n` : banner(info, image?.name));

  if (demo > 0 && firstSignalAt === 0) {
    try {
      const servers = await runDemo(cluster, demo, hosts, image?.id, () => firstSignalAt !== 0);
      if (servers) ctx.out.write(ctx.values.json ? `${JSON.stringify(servers)}\n` : `\ndemo servers:\n${fmt.serverList(servers)}`);
    } catch (err) {
      if (firstSignalAt === 0) ctx.err.write(`error: demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (!ctx.values.json && firstSignalAt === 0) ctx.out.write('\nnovact is running; Ctrl-C stops it.\n');
  watchHealth(cluster, ctx.err, done);
  return done;
}

function banner(
  info: {
    pid: number; natsUrl: string; natsUser: string | null; natsEmbedded: boolean; databaseUrl: string; databaseEmbedded: boolean; dataDir: string | null; hosts: number; driver: DriverName;
    hostNames: string[]; roles: RoleName[]; joined: boolean; subjectRoot: string; stateFile: string; apiUrl: string | null; opsUrl: string | null; adminPasswordGenerated: boolean;
  },
  imageName: string | undefined,
): string {
  const db = info.databaseEmbedded ? (info.dataDir ? `embedded, data in ${info.dataDir}` : 'embedded, temporary') : 'external';
  const n = info.hostNames;
  const hostNames = n.length === 0 ? 'none' : n.length === 1 ? n[0] : `${n[0]} … ${n[n.length - 1]}`;
  const root = info.subjectRoot;
  // The NATS CLI reads NATS_URL (credentials included) and must use the client user's inbox prefix.
  const nats = `nats --inbox-prefix ${roleInboxPrefix('client')}`;
  return [
    info.joined ? `novact joined the cluster in ${info.stateFile} (pid ${info.pid})` : `novact is up (pid ${info.pid})`,
    `  roles:       ${info.roles.join(', ')}`,
    `  NATS:        ${info.natsUrl} (${info.natsEmbedded ? 'embedded nats-server' : 'external'}${info.natsUser ? `; user ${info.natsUser}, password in the state file` : ''})`,
    `  PostgreSQL:  ${info.databaseUrl} (${db})`,
    `  hosts:       ${info.hosts} ${info.driver} (${hostNames})`,
    `  subjects:    ${root}.>`,
    `  state file:  ${info.stateFile}`,
    ...(info.opsUrl ? [`  operations:  ${info.opsUrl}/metrics, /healthz, /readyz`] : []),
    ...(info.apiUrl ? [
      `  REST API:    ${info.apiUrl} (identity ${info.apiUrl}/v3, compute /v2.1, image /image)`,
      `  admin:       user admin, project admin, password ${info.adminPasswordGenerated ? 'in the state file (.adminPassword)' : 'from NOVACT_ADMIN_PASSWORD'}`,
      `  dashboard:   ${info.apiUrl}/dashboard (log in with Keystone credentials)`,
    ] : []),
    '',
    'try it:',
    `  novact server create --flavor m1.tiny --image ${imageName ?? '<image>'} --wait`,
    ...(info.driver === 'libvirt' ? ['  novact server getConsoleOutput <id>    # the guest\'s serial console'] : []),
    '  novact server list',
    ...(info.natsUser ? [`  export NATS_URL="$(jq -r .natsUrl ${info.stateFile})"    # with the ${info.natsUser} user's password`] : [`  export NATS_URL=${info.natsUrl}`]),
    `  ${nats} req ${root}.instance.<id>.get ''`,
    `  ${nats} sub '${root}.evt.>'`,
    ...(info.apiUrl ? [
      `  export OS_AUTH_URL=${info.apiUrl}/v3 OS_USERNAME=admin OS_PASSWORD=${info.adminPasswordGenerated ? `"$(jq -r .adminPassword ${info.stateFile})"` : '"$NOVACT_ADMIN_PASSWORD"'} OS_PROJECT_NAME=admin \\`,
      '         OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3',
      '  openstack server list',
    ] : []),
    '',
  ].join('\n');
}

/** Boots `count` servers once the scheduler has the hosts; undefined if stopped meanwhile. */
async function runDemo(cluster: Cluster, count: number, hosts: number, imageId: string | undefined, cancelled: () => boolean): Promise<ServerView[] | undefined> {
  if (!imageId) throw new Error('no image to boot');
  const client = cluster.client;
  const deadline = Date.now() + HOSTS_TIMEOUT_MS;
  while ((await client.listHosts()).filter((h) => h.state === 'up').length < hosts) {
    if (cancelled()) return undefined;
    if (Date.now() > deadline) throw new Error(`the ${hosts} hosts did not report within ${HOSTS_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  if (cancelled()) return undefined;
  const created = await Promise.all(
    Array.from({ length: count }, (_, i) => client.createServer({ name: `demo-${i + 1}`, flavorRef: 'm1.tiny', imageRef: imageId })),
  );
  return Promise.all(
    created.map((s) => client.waitForServer(s.id, (v) => v.status === 'ERROR' || (v.status === 'ACTIVE' && v.taskState === null), DEMO_TIMEOUT_MS)),
  );
}

/** Says on stderr when a role's health changes (a role-critical actor restarted, or the role gave up). */
function watchHealth(cluster: { health(): { roles: Record<string, { status: string; reason: string | null }> } }, err: { write(text: string): void }, done: Promise<number>): void {
  const last = new Map<string, string>();
  const timer = setInterval(() => {
    for (const [role, h] of Object.entries(cluster.health().roles)) {
      if ((last.get(role) ?? 'ok') !== h.status) err.write(`novact: the ${role} role is ${h.status}${h.reason ? ` (${h.reason})` : ''}\n`);
      last.set(role, h.status);
    }
  }, 2_000);
  timer.unref();
  void done.finally(() => clearInterval(timer));
}

/**
 * One session-mode libvirtd and driver per host, under `<data dir>/libvirt` when the data is kept
 * (guests and their disks survive a restart then) or a temporary directory otherwise.
 */
async function startLibvirtFleet(names: string[], dataDir: string | undefined): Promise<LibvirtHosts> {
  const { startLibvirtHosts } = await import('../cluster/libvirt-hosts.js');
  const dir = dataDir ? joinPath(dataDir, 'libvirt') : await mkdtemp(joinPath(tmpdir(), 'novact-libvirt-'));
  return startLibvirtHosts(names, dir);
}
