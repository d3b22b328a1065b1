/**
 * The conductor's verbs for the REST API, wired into the conductor role's micro service:
 *   <root>.conductor.query | usage | services | service-update | service-delete | zone-summary | host-servers
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
import { hostServers } from './host-servers.js';
import { queryServers } from './server-query.js';
import { ServiceAdmin } from './service-admin.js';

const READS = new Set(['query', 'usage', 'services', 'zone-summary', 'host-servers']);

export interface ConductorApiDeps {
  bridge: Bridge;
  svc: Service;
  subjects: Subjects;
  orm: Orm;
  clock: Clock;
  flavors: FlavorCatalog;
  serviceDownTimeMs: number;
  requestTimeoutMs: number;
  /** Drops buffered reports of a host whose service is deleted. */
  forgetReports: (host: string) => void;
}

export function registerConductorApiVerbs(d: ConductorApiDeps): void {
  const { bridge, svc, subjects } = d;
  const opts = { queue: 'conductor', isMutating: (verb: string) => !READS.has(verb) };
  const flavors = new FlavorAdmin(d.orm, d.flavors, d.clock);
  const forgetHost = async (host: string, key: string) => {
    await bridge.request(subjects.scheduler('forget-host'), 'forget-host', { host }, { timeoutMs: d.requestTimeoutMs, idempotencyKey: `${key}.forget-host` });
  };
  const services = new ServiceAdmin(d.orm, d.clock, bridge, subjects, d.serviceDownTimeMs, forgetHost, d.forgetReports);
  bridge.endpoint(svc, 'query', subjects.conductor('query'), ({ envelope }) => queryServers(d.orm, envelope.body), opts);
  bridge.endpoint(svc, 'usage', subjects.conductor('usage'), ({ envelope }) => projectUsage(d.orm, envelope.body), opts);
  bridge.endpoint(svc, 'services', subjects.conductor('services'), ({ envelope }) => services.list(envelope.body), opts);
  bridge.endpoint(svc, 'zone-summary', subjects.conductor('zone-summary'), ({ envelope }) => services.zoneSummary(envelope.body), opts);
  bridge.endpoint(svc, 'host-servers', subjects.conductor('host-servers'), ({ envelope }) => hostServers(d.orm, envelope.body), opts);
  bridge.endpoint(svc, 'service-delete', subjects.conductor('service-delete'), ({ envelope }) => services.remove(envelope.body, envelope.idempotencyKey!), opts);
  bridge.endpoint(svc, 'service-update', subjects.conductor('service-update'), ({ envelope }) => services.update(envelope.body), opts);
  bridge.endpoint(svc, 'flavor-create', subjects.flavor('create'), ({ envelope }) => flavors.create(envelope.body), opts);
  bridge.endpoint(svc, 'flavor-delete', subjects.flavor('delete'), ({ envelope }) => flavors.remove(envelope.body), opts);
  bridge.endpoint(svc, 'flavor-set-specs', subjects.flavor('set-specs'), ({ envelope }) => flavors.setSpecs(envelope.body), opts);
  bridge.endpoint(svc, 'flavor-unset-spec', subjects.flavor('unset-spec'), ({ envelope }) => flavors.unsetSpec(envelope.body), opts);
}
