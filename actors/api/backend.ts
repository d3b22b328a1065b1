/**
 * The API's only way to the rest of the system: typed NATS requests to the conductor, instance
 * actors, the image role and image actors, and the scheduler's aggregate/server-group verbs. Every
 * mutating call carries the HTTP request's id as its idempotency key, so instance actions are
 * recorded under the id the client saw in `x-openstack-request-id`.
 */
import type {
  ActionsReply,
  ActionsRequest,
  BuildReply,
  BuildRequest,
  FlavorListReply,
  FlavorReply,
  ImageListReply,
  ImageReply,
  ListReply,
  ServerReply,
  ServerView,
} from '../../protocols/messages.js';
import type { Flavor, ImageMeta } from '../../protocols/resources.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import type { MigrationListReply, MigrationListRequest, MigrationView } from '../../protocols/catalog/migrations.js';
import type { ServerQuery } from '../conductor/server-query.js';
import type { ProjectUsage } from '../conductor/project-usage.js';
import type { HostServersReply } from '../conductor/host-servers.js';
import type { ServiceReply, ServicesQuery, ServicesReply, ServiceView, ZoneSummaryReply } from '../conductor/service-admin.js';
import { MAX_PAGE_ITEMS } from '../../protocols/paging.js';
import { DEFAULT_IMAGE_LIMIT, type ImageQuery } from '../image/image-query.js';
import type { ImageRegisterRequest } from '../image/image-register.js';
import type { ImagePatchOp } from '../image/image-patch.js';

export type { ServiceView, ProjectUsage };

export interface UploadSession {
  session: string;
  subject: string;
  chunkBytes: number;
  image: ImageMeta;
}

export class Backend {
  constructor(
    private readonly bridge: Bridge,
    readonly subjects: Subjects,
    private readonly timeoutMs: number,
  ) {}

  private read<R>(subject: string, verb: string, body: unknown = {}): Promise<R> {
    return this.bridge.request<R>(subject, verb, body, { timeoutMs: this.timeoutMs });
  }
  private write<R>(subject: string, verb: string, body: unknown, key: string): Promise<R> {
    return this.bridge.request<R>(subject, verb, body, { timeoutMs: this.timeoutMs, idempotencyKey: key });
  }

  // --- servers ---
  async build(req: BuildRequest, key: string): Promise<BuildReply> {
    return this.write<BuildReply>(this.subjects.conductor('build'), 'build', req, key);
  }
  async server(id: string): Promise<ServerView> {
    return (await this.read<ServerReply>(this.subjects.instance(id, 'get'), 'get')).server;
  }
  /** Up to `q.limit` servers: the conductor's replies stop at a byte budget, so this asks again from the last one. */
  async servers(q: ServerQuery): Promise<ServerView[]> {
    const limit = q.limit ?? MAX_PAGE_ITEMS;
    const out: ServerView[] = [];
    let marker = q.marker;
    for (;;) {
      const r = await this.read<ListReply>(this.subjects.conductor('query'), 'query', { ...q, limit: limit - out.length, ...(marker !== undefined ? { marker } : {}) });
      out.push(...r.servers);
      const last = r.servers[r.servers.length - 1];
      if (!r.more || !last || out.length >= limit) return out;
      marker = last.id;
    }
  }
  /** The servers (name, uuid) on these hosts, in one paged query rather than one per host. */
  async hostServers(hosts: string[]): Promise<Map<string, { name: string; uuid: string }[]>> {
    const by = new Map<string, { name: string; uuid: string }[]>(hosts.map((h) => [h, []]));
    for (let i = 0; i < hosts.length; i += MAX_PAGE_ITEMS) {
      const chunk = hosts.slice(i, i + MAX_PAGE_ITEMS);
      let after: HostServersReply['next'];
      do {
        const r: HostServersReply = await this.read<HostServersReply>(this.subjects.conductor('host-servers'), 'host-servers', after ? { hosts: chunk, after } : { hosts: chunk });
        for (const s of r.servers) by.get(s.host)?.push({ name: s.name, uuid: s.uuid });
        after = r.next;
      } while (after);
    }
    return by;
  }
  async serverVerb(id: string, verb: string, body: Record<string, unknown>, key: string): Promise<ServerView> {
    return (await this.write<ServerReply>(this.subjects.instance(id, verb), verb, body, key)).server;
  }
  /** Newest first, up to `limit` (1000): asks again from the last one when a reply stopped at its byte budget. */
  async serverActions(id: string, q: ActionsRequest = {}): Promise<{ actions: ActionsReply['actions']; more: boolean }> {
    const limit = q.limit ?? MAX_PAGE_ITEMS;
    const out: ActionsReply['actions'] = [];
    let marker = q.marker;
    for (;;) {
      const r = await this.read<ActionsReply>(this.subjects.instance(id, 'actions'), 'actions', { ...q, limit: limit - out.length, ...(marker !== undefined ? { marker } : {}) });
      out.push(...r.actions);
      const last = r.actions[r.actions.length - 1];
      if (!r.more || !last || out.length >= limit) return { actions: out, more: r.more === true };
      marker = last.requestId;
    }
  }
  // --- migration records (conductor.migrations / conductor.migration) ---
  migrations(q: MigrationListRequest): Promise<MigrationListReply> {
    return this.read<MigrationListReply>(this.subjects.conductor('migrations'), 'migrations', q);
  }
  async migration(id: string | number, instanceUuid?: string): Promise<MigrationView> {
    return (await this.read<{ migration: MigrationView }>(this.subjects.conductor('migration'), 'migration', instanceUuid ? { id, instanceUuid } : { id })).migration;
  }
  usage(projectId: string): Promise<ProjectUsage> {
    return this.read<ProjectUsage>(this.subjects.conductor('usage'), 'usage', { projectId });
  }

  // --- compute services and hypervisors ---
  /** One page of compute services in host order (`next`: the host to continue after). */
  servicePage(q: ServicesQuery = {}): Promise<ServicesReply> {
    return this.read<ServicesReply>(this.subjects.conductor('services'), 'services', q);
  }
  /** Every compute service matching `q`, page by page (a fleet's records are far over one NATS reply). */
  async services(q: Omit<ServicesQuery, 'limit'> = {}, max = Number.POSITIVE_INFINITY): Promise<ServiceView[]> {
    const out: ServiceView[] = [];
    let marker = q.marker;
    while (out.length < max) {
      const limit = Math.min(MAX_PAGE_ITEMS, max - out.length);
      const r: ServicesReply = await this.servicePage({ ...q, limit, ...(marker === undefined ? {} : { marker }) });
      out.push(...r.services);
      marker = r.next;
      if (marker === undefined) break;
    }
    return out;
  }
  /** The service a service or hypervisor id names (resolved by the conductor, not by listing every one here). */
  async serviceById(kind: 'service' | 'hypervisor', value: string): Promise<ServiceView | undefined> {
    return (await this.servicePage({ id: { kind, value }, limit: 1 })).services[0];
  }
  /** Per zone: host count and whether any host is up and enabled, computed by the conductor. */
  zoneSummary(zones: { zone: string; hosts: string[] }[], defaultZone: string): Promise<ZoneSummaryReply> {
    return this.read<ZoneSummaryReply>(this.subjects.conductor('zone-summary'), 'zone-summary', { zones, defaultZone });
  }
  async deleteService(host: string, key: string): Promise<void> {
    await this.write(this.subjects.conductor('service-delete'), 'service-delete', { host }, key);
  }
  async updateService(body: { host: string; disabled?: boolean; disabledReason?: string; forcedDown?: boolean }, key: string): Promise<ServiceView> {
    return (await this.write<ServiceReply>(this.subjects.conductor('service-update'), 'service-update', body, key)).service;
  }

  // --- flavors ---
  async flavors(): Promise<Flavor[]> {
    return (await this.read<FlavorListReply>(this.subjects.flavor('list'), 'list')).flavors;
  }
  async flavor(id: string): Promise<Flavor> {
    return (await this.read<FlavorReply>(this.subjects.flavor('get'), 'get', { id })).flavor;
  }
  async createFlavor(body: Record<string, unknown>, key: string): Promise<Flavor> {
    return (await this.write<FlavorReply>(this.subjects.flavor('create'), 'create', body, key)).flavor;
  }
  async deleteFlavor(id: string, key: string): Promise<void> {
    await this.write(this.subjects.flavor('delete'), 'delete', { id }, key);
  }
  async setFlavorSpecs(id: string, specs: Record<string, string>, key: string): Promise<Flavor> {
    return (await this.write<FlavorReply>(this.subjects.flavor('set-specs'), 'set-specs', { id, specs }, key)).flavor;
  }
  async unsetFlavorSpec(id: string, specKey: string, key: string): Promise<Flavor> {
    return (await this.write<FlavorReply>(this.subjects.flavor('unset-spec'), 'unset-spec', { id, key: specKey }, key)).flavor;
  }

  // --- images ---
  async image(id: string): Promise<ImageMeta> {
    return (await this.read<ImageReply>(this.subjects.image(id, 'get'), 'get')).image;
  }
  /** Up to `q.limit` images: the image role's replies stop at a byte budget, so this asks again from the last one. */
  async images(q: ImageQuery): Promise<ImageMeta[]> {
    const limit = q.limit ?? DEFAULT_IMAGE_LIMIT;
    const out: ImageMeta[] = [];
    let marker = q.marker;
    for (;;) {
      const r = await this.read<ImageListReply>(this.subjects.imageRole('query'), 'query', { ...q, limit: limit - out.length, ...(marker !== undefined ? { marker } : {}) });
      out.push(...r.images);
      const last = r.images[r.images.length - 1];
      if (!r.more || !last || out.length >= limit) return out;
      marker = last.id;
    }
  }
  async registerImage(req: ImageRegisterRequest, key: string): Promise<ImageMeta> {
    return (await this.write<ImageReply>(this.subjects.imageRole('register'), 'register', req, key)).image;
  }
  /** A JSON-patch, or one tag added or removed, applied by the image's actor. */
  async updateImage(id: string, change: { ops?: ImagePatchOp[]; addTag?: string; removeTag?: string }, key: string): Promise<ImageMeta> {
    return (await this.write<ImageReply>(this.subjects.image(id, 'update'), 'update', change, key)).image;
  }
  /** `delete`, `deactivate`, `reactivate`. */
  async imageVerb(id: string, verb: 'delete' | 'deactivate' | 'reactivate', key: string): Promise<ImageMeta> {
    return (await this.write<ImageReply>(this.subjects.image(id, verb), verb, {}, key)).image;
  }
  /** `quotaBytes`: the owner's storage quota, enforced by the image role (-1: unlimited). */
  uploadBegin(id: string, quotaBytes: number, key: string): Promise<UploadSession> {
    return this.write<UploadSession>(this.subjects.image(id, 'upload-begin'), 'upload-begin', { quotaBytes }, key);
  }
  /** One step of an upload session: a chunk, `done`, or `abort`. */
  uploadStep<R>(subject: string, body: { offset?: number; data?: string; done?: boolean; abort?: boolean }): Promise<R> {
    return this.bridge.request<R>(subject, 'upload', body, { timeoutMs: this.timeoutMs });
  }
  download(id: string, offset: number, length: number, key: string): Promise<{ data: string; eof: boolean; missing?: boolean }> {
    return this.write(this.subjects.image(id, 'download'), 'download', { offset, length }, key);
  }

  // --- aggregates, zones and server groups (scheduler role) ---
  aggregate<R>(verb: string, body: Record<string, unknown>, key?: string): Promise<R> {
    const subject = this.subjects.aggregate(verb);
    return key === undefined ? this.read<R>(subject, verb, body) : this.write<R>(subject, verb, body, key);
  }
  serverGroup<R>(verb: string, body: Record<string, unknown>, key?: string): Promise<R> {
    const subject = this.subjects.serverGroup(verb);
    return key === undefined ? this.read<R>(subject, verb, body) : this.write<R>(subject, verb, body, key);
  }
}
