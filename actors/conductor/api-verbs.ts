/**
 * The conductor's verbs for the REST API, wired into the conductor role's micro service:
 *   <root>.conductor.query | usage | services | service-update
 *   <root>.flavor.create | delete | set-specs | unset-spec
 */
import type { Service } from 'nats';
import * as C from '../../protocols/catalog/conductor.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../../runtime/clock.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import { FlavorAdmin } from './flavor-admin.js';
import type { FlavorCatalog } from './flavors.js';
import { projectUsage } from './project-usage.js';
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
}

export function registerConductorApiVerbs(d: ConductorApiDeps): void {
  const { bridge, svc, subjects } = d;
  const opts = { queue: 'conductor' };
  const flavors = new FlavorAdmin(d.orm, d.flavors, d.clock);
  const services = new ServiceAdmin(d.orm, d.clock, bridge, subjects, d.serviceDownTimeMs);
  const reads = d.readOrm ?? d.orm;
  // Bodies fit the catalog's schemas before these run; the handlers add the semantic checks.
  const body = (b: unknown) => b as Record<string, unknown>;
  bridge.endpoint(svc, C.Query, (b) => queryServers(reads, body(b)), opts);
  bridge.endpoint(svc, C.Usage, (b) => projectUsage(reads, body(b)), opts);
  bridge.endpoint(svc, C.Services, () => services.list() as never, opts);
  bridge.endpoint(svc, C.ServiceUpdate, (b) => services.update(body(b)) as never, opts);
  bridge.endpoint(svc, C.FlavorCreate, (b) => flavors.create(body(b)), { ...opts, name: 'flavor-create' });
  bridge.endpoint(svc, C.FlavorDelete, (b) => flavors.remove(body(b)), { ...opts, name: 'flavor-delete' });
  bridge.endpoint(svc, C.FlavorSetSpecs, (b) => flavors.setSpecs(body(b)), { ...opts, name: 'flavor-set-specs' });
  bridge.endpoint(svc, C.FlavorUnsetSpec, (b) => flavors.unsetSpec(body(b)) as never, { ...opts, name: 'flavor-unset-spec' });
}
