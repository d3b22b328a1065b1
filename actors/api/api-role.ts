/**
 * The api role: an OpenStack-compatible HTTP front (Identity v3, Compute v2.1, Image v2,
 * Networking v2.0) over the other roles. Stateless: it reaches instances, flavors and images only over NATS; what it keeps in
 * PostgreSQL is what the issue makes the API's own (Keystone identity and tokens, key pairs,
 * quotas), so any number of replicas can serve behind a load balancer.
 */
import { readFile } from 'node:fs/promises';
import { PropertyProtections } from '../../protocols/image-property-protections.js';
import type { FastifyInstance } from 'fastify';
import type { Orm } from '../../runtime/db/orm.js';
import type { Role, RoleContext } from '../../runtime/role.js';
import { DEFAULT_HTTP_TIMEOUTS, buildApp, type HttpTimeouts } from './app.js';
import { Backend } from './backend.js';
import { aggregateRoutes } from './compute/aggregates.js';
import { availabilityZoneRoutes } from './compute/availability-zones.js';
import { flavorRoutes } from './compute/flavors.js';
import { flavorAccessRoutes } from './compute/flavor-access.js';
import { hypervisorRoutes } from './compute/hypervisors.js';
import { instanceActionRoutes } from './compute/instance-actions.js';
import { migrationRoutes } from './compute/migrations.js';
import { serverMigrationActionRoutes } from './compute/server-migration-actions.js';
import { KeypairStore } from './compute/keypair-store.js';
import { keypairRoutes } from './compute/keypairs.js';
import { QUOTA_DEFAULTS, QuotaStore, type QuotaLimits } from './compute/quota-store.js';
import { quotaRoutes } from './compute/quotas.js';
import { quotaClassRoutes } from './compute/quota-classes.js';
import { externalEventRoutes } from './compute/external-events.js';
import { tenantUsageRoutes } from './compute/tenant-usage.js';
import { serverActionRoutes } from './compute/server-actions.js';
import { serverDiagnosticsRoutes } from './compute/server-diagnostics.js';
import { serverMetadataRoutes } from './compute/server-metadata.js';
import { serverTagRoutes } from './compute/server-tags.js';
import { serverIpRoutes } from './compute/server-ips.js';
import { computeImageRoutes } from './compute/compute-images.js';
import { serverGroupRoutes } from './compute/server-groups.js';
import { serverRoutes } from './compute/servers.js';
import { serviceRoutes } from './compute/services.js';
import { versionRoutes } from './compute/versions.js';
import { DEFAULT_IMAGE_QUOTAS, type ApiDeps, type ImageQuotas } from './deps.js';
import { identityAdminRoutes } from './identity/admin-routes.js';
import { authRoutes, type IdentityDeps } from './identity/auth-routes.js';
import { bootstrapIdentity } from './identity/bootstrap.js';
import { IdentityStore } from './identity/identity-store.js';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginLimits } from './identity/login-limiter.js';
import { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from './identity/password-policy.js';
import { DEFAULT_SCRYPT, scryptHasher, type ScryptParams } from './identity/passwords.js';
import { DEFAULT_TOKEN_CONFIG, TokenService, type TokenConfig } from './identity/tokens.js';
import { userRoutes } from './identity/user-routes.js';
import { imageDataRoutes } from './image/image-data.js';
import { imageRoutes } from './image/images.js';
import { imageVersionRoutes } from './image/versions.js';
import { imageSchemaRoutes } from './image/image-schemas.js';
import { imageMemberRoutes } from './image/image-members.js';
import { metadefRoutes } from './image/metadefs.js';
import { imageImportRoutes } from './image/image-import.js';
import { Links } from './links.js';
import { networkRoutes } from './network/routes.js';
import { serverNetworkingRoutes } from './compute/server-networking.js';
import { securityGroupProxyRoutes } from './compute/security-groups.js';
import { opsRoutes } from './ops-routes.js';
import { DASHBOARD_DIST, loadBundle } from './dashboard/bundle.js';
import { DEFAULT_FEED_OPTIONS, EventFeed, type FeedOptions } from './dashboard/event-feed.js';
import { dashboardRoutes } from './dashboard/routes.js';
import { Probes } from '../../runtime/metrics/probes.js';

export interface ApiConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The base URL clients reach this server at (links, catalog); default `http://<host>:<port>`. */
  publicUrl?: string;
  adminUser: string;
  adminProject: string;
  adminPassword: string;
  /** Largest JSON body (Nova's `max_request_body_size`, 112 KiB). Image data is streamed, not limited by this. */
  bodyLimitBytes: number;
  imageSizeCapBytes: number;
  /** Glance's per-project image quotas. */
  imageQuotas: ImageQuotas;
  /** The property protections rules file, if any. */
  imagePropertyProtections?: string;
  token: TokenConfig;
  quotaDefaults: QuotaLimits;
  http: HttpTimeouts;
  loginLimits: LoginLimits;
  passwordPolicy: PasswordPolicy;
  passwordHash: ScryptParams;
  /** The dashboard (`/dashboard`): where its built front end is, and its live feed's limits. */
  dashboard: { dir: string; feed: FeedOptions };
}

export const DEFAULT_API_CONFIG: Omit<ApiConfig, 'adminPassword'> = {
  host: '127.0.0.1',
  port: 0,
  adminUser: 'admin',
  adminProject: 'admin',
  bodyLimitBytes: 114_688,
  imageSizeCapBytes: 1024 ** 4,
  imageQuotas: { ...DEFAULT_IMAGE_QUOTAS },
  token: DEFAULT_TOKEN_CONFIG,
  quotaDefaults: { ...QUOTA_DEFAULTS },
  http: DEFAULT_HTTP_TIMEOUTS,
  loginLimits: DEFAULT_LOGIN_LIMITS,
  passwordPolicy: DEFAULT_PASSWORD_POLICY,
  passwordHash: DEFAULT_SCRYPT,
  dashboard: { dir: DASHBOARD_DIST, feed: DEFAULT_FEED_OPTIONS },
};

export interface ApiRole extends Role {
  /** The base URL (identity at `<url>/v3`, compute at `<url>/v2.1`, image at `<url>/image`, networking at `<url>/networking`). */
  readonly url: string;
  readonly app: FastifyInstance;
  /** The dashboard's live feed (its open streams). */
  readonly feed: EventFeed;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startApiRole(ctx: RoleContext, orm: Orm, cfg: ApiConfig): Promise<ApiRole> {
  const { bridge, subjects, clock, log } = ctx;
  const links = new Links(cfg.publicUrl ?? '');
  const identity = new IdentityStore(orm, clock, scryptHasher(cfg.passwordHash));
  const tokens = new TokenService(orm, clock, log, cfg.token);
  const boot = await bootstrapIdentity(identity, cfg);
  // A configured admin password that differs from the stored one is a password change.
  if (boot.passwordChanged) await tokens.revokeUser(boot.userId);
  const deps: ApiDeps = {
    backend: new Backend(bridge, subjects, ctx.requestTimeoutMs),
    links,
    identity,
    tokens,
    quotas: new QuotaStore(orm, cfg.quotaDefaults),
    keypairs: new KeypairStore(orm, clock),
    clock,
    log,
    imageSizeCapBytes: cfg.imageSizeCapBytes,
    imageQuotas: cfg.imageQuotas,
    ...(cfg.imagePropertyProtections !== undefined ? { propertyProtections: PropertyProtections.parse(await readFile(cfg.imagePropertyProtections, 'utf8')) } : {}),
  };
  const identityDeps: IdentityDeps = { identity, tokens, links, limiter: new LoginLimiter(cfg.loginLimits), passwordPolicy: cfg.passwordPolicy, clock };
  // Probes of its own when started without a cluster's (tests that start the role alone).
  const probes = ctx.ops?.probes ?? new Probes();
  const feed = new EventFeed(bridge, log, cfg.dashboard.feed);
  const bundle = loadBundle(cfg.dashboard.dir);
  if (!bundle) log.warn('dashboard not built: /dashboard answers 503', { dir: cfg.dashboard.dir });
  const ops = { probes, tokens, ...(ctx.metrics ? { metrics: ctx.metrics } : {}), ...(ctx.ops?.scrapeToken !== undefined ? { scrapeToken: ctx.ops.scrapeToken } : {}) };
  const app = await buildApp({ bodyLimitBytes: cfg.bodyLimitBytes, tokens, links, log, timeouts: cfg.http, ...(ctx.metrics ? { metrics: ctx.metrics } : {}) }, [
    ...opsRoutes(ops),
    ...authRoutes(identityDeps),
    ...identityAdminRoutes(identityDeps),
    ...userRoutes(identityDeps),
    ...versionRoutes(links),
    ...serverRoutes(deps),
    ...serverActionRoutes(deps),
    ...serverNetworkingRoutes(deps),
    ...securityGroupProxyRoutes(deps),
    ...serverDiagnosticsRoutes(deps),
    ...serverMetadataRoutes(deps),
    ...serverTagRoutes(deps),
    ...serverIpRoutes(deps),
    ...computeImageRoutes(deps),
    ...instanceActionRoutes(deps),
    ...migrationRoutes(deps),
    ...serverMigrationActionRoutes(deps),
    ...flavorRoutes(deps),
    ...flavorAccessRoutes(deps),
    ...keypairRoutes(deps),
    ...quotaRoutes(deps),
    ...quotaClassRoutes(deps),
    ...externalEventRoutes(deps),
    ...tenantUsageRoutes(deps),
    ...hypervisorRoutes(deps),
    ...serviceRoutes(deps),
    ...availabilityZoneRoutes(deps),
    ...aggregateRoutes(deps),
    ...serverGroupRoutes(deps),
    ...imageVersionRoutes(links),
    ...imageRoutes(deps),
    ...imageSchemaRoutes(),
    ...imageMemberRoutes(deps),
    ...metadefRoutes(deps),
    ...imageImportRoutes(deps),
    ...imageDataRoutes(deps),
    ...networkRoutes(deps),
    ...dashboardRoutes(bundle, { feed, tokens }),
  ]);
  await app.listen({ host: cfg.host, port: cfg.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : cfg.port;
  links.base = (cfg.publicUrl ?? `http://${urlHost(cfg.host)}:${port}`).replace(/\/+$/, '');
  tokens.start();
  if (!ctx.ops) probes.started();
  // Every role is a NATS micro service (`nats micro ls`, `novact status`); the API serves no NATS
  // subject, so it has no endpoints, and its metadata says where it listens.
  await bridge.addService('novact-api', 'the REST API: Identity v3, Compute v2.1 and Image v2 over the other roles', undefined, { url: links.base });
  log.info('api listening', { url: links.base });

  return {
    name: 'api',
    url: links.base,
    app,
    feed,
    async stop() {
      tokens.stop();
      // Open event streams would hold the server's close.
      feed.close();
      await app.close();
    },
  };
}
