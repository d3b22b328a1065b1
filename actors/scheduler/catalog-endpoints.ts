/**
 * NATS verbs for aggregates, availability zones and server groups, served by the scheduler role.
 * Writes are serialised (one at a time per replica) so the zone rule cannot be raced past, and
 * each write publishes an event that makes the other replicas reload their catalog.
 */
import type { Service } from '../../runtime/nats/bridge.js';
import { BadRequestError } from '../../protocols/errors.js';
import { fieldsOf, int, isUuid, oneOf, optInt, optStr, str } from '../../protocols/validate.js';
import type { ServerGroupPolicy } from '../../runtime/db/entities/index.js';
import * as C from '../../protocols/catalog/placement-catalog.js';
import type { RequestDef } from '../../protocols/catalog/define.js';
import type { RoleContext } from '../../runtime/role.js';
import type { SchedulingCatalog } from './catalog.js';

const POLICIES: readonly ServerGroupPolicy[] = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'];
const NAME = { max: 255, pattern: /^[^\x00-\x1f\x7f]+$/ };

function metadataChanges(value: unknown): Record<string, string | null> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequestError("'metadata' must be an object");
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.length < 1 || k.length > 255 || (v !== null && (typeof v !== 'string' || v.length > 255))) {
      throw new BadRequestError('aggregate metadata keys and values are strings of at most 255 characters (null removes a key)');
    }
    out[k] = v as string | null;
  }
  return out;
}

export function serveCatalog(ctx: RoleContext, svc: Service, catalog: SchedulingCatalog, replica: string, onPlacementChange: (hosts: string[]) => void): void {
  const { bridge, subjects, clock } = ctx;
  const opts = { queue: 'scheduler' };
  let chain: Promise<unknown> = Promise.resolve();
  /** Runs writes one after another, then tells every replica (including this one) what changed. */
  const write = <T>(kind: 'aggregate' | 'servergroup', id: () => string, hosts: () => string[], fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run.then((result) => {
      const affected = hosts();
      onPlacementChange(affected);
      bridge.publish(subjects.event(kind, id(), 'update'), { replica, hosts: affected });
      return result;
    });
  };
  const aggId = (o: Record<string, unknown>) => int(o, 'id', { min: 1 });
  const now = () => new Date(clock.now());

  // The catalog's schema checks each body first; the checks below add the semantic rules.
  const ep = (name: string, def: RequestDef, handler: (body: Record<string, unknown>) => unknown) =>
    bridge.endpoint(svc, def, (body) => handler(body as Record<string, unknown>) as never, { ...opts, name });

  ep('aggregate-list', C.AggregateList, () => ({ aggregates: catalog.listAggregates() }));
  ep('aggregate-get', C.AggregateGet, (b) => ({ aggregate: catalog.getAggregate(aggId(fieldsOf(b, ['id'], 'aggregate'))) }));
  ep('aggregate-zones', C.AggregateZones, () => ({ zones: catalog.zones() }));
  ep('aggregate-create', C.AggregateCreate, (b) => {
    const o = fieldsOf(b, ['name', 'availabilityZone'], 'aggregate');
    const name = str(o, 'name', NAME);
    const zone = optStr(o, 'availabilityZone', NAME) ?? null;
    let id = '';
    return write('aggregate', () => id, () => [], async () => {
      const a = await catalog.createAggregate(name, zone, now());
      id = String(a.id);
      return { aggregate: a };
    });
  });
  ep('aggregate-delete', C.AggregateDelete, (b) => {
    const id = aggId(fieldsOf(b, ['id'], 'aggregate'));
    return write('aggregate', () => String(id), () => [], async () => {
      await catalog.deleteAggregate(id);
      return {};
    });
  });
  for (const verb of ['add-host', 'remove-host'] as const) {
    ep(`aggregate-${verb}`, verb === 'add-host' ? C.AggregateAddHost : C.AggregateRemoveHost, (b) => {
      const o = fieldsOf(b, ['id', 'host'], 'aggregate');
      const id = aggId(o);
      const host = str(o, 'host');
      return write('aggregate', () => String(id), () => [host], async () => ({
        aggregate: verb === 'add-host' ? await catalog.addHost(id, host) : await catalog.removeHost(id, host),
      }));
    });
  }
  ep('aggregate-set-metadata', C.AggregateSetMetadata, (b) => {
    const o = fieldsOf(b, ['id', 'metadata'], 'aggregate');
    const id = aggId(o);
    const changes = metadataChanges(o.metadata);
    return write('aggregate', () => String(id), () => catalog.hostsOf(id), async () => ({ aggregate: await catalog.setMetadata(id, changes, now()) }));
  });

  ep('aggregate-update', C.AggregateUpdate, (raw) => {
    // Validated against the catalog's schema by the endpoint before it gets here.
    const b = raw as { id: number; name?: string; availabilityZone?: string | null };
    const id = b.id;
    return write('aggregate', () => String(id), () => catalog.hostsOf(id), async () => ({
      aggregate: await catalog.updateAggregate(id, b.name, b.availabilityZone, now()),
    }));
  });

  ep('servergroup-list', C.GroupList, (b) => {
    const o = fieldsOf(b, ['projectId'], 'servergroup');
    return { serverGroups: catalog.listGroups(optStr(o, 'projectId', { max: 64 })) };
  });
  ep('servergroup-get', C.GroupGet, (b) => {
    const o = fieldsOf(b, ['id'], 'servergroup');
    const id = str(o, 'id', { max: 36 });
    if (!isUuid(id)) throw new BadRequestError("'id' must be a UUID");
    return { serverGroup: catalog.getGroup(id.toLowerCase()) };
  });
  ep('servergroup-create', C.GroupCreate, (b) => {
    const o = fieldsOf(b, ['name', 'policy', 'maxServerPerHost', 'projectId', 'userId', 'maxGroups'], 'servergroup');
    const maxGroups = optInt(o, 'maxGroups', { min: -1 }) ?? -1;
    const req = {
      name: str(o, 'name', NAME),
      policy: oneOf(o, 'policy', POLICIES),
      maxServerPerHost: optInt(o, 'maxServerPerHost', { min: 1, max: 1000 }) ?? null,
      projectId: optStr(o, 'projectId', { max: 64 }) ?? 'default',
      userId: optStr(o, 'userId', { max: 64 }) ?? 'admin',
    };
    let id = '';
    return write('servergroup', () => id, () => [], async () => {
      const g = await catalog.createGroup(req, now(), maxGroups);
      id = g.id;
      return { serverGroup: g };
    });
  });
  ep('servergroup-delete', C.GroupDelete, (b) => {
    const id = str(fieldsOf(b, ['id'], 'servergroup'), 'id', { max: 36 });
    if (!isUuid(id)) throw new BadRequestError("'id' must be a UUID");
    return write('servergroup', () => id.toLowerCase(), () => [], async () => {
      await catalog.deleteGroup(id.toLowerCase());
      return {};
    });
  });
}
