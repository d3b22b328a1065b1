/**
 * The conductor's verbs for the REST API, wired into the conductor role's micro service:
 *   <root>.conductor.query | usage | services | service-update | service-delete | zone-summary | host-servers
 *   <root>.flavor.create | delete | set-specs | unset-spec | update | access
 */
import * as C from '../../protocols/catalog/conductor.js';
import { ForgetHost } from '../../protocols/catalog/scheduler.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../../runtime/clock.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Bridge, Service } from '../../runtime/nats/bridge.js';
import { FlavorAdmin } from './flavor-admin.js';
import type { FlavorCatalog } from './flavors.js';
import { projectUsage } from './project-usage.js';
import { tenantUsage } from './tenant-usage.js';
import { hostServers } from './host-servers.js';
import { queryServers } from './server-query.js';
import { ServiceAdmin } from './service-admin.js';

export interface ConductorApiDeps {
  bridge: Bridge;
  svc: Service;
  subjects: Subjects;
  orm: Orm;
  /** For the listings a tenant drives (`query`, `usage`): a pool of their own, so they cannot starve `orm`. */
  readOrm?: Orm;
  clock: Clock;
  flavors: FlavorCatalog;
  serviceDownTimeMs: number;
  requestTimeoutMs: number;
  /** Drops buffered reports of a host whose service is deleted. */
  forgetReports: (host: string) => void;
}

export function registerConductorApiVerbs(d: ConductorApiDeps): void {
  const { bridge, svc, subjects } = d;
  const opts = { queue: 'conductor' };
  const flavors = new FlavorAdmin(d.orm, d.flavors, d.clock);
  const forgetHost = async (host: string, key: string) => {
    await bridge.call(ForgetHost, [], { host }, { timeoutMs: d.requestTimeoutMs, idempotencyKey: `${key}.forget-host` });
  };
  const services = new ServiceAdmin(d.orm, d.clock, bridge, subjects, d.serviceDownTimeMs, forgetHost, d.forgetReports);
  const reads = d.readOrm ?? d.orm;
  // Bodies fit the catalog's schemas before these run; the handlers add the semantic checks.
  const body = (b: unknown) => b as Record<string, unknown>;
  bridge.endpoint(svc, C.Query, (b) => queryServers(reads, body(b)), opts);
  bridge.endpoint(svc, C.Usage, (b) => projectUsage(reads, body(b)), opts);
  bridge.endpoint(svc, C.TenantUsage, (b) => tenantUsage(reads, body(b)), opts);
  bridge.endpoint(svc, C.Services, (b) => services.list(body(b)) as never, opts);
  bridge.endpoint(svc, C.ZoneSummary, (b) => services.zoneSummary(body(b)), opts);
  bridge.endpoint(svc, C.HostServers, (b) => hostServers(reads, body(b)) as never, opts);
  bridge.endpoint(svc, C.ServiceDelete, (b, req) => services.remove(body(b), req.envelope.idempotencyKey!), opts);
  bridge.endpoint(svc, C.ServiceUpdate, (b) => services.update(body(b)) as never, opts);
  bridge.endpoint(svc, C.FlavorCreate, (b) => flavors.create(body(b)), { ...opts, name: 'flavor-create' });
  bridge.endpoint(svc, C.FlavorDelete, (b) => flavors.remove(body(b)), { ...opts, name: 'flavor-delete' });
  bridge.endpoint(svc, C.FlavorSetSpecs, (b) => flavors.setSpecs(body(b)), { ...opts, name: 'flavor-set-specs' });
  bridge.endpoint(svc, C.FlavorUnsetSpec, (b) => flavors.unsetSpec(body(b)) as never, { ...opts, name: 'flavor-unset-spec' });
  bridge.endpoint(svc, C.FlavorUpdate, (b) => flavors.update(body(b)), { ...opts, name: 'flavor-update' });
  bridge.endpoint(svc, C.FlavorAccess, (b) => flavors.access(body(b)), { ...opts, name: 'flavor-access' });
}
