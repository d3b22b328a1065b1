/**
 * `startCluster(options)`: the library entry. Starts the roles asked for (all four by default: the
 * all-in-one), each with its own NATS connection, against the given NATS and PostgreSQL or, when none
 * is given, a `nats-server` child and a private PostgreSQL cluster that it starts and stops itself.
 */
import { FakeFabric } from '../hosts/fake/fake-migration.js';
import { join as joinPath } from 'node:path';
import type { NatsConnection } from 'nats';
import { startComputeRole, DEFAULT_COMPUTE_CONFIG, type ComputeConfig, type ComputeHost, type ComputeRole } from '../actors/compute/compute-role.js';
import { startConductorRole, DEFAULT_CONDUCTOR_CONFIG, type ConductorConfig, type ConductorRole } from '../actors/conductor/conductor-role.js';
import { startImageRole } from '../actors/image/image-role.js';
import { startNetworkRole, type NetworkRole } from '../actors/network/network-role.js';
import type { NetConfig } from '../actors/network/net-context.js';
import { FsImageStore } from '../actors/image/image-store.js';
import type { SavingSweepConfig } from '../actors/image/saving-sweep.js';
import type { ImageDataOptions } from '../actors/image/image-role.js';
import { startApiRole, type ApiRole } from '../actors/api/api-role.js';
import { resolveApiConfig, type ApiOptions } from '../actors/api/api-config.js';
import { createImage } from '../actors/image/image-role.js';
import { PlacementLedger } from '../actors/scheduler/ledger.js';
import { startSchedulerRole, DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig, type SchedulerRole } from '../actors/scheduler/scheduler.js';
import { Image } from '../runtime/db/entities/index.js';
import { FakeDriver, type FakeDriverOptions } from '../hosts/fake/fake-driver.js';
import { Subjects } from '../protocols/subjects.js';
import { ActorSystem } from '../runtime/actors/system.js';
import { NovactClient } from './client.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import type { Orm } from '../runtime/db/orm.js';
import { openRoleDatabases, type DatabasePoolOptions, type DbPool, type RoleDatabases } from '../runtime/db/role-databases.js';
import { createLogger, type Logger, type LogLevel } from '../runtime/log/logger.js';
import { Bridge } from '../runtime/nats/bridge.js';
import { installProcessGuard } from '../runtime/process-guard.js';
import { connectNats, type NatsOptions } from '../runtime/nats/connection.js';
import { authFor, authFromEnv, urlWithAuth, type NatsAuthTable, type NatsUser } from '../runtime/nats/credentials.js';
import type { HealthView } from '../runtime/health.js';
import { startEmbeddedNats, type EmbeddedNats } from '../runtime/nats/embedded-nats.js';
import { identityFromSeed, newHostIdentity } from '../runtime/nats/host-identity.js';
import { serveHostRegistrar } from '../runtime/nats/host-registrar.js';
import { hostInboxPrefix, roleInboxPrefix } from '../protocols/host-identity.js';
import type { Role, RoleContext } from '../runtime/role.js';
import type { Metrics } from '../runtime/metrics/metrics.js';
import { installTracing, type TracingOptions } from '../runtime/trace/provider.js';
import type { Probes } from '../runtime/metrics/probes.js';
import { Operations, type ClusterMetricsOptions } from './operations.js';
import { livenessOverrides, type LivenessOptions } from './liveness-options.js';
import type { NatsServerHandle } from '../runtime/services/nats-server.js';
import { startPostgres, type PostgresHandle } from '../runtime/services/postgres-server.js';

export type RoleName = 'conductor' | 'scheduler' | 'compute' | 'image' | 'network' | 'api';

export interface ClusterOptions {
  /** NATS to join; when absent a `nats-server` child is started from the packaged nats.conf. */
  natsUrl?: string;
  /** Per-role NATS users for an external NATS (default: `NOVACT_NATS_<ROLE>_PASSWORD`, else none). */
  natsAuth?: NatsAuthTable;
  /**
   * The compute role's NATS identity on an external NATS: the nkey seed of a user allowed exactly
   * these hosts (`novact host credentials`, or `cluster.join`). With an embedded NATS the cluster
   * makes and registers its own.
   */
  hostSeed?: string;
  /** PostgreSQL to use; when absent a private cluster is started (temporary unless `dataDir`). */
  databaseUrl?: string;
  /** Keep the embedded PostgreSQL here across runs. */
  dataDir?: string;
  /** Each role's own connection pool: sizes, statement and idle-transaction timeouts (`role-databases.ts`). */
  database?: DatabasePoolOptions;
  roles?: RoleName[];
  /** Fake hosts to run (a number: `compute-1` … `compute-N`), or explicit hosts with their drivers. */
  hosts?: number | ComputeHost[];
  /** The name prefix of generated fake hosts (`<prefix>-1` …; default `compute`): a joining process picks its own. */
  hostPrefix?: string;
  /** Options for generated fake hosts. */
  fakeHost?: FakeDriverOptions;
  subjectRoot?: string;
  clock?: Clock;
  logger?: Logger;
  /** Install the process-level guard (unhandled rejections logged, not fatal) until stop. Default false. */
  processGuard?: boolean;
  logLevel?: LogLevel;
  requestTimeoutMs?: number;
  scheduler?: Partial<SchedulerConfig>;
  conductor?: Partial<ConductorConfig>;
  compute?: Partial<ComputeConfig>;
  /**
   * Host liveness for every role at once (heartbeat, down-after, lease, fencing:
   * cluster/liveness-options.ts); it wins over the same fields in `scheduler`, `conductor`, `compute`.
   */
  liveness?: LivenessOptions;
  /** Register a small default image when the catalog is empty (default true). */
  seedImages?: boolean;
  /** The network role's settings: `base_mac`, VLAN ranges, default quotas, its zone. */
  network?: Partial<NetConfig>;
  /** The REST API (role `api`): listen address, bootstrap admin password, limits. */
  api?: ApiOptions;
  /** Where the image role keeps image data (default: `<dataDir>/novact-images`, else a private temporary directory removed at stop). */
  imageDataDir?: string;
  /** The image role's sweep of uploads a crash left in `saving` (interval, staleness). */
  imageSweep?: Partial<SavingSweepConfig>;
  /** Glance's named stores (the first the default), import (web-download allow-list) and property protections. */
  image?: Pick<ImageDataOptions, 'stores' | 'import' | 'upload'>;
  /** Metrics (on by default), the operations port (`/metrics`, `/healthz`, `/readyz`) and the scrape token: cluster/operations.ts. */
  metrics?: ClusterMetricsOptions;
  /**
   * Traces (runtime/trace/provider.ts): off unless asked for here or by the standard `OTEL_*`
   * environment; an embedder's own global tracer provider is used as it is.
   */
  tracing?: TracingOptions;
}

export interface Cluster {
  /** Where clients connect (with the client user's credentials when NATS requires them). */
  readonly natsUrl: string;
  readonly databaseUrl: string;
  readonly subjects: Subjects;
  /** A client on its own connection, ready to use. */
  readonly client: NovactClient;
  readonly conductor?: ConductorRole;
  readonly compute?: ComputeRole;
  readonly scheduler?: SchedulerRole;
  readonly network?: NetworkRole;
  readonly ledger?: PlacementLedger;
  /** The admin pool (migrations, direct reads): no statement timeout. The roles use `databases`. */
  readonly orm?: Orm;
  /** Each role's own pool. */
  readonly databases?: RoleDatabases;
  /** The REST API's base URL, when this process runs the api role. */
  readonly apiUrl?: string;
  readonly api?: ApiRole & { adminPassword: string; passwordGenerated: boolean };
  readonly actors: ActorSystem;
  /**
   * What another novact process needs to run `roles` for this cluster, and nothing more: the
   * server without credentials in it, the users of those roles only, the database only for roles
   * that use one and, with `compute`, a fresh host identity registered for exactly `hosts`
   * (embedded NATS: registered at once, no restart).
   */
  join(roles: RoleName[], hosts?: readonly string[]): Promise<JoinSpec>;
  /** Every role user (the owner's table: what `novact up` keeps in its 0600 state file). */
  readonly roleAuth: NatsAuthTable;
  /** The embedded servers, when this cluster started them (chaos tests kill and restart these). */
  readonly embedded: { nats?: NatsServerHandle; postgres?: PostgresHandle };
  /** Each role's health in this process (ok unless a role-critical actor could not be kept running). */
  health(): { ok: boolean; roles: Record<string, HealthView> };
  /** Resolves once this process's scheduler sees `count` hosts up (ready to place builds). */
  waitForHosts(count: number, timeoutMs?: number): Promise<void>;
  /** This process's metrics (absent with `metrics.enabled: false`). */
  readonly metrics?: Metrics;
  /** Liveness and readiness (`/healthz`, `/readyz`). */
  readonly probes: Probes;
  /** The operations port's base URL, when `metrics.port` was given. */
  readonly opsUrl?: string;
  /** Not ready from now on (`/readyz` 503), so load balancers stop sending; `stop` drains first. */
  drain(): void;
  stop(): Promise<void>;
}

/** Options for `startCluster` in another process: only what its roles need. */
export interface JoinSpec {
  natsUrl: string;
  natsAuth: NatsAuthTable;
  subjectRoot: string;
  databaseUrl?: string;
  hostSeed?: string;
}

export { NATS_CONF } from '../runtime/nats/embedded-nats.js';
const DB_ROLES: readonly RoleName[] = ['conductor', 'scheduler', 'image', 'network', 'api'];
export const DEFAULT_IMAGE = { name: 'cirros-0.6.2', diskFormat: 'qcow2', containerFormat: 'bare', sizeBytes: 21_430_272, minDiskGb: 0 } as const;

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger(options.logLevel ?? 'warn');
  const roles = new Set<RoleName>(options.roles ?? ['conductor', 'scheduler', 'compute', 'image', 'network', 'api']);
  const subjects = new Subjects(options.subjectRoot);
  const embedded: Cluster['embedded'] = {};
  let embeddedNats: EmbeddedNats | undefined;
  const connections: NatsConnection[] = [];
  const started: Role[] = [];
  let orm: Orm | undefined;
  let dbs: RoleDatabases | undefined;
  const actors = new ActorSystem(clock, log);
  const guard = options.processGuard ? installProcessGuard(log) : undefined;
  const ops = new Operations(options.metrics);
  ops.watchActors(actors);
  const tracing = installTracing(options.tracing);

  const cleanup = async () => {
    ops.probes.drain();
    guard?.uninstall();
    for (const r of started.reverse()) await r.stop().catch((err) => log.error('role stop failed', { role: r.name, err: String(err) }));
    actors.stop();
    await Promise.allSettled(connections.map((c) => c.drain()));
    await dbs?.close();
    await embeddedNats?.stop();
    await embedded.postgres?.stop();
    await ops.close();
    await tracing?.shutdown();
  };

  try {
    await ops.listen();
    let auth: NatsAuthTable = options.natsAuth ?? authFromEnv(process.env);
    const computeHosts = roles.has('compute') ? (typeof options.hosts === 'object' ? options.hosts : fakeHosts(options.hosts ?? 5, options.fakeHost ?? {}, options.hostPrefix)) : [];
    // The compute role's own identity: given (external NATS), or made here and written into the
    // embedded server's config for exactly this process's hosts.
    let hostIdentity = options.hostSeed !== undefined ? identityFromSeed(options.hostSeed) : undefined;
    if (!options.natsUrl) {
      if (roles.has('compute')) hostIdentity ??= newHostIdentity();
      const hostUsers = hostIdentity && computeHosts.length > 0 ? [{ publicKey: hostIdentity.publicKey, hosts: computeHosts.map((h) => h.name) }] : [];
      embeddedNats = await startEmbeddedNats({ subjectRoot: subjects.root, hostUsers });
      embedded.nats = embeddedNats.server;
      auth = embeddedNats.auth;
    }
    const natsUrl = options.natsUrl ?? embedded.nats!.url;
    const connect = (user: NatsUser | 'compute', name: string) => {
      const o: NatsOptions = { servers: natsUrl, name, inboxPrefix: roleInboxPrefix(user) };
      if (user === 'compute') {
        if (hostIdentity) Object.assign(o, { nkeySeed: hostIdentity.seed, inboxPrefix: hostInboxPrefix(hostIdentity.publicKey) });
      } else if (auth[user]) Object.assign(o, { user: auth[user]!.user, pass: auth[user]!.pass });
      return connectNats(o);
    };
    if (embeddedNats) {
      // Operators register more hosts (`novact up --join`, `novact host register`) through this process.
      const nc = await connect('registrar', 'novact-registrar');
      connections.push(nc);
      const en = embeddedNats;
      serveHostRegistrar(new Bridge(nc, clock, log.child({ role: 'registrar' }), requestTimeoutMsOf(options)), subjects, (r) => en.register(r.publicKey, r.hosts));
    }
    const needsDb = [...roles].some((r) => DB_ROLES.includes(r));
    if (needsDb && !options.databaseUrl) {
      embedded.postgres = await startPostgres(options.dataDir ? { dataDir: options.dataDir } : {});
    }
    const databaseUrl = options.databaseUrl ?? embedded.postgres?.socketUrl ?? '';
    if (needsDb) {
      const pools: DbPool[] = [...roles].flatMap((r): DbPool[] => (r === 'conductor' ? ['conductor', 'conductorReads'] : r === 'compute' ? [] : [r]));
      dbs = await openRoleDatabases(databaseUrl, pools, options.database, log.child({ role: 'database' }));
      orm = dbs.admin;
      for (const p of pools) ops.watchPool(p, dbs.get(p));
    }

    const requestTimeoutMs = requestTimeoutMsOf(options);
    const context = async (role: RoleName): Promise<RoleContext> => {
      const nc = await connect(role, `novact-${role}`);
      connections.push(nc);
      const bridge = new Bridge(nc, clock, log.child({ role }), requestTimeoutMs, subjects, ops.bridgeOptions(role));
      ops.watchBridge(role, bridge);
      return { bridge, subjects, actors, clock, log: log.child({ role }), requestTimeoutMs, ...(ops.metrics ? { metrics: ops.metrics } : {}), ops: ops.roleOps };
    };

    if (roles.has('image')) {
      // Image data in its own directory: the given one, else under the cluster's data dir, else a private temp dir.
      const imageDir = options.imageDataDir ?? (options.dataDir ? joinPath(options.dataDir, 'novact-images') : undefined);
      const store = imageDir === undefined ? {} : { store: await FsImageStore.open(imageDir) };
      started.push(await startImageRole(await context('image'), dbs!.get('image'), { ...store, ...options.image, ...(options.imageSweep ? { sweep: options.imageSweep } : {}) }));
      if (options.seedImages ?? true) await seedImages(dbs!.get('image'));
    }
    let network: NetworkRole | undefined;
    if (roles.has('network')) {
      network = await startNetworkRole(await context('network'), dbs!.get('network'), options.network);
      started.push(network);
    }
    let ledger: PlacementLedger | undefined;
    let scheduler: SchedulerRole | undefined;
    const live = options.liveness ? livenessOverrides(options.liveness) : undefined;
    const schedulerConfig = { ...DEFAULT_SCHEDULER_CONFIG, ...options.scheduler, ...live?.scheduler };
    if (roles.has('scheduler')) {
      // The members quota the API checks is enforced again at the ledger's commit (same default).
      const groupMembersDefault = options.api?.quotaDefaults?.server_group_members;
      ledger = new PlacementLedger(dbs!.get('scheduler'), groupMembersDefault === undefined ? {} : { groupMembersDefault });
      scheduler = await startSchedulerRole(await context('scheduler'), ledger, schedulerConfig);
      started.push(scheduler);
    }
    let conductor: ConductorRole | undefined;
    if (roles.has('conductor')) {
      const conductorConfig = { ...DEFAULT_CONDUCTOR_CONFIG, requestTimeoutMs, ...options.conductor, ...live?.conductor };
      conductor = await startConductorRole(await context('conductor'), dbs!.get('conductor'), conductorConfig, dbs!.get('conductorReads'));
      started.push(conductor);
    }
    let compute: ComputeRole | undefined;
    if (roles.has('compute')) {
      compute = await startComputeRole(await context('compute'), computeHosts, { ...DEFAULT_COMPUTE_CONFIG, ...options.compute, ...live?.compute });
      started.push(compute);
    }
    let api: Cluster['api'];
    if (roles.has('api')) {
      const { config, passwordGenerated } = resolveApiConfig(options.api);
      const role = await startApiRole(await context('api'), dbs!.get('api'), config);
      started.push(role);
      api = Object.assign(role, { adminPassword: config.adminPassword, passwordGenerated });
    }
    // A process handed no client credential (a joined compute process) has no client: it may not ask.
    const noCredentials = Object.keys(auth).length === 0 && hostIdentity === undefined; // an open NATS
    const clientConn = auth.client || noCredentials ? await connect('client', 'novact-client') : undefined;
    if (clientConn) connections.push(clientConn);
    const client = clientConn && new NovactClient(clientConn, { subjectRoot: subjects.root, timeoutMs: requestTimeoutMs, clock });

    const waitForHosts = async (count: number, timeoutMs = 30_000): Promise<void> => {
      if (!scheduler) throw new Error('this process runs no scheduler');
      const s = scheduler;
      const up = () => s.states.all().filter((h) => clock.now() - h.lastSeenAt <= schedulerConfig.serviceDownTimeMs && h.inventory.MEMORY_MB.total > 0).length >= count;
      if (!up()) {
        await new Promise<void>((resolve, reject) => {
          const timer = clock.setTimeout(() => {
            s.events.off('report', onReport);
            reject(new Error(`only ${s.states.size} of ${count} hosts reported within ${timeoutMs} ms`));
          }, timeoutMs);
          const onReport = () => {
            if (!up()) return;
            s.events.off('report', onReport);
            timer.cancel();
            resolve();
          };
          s.events.on('report', onReport);
        });
      }
      // Ready to place builds means their claims can commit: the hosts' inventories are in the ledger.
      await s.inventoriesWritten();
    };
    const join = async (joinRoles: RoleName[], hosts: readonly string[] = []): Promise<JoinSpec> => {
      const spec: JoinSpec = { natsUrl, natsAuth: authFor(auth, joinRoles), subjectRoot: subjects.root };
      if (joinRoles.some((r) => DB_ROLES.includes(r))) spec.databaseUrl = databaseUrl;
      if (joinRoles.includes('compute') && embeddedNats) {
        const id = newHostIdentity();
        if (hosts.length > 0) await embeddedNats.register(id.publicKey, hosts);
        spec.hostSeed = id.seed;
      }
      return spec;
    };
    const roleHealth = () => {
      const roles: Record<string, HealthView> = {};
      for (const r of started) if (r.health) roles[r.name] = r.health();
      return roles;
    };
    ops.started(roleHealth);
    const cluster: Cluster = {
      natsUrl: urlWithAuth(natsUrl, auth.client),
      databaseUrl,
      subjects,
      get client(): NovactClient {
        if (!client) throw new Error('this process holds no client credential');
        return client;
      },
      actors,
      join,
      roleAuth: authFor(auth, ['conductor', 'scheduler', 'image', 'network', 'api']),
      embedded,
      waitForHosts,
      health: () => {
        const roles = roleHealth();
        return { ok: Object.values(roles).every((h) => h.status === 'ok'), roles };
      },
      probes: ops.probes,
      drain: () => ops.probes.drain(),
      stop: cleanup,
    };
    return Object.assign(cluster, { conductor, compute, scheduler, network, ledger, orm, databases: dbs, api, apiUrl: api?.url, metrics: ops.metrics, opsUrl: ops.url });
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
}

function requestTimeoutMsOf(options: ClusterOptions): number {
  return options.requestTimeoutMs ?? 10_000;
}

/** `compute-1` … `compute-N` (or `<prefix>-1` …): the names `hosts: N` gives fake hosts. */
export function fakeHostNames(n: number, prefix = 'compute'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
}

export function fakeHosts(n: number, opts: FakeDriverOptions, prefix?: string): ComputeHost[] {
  // One fabric for the process's fake hosts, so guests can move between them (resize, migrations).
  const fabric = opts.fabric ?? new FakeFabric();
  return fakeHostNames(n, prefix).map((name) => ({ name, driver: new FakeDriver({ ...opts, fabric, hostname: name }) }));
}

async function seedImages(orm: Orm): Promise<void> {
  const count = await orm.em.fork().count(Image, {});
  if (count === 0) await createImage(orm, { ...DEFAULT_IMAGE, visibility: 'public' }, null, new Date());
}
