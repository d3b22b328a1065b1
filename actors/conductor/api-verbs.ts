/**
 * The conductor's verbs for the REST API, wired into the conductor role's micro service:
 *   <root>.conductor.query | usage | services | service-update
 *   <root>.flavor.create | delete | set-specs | unset-spec
 */
import type { Service } from 'nats';
import type { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../../runtime/clock.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import { FlavorAdmin } from './flavor-admin.js';
import type { FlavorCatalog } from './flavors.js';
import { projectUsage } from './project-usage.js';
import { queryServers } from './server-query.js';
import { ServiceAdmin } from './service-admin.js';

const READS = new Set(['query', 'usage', 'services']);

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
  const opts = { queue: 'conductor', isMutating: (verb: string) => !READS.has(verb) };
  const flavors = new FlavorAdmin(d.orm, d.flavors, d.clock);
  const services = new ServiceAdmin(d.orm, d.clock, bridge, subjects, d.serviceDownTimeMs);
  const reads = d.readOrm ?? d.orm;
  bridge.endpoint(svc, 'query', subjects.conductor('query'), ({ envelope }) => queryServers(reads, envelope.body), opts);
  bridge.endpoint(svc, 'usage', subjects.conductor('usage'), ({ envelope }) => projectUsage(reads, envelope.body), opts);
  bridge.endpoint(svc, 'services', subjects.conductor('services'), () => services.list(), opts);
  bridge.endpoint(svc, 'service-update', subjects.conductor('service-update'), ({ envelope }) => services.update(envelope.body), opts);
  bridge.endpoint(svc, 'flavor-create', subjects.flavor('create'), ({ envelope }) => flavors.create(envelope.body), opts);
  bridge.endpoint(svc, 'flavor-delete', subjects.flavor('delete'), ({ envelope }) => flavors.remove(envelope.body), opts);
  bridge.endpoint(svc, 'flavor-set-specs', subjects.flavor('set-specs'), ({ envelope }) => flavors.setSpecs(envelope.body), opts);
  bridge.endpoint(svc, 'flavor-unset-spec', subjects.flavor('unset-spec'), ({ envelope }) => flavors.unsetSpec(envelope.body), opts);
}
