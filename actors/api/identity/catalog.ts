/**
 * The service catalog: regions, services and endpoints in PostgreSQL, and the catalog tokens carry,
 * built from them. Clients (keystoneauth, the openstack CLI) find every service through it, so
 * `openstack endpoint create` changes what they see. Bootstrap seeds identity, compute, image and
 * network (each public, internal and admin, in RegionOne) with stable ids, as `keystone-manage
 * bootstrap` does; their URLs start with `$(base_url)s`, this API's public base, filled in when
 * shown, because the base is known only once the server listens and may change between starts.
 *
 * The built catalog is kept in memory (every token issue and validation with a catalog needs it);
 * a change here drops it at once, other replicas re-read within `ttlMs`.
 */
import { createHash } from 'node:crypto';
import { Endpoint, Region, Service, type EndpointInterface, type EndpointRow, type RegionRow, type ServiceRow } from '../../../runtime/db/entities/index.js';
import type { Clock } from '../../../runtime/clock.js';
import type { Orm } from '../../../runtime/db/orm.js';
import type { Links } from '../links.js';

export const REGION = 'RegionOne';
export const BASE_URL = '$(base_url)s';
export const INTERFACES: readonly EndpointInterface[] = ['public', 'internal', 'admin'];

const stableId = (s: string) => createHash('sha256').update(`novact-catalog:${s}`).digest('hex').slice(0, 32);

/** The services this API serves itself, under its one base URL (see links.ts). */
const BUILT_IN: [type: string, name: string, path: string][] = [
  ['identity', 'keystone', '/v3'],
  ['compute', 'nova', '/v2.1'],
  ['image', 'glance', '/image'],
  ['network', 'neutron', '/networking'],
];

export interface CatalogEntry {
  type: string;
  name: string;
  id: string;
  endpoints: { id: string; interface: EndpointInterface; region: string | null; region_id: string | null; url: string }[];
}

/** An endpoint's URL as clients see it. */
export const endpointUrl = (url: string, links: Links): string => (url.startsWith(BASE_URL) ? links.base + url.slice(BASE_URL.length) : url);

export class CatalogStore {
  private built: { at: number; entries: Promise<(Omit<CatalogEntry, 'endpoints'> & { endpoints: EndpointRow[] })[]> } | undefined;

  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly ttlMs = 5_000,
  ) {}

  private get em() {
    return this.orm.em.fork();
  }

  private get knex() {
    return this.orm.em.getConnection().getKnex();
  }

  invalidate(): void {
    this.built = undefined;
  }

  /** Seeds the built-in region, services and endpoints that are missing (never overwrites an operator's change). */
  async seed(): Promise<void> {
    await this.knex.raw(`insert into keystone_regions (id, description, parent_region_id) values (?, '', null) on conflict do nothing`, [REGION]);
    for (const [type, name, path] of BUILT_IN) {
      await this.knex.raw(`insert into keystone_services (id, type, name, description, enabled) values (?, ?, ?, null, true) on conflict do nothing`, [stableId(type), type, name]);
      for (const iface of INTERFACES) {
        await this.knex.raw(`insert into keystone_endpoints (id, service_id, interface, region_id, url, enabled) values (?, ?, ?, ?, ?, true) on conflict do nothing`, [
          stableId(`${type}:${iface}`), stableId(type), iface, REGION, `${BASE_URL}${path}`,
        ]);
      }
    }
    this.invalidate();
  }

  /** The catalog for tokens: enabled services with their enabled endpoints. */
  async catalog(links: Links): Promise<CatalogEntry[]> {
    const now = this.clock.now();
    if (!this.built || now - this.built.at >= this.ttlMs) {
      const entries = (async () => {
        const [services, endpoints] = await Promise.all([this.em.find(Service, { enabled: true }, { orderBy: { type: 'asc' } }), this.em.find(Endpoint, { enabled: true }, { orderBy: { id: 'asc' } })]);
        return services.map((s) => ({ type: s.type, name: s.name, id: s.id, endpoints: endpoints.filter((e) => e.serviceId === s.id) }));
      })();
      this.built = { at: now, entries };
      entries.catch(() => this.invalidate());
    }
    return (await this.built.entries).map((s) => ({
      ...s,
      endpoints: s.endpoints.map((e) => ({ id: e.id, interface: e.interface, region: e.regionId, region_id: e.regionId, url: endpointUrl(e.url, links) })),
    }));
  }

  async regions(filter: { parentRegionId?: string } = {}): Promise<RegionRow[]> {
    return this.em.find(Region, filter.parentRegionId !== undefined ? { parentRegionId: filter.parentRegionId } : {}, { orderBy: { id: 'asc' } });
  }

  async region(id: string): Promise<RegionRow | null> {
    return this.em.findOne(Region, { id });
  }

  /** False when the id is taken. */
  async createRegion(r: RegionRow): Promise<boolean> {
    const res = await this.knex.raw<{ rowCount: number }>(`insert into keystone_regions (id, description, parent_region_id) values (?, ?, ?) on conflict do nothing`, [r.id, r.description, r.parentRegionId]);
    return res.rowCount > 0;
  }

  async updateRegion(id: string, patch: Partial<Omit<RegionRow, 'id'>>): Promise<RegionRow | null> {
    if (Object.keys(patch).length > 0) await this.em.nativeUpdate(Region, { id }, patch);
    this.invalidate();
    return this.region(id);
  }

  /** 'in-use' when endpoints or child regions still name it (Keystone's 409). */
  async deleteRegion(id: string): Promise<'deleted' | 'missing' | 'in-use'> {
    const [endpoints, children] = await Promise.all([this.em.count(Endpoint, { regionId: id }), this.em.count(Region, { parentRegionId: id })]);
    if (endpoints + children > 0) return 'in-use';
    return (await this.em.nativeDelete(Region, { id })) > 0 ? 'deleted' : 'missing';
  }

  async services(filter: { type?: string; name?: string } = {}): Promise<ServiceRow[]> {
    const where: Record<string, string> = {};
    if (filter.type !== undefined) where.type = filter.type;
    if (filter.name !== undefined) where.name = filter.name;
    return this.em.find(Service, where, { orderBy: { type: 'asc', id: 'asc' } });
  }

  async service(id: string): Promise<ServiceRow | null> {
    return this.em.findOne(Service, { id });
  }

  async createService(s: ServiceRow): Promise<ServiceRow> {
    await this.em.insert(Service, s);
    this.invalidate();
    return s;
  }

  async updateService(id: string, patch: Partial<Omit<ServiceRow, 'id'>>): Promise<ServiceRow | null> {
    if (Object.keys(patch).length > 0) await this.em.nativeUpdate(Service, { id }, patch);
    this.invalidate();
    return this.service(id);
  }

  /** Deletes the service with its endpoints (as Keystone does). */
  async deleteService(id: string): Promise<boolean> {
    const gone = await this.orm.em.fork().transactional(async (em) => {
      await em.nativeDelete(Endpoint, { serviceId: id });
      return (await em.nativeDelete(Service, { id })) > 0;
    });
    this.invalidate();
    return gone;
  }

  async endpoints(filter: { serviceId?: string; interface?: string; regionId?: string } = {}): Promise<EndpointRow[]> {
    const where: Record<string, string> = {};
    if (filter.serviceId !== undefined) where.serviceId = filter.serviceId;
    if (filter.interface !== undefined) where.interface = filter.interface;
    if (filter.regionId !== undefined) where.regionId = filter.regionId;
    return this.em.find(Endpoint, where, { orderBy: { id: 'asc' } });
  }

  async endpoint(id: string): Promise<EndpointRow | null> {
    return this.em.findOne(Endpoint, { id });
  }

  async createEndpoint(e: EndpointRow): Promise<EndpointRow> {
    await this.em.insert(Endpoint, e);
    this.invalidate();
    return e;
  }

  async updateEndpoint(id: string, patch: Partial<Omit<EndpointRow, 'id'>>): Promise<EndpointRow | null> {
    if (Object.keys(patch).length > 0) await this.em.nativeUpdate(Endpoint, { id }, patch);
    this.invalidate();
    return this.endpoint(id);
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    const gone = (await this.em.nativeDelete(Endpoint, { id })) > 0;
    this.invalidate();
    return gone;
  }
}
