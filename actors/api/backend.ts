/**
 * The API's only way to the rest of the system: typed NATS requests to the conductor, instance
 * actors, the image role and image actors, the network role, and the scheduler's aggregate/server-group verbs. Every
 * mutating call carries the HTTP request's id as its idempotency key, so instance actions are
 * recorded under the id the client saw in `x-openstack-request-id`. Calls go through the catalog
 * (`Bridge.call`): bodies typed by their definition, replies validated against its reply schema.
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
  ServerReply,
  ServerView,
} from '../../protocols/messages.js';
import type { Flavor, ImageMeta } from '../../protocols/resources.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import * as C from '../../protocols/catalog/index.js';
import type { TenantUsageServer } from '../../protocols/catalog/conductor.js';
import type { BodyOf, ReplyOf, RequestDef } from '../../protocols/catalog/index.js';
import { BadRequestError } from '../../protocols/errors.js';
import { isNoResponders } from '../../runtime/nats/request-mux.js';
import type { NetCaller, Nic, RequestedNetworks } from '../../protocols/catalog/network.js';
import type { ServerQuery } from '../../protocols/server-query.js';
import type { HostServersReply, ProjectUsage, ServiceReply, ServicesQuery, ServicesReply, ServiceView, ZoneSummaryReply } from '../../protocols/conductor-replies.js';
import { MigrationGet, MigrationList, type MigrationListReply, type MigrationListRequest, type MigrationView } from '../../protocols/catalog/migrations.js';
import { MAX_PAGE_ITEMS } from '../../protocols/paging.js';
import { DEFAULT_IMAGE_LIMIT, type ImageQuery } from '../../protocols/image-query.js';
import type { ImageRegisterRequest } from '../../protocols/image-register.js';
import type { ImagePatchOp } from '../../protocols/image-patch.js';

export type { ServiceView, ProjectUsage };

const byVerb = (defs: readonly RequestDef[]): Readonly<Record<string, RequestDef>> => Object.fromEntries(defs.map((d) => [d.verb, d]));
const AGGREGATE_VERBS = byVerb([C.AggregateList, C.AggregateGet, C.AggregateZones, C.AggregateCreate, C.AggregateDelete, C.AggregateAddHost, C.AggregateRemoveHost, C.AggregateSetMetadata, C.AggregateUpdate]);
const GROUP_VERBS = byVerb([C.GroupList, C.GroupGet, C.GroupCreate, C.GroupDelete]);

export interface UploadSession {
  session: string;
  subject: string;
  chunkBytes: number;
  image: ImageMeta;
}

/** No network role in the cluster: nobody answers its subjects. */
const noNetworkService = isNoResponders;

export class Backend {
  constructor(
    private readonly bridge: Bridge,
    readonly subjects: Subjects,
    private readonly timeoutMs: number,
  ) {}

  /** A catalog call: `args` fill the subject, `key` (the HTTP request id) makes a change idempotent. */
  private ask<D extends RequestDef>(def: D, args: readonly string[], body: BodyOf<D>, key?: string): Promise<ReplyOf<D>> {
    return this.bridge.call(def, args, body, key === undefined ? { timeoutMs: this.timeoutMs } : { timeoutMs: this.timeoutMs, idempotencyKey: key });
  }

  // --- servers ---
  async build(req: BuildRequest, key: string): Promise<BuildReply> {
    return this.ask(C.Build, [], req, key);
  }
  /** A compute-side networking call (`os-interface`, server security groups, floating IPs, ip filters). */
  async serverNetworking<D extends RequestDef>(def: D, body: BodyOf<D>, key?: string): Promise<ReplyOf<D>> {
    try {
      return await this.ask(def, ['instance'], body, key);
    } catch (err) {
      if (noNetworkService(err)) throw new BadRequestError('There is no networking service in this cloud.');
      throw err;
    }
  }
  /** The NICs of servers (their `addresses`); none when no network role runs. */
  async nics(ids: string[]): Promise<Record<string, Nic[]>> {
    if (ids.length === 0) return {};
    try {
      return (await this.ask(C.NetInstanceNics, ['instance'], { instanceIds: ids })).nics;
    } catch (err) {
      if (noNetworkService(err)) return {};
      throw err;
    }
  }
  /** A build's `networks` checked and resolved by the network role; with none running, only `auto`/`none` pass. */
  async checkNetworks(by: NetCaller, requested: RequestedNetworks, count: number, securityGroups: string[] = []): Promise<{ requested: RequestedNetworks; securityGroups?: string[] }> {
    // Only `default` asked: the ports get it anyway (and a cloud without networking has nothing else).
    const groups = securityGroups.filter((g) => g !== 'default').length > 0 ? { securityGroups } : {};
    try {
      const r = await this.ask(C.NetInstanceCheck, ['instance'], { by, requested, count, ...groups });
      return r.securityGroups ? { requested: r.requested, securityGroups: r.securityGroups } : { requested: r.requested };
    } catch (err) {
      if (noNetworkService(err) && typeof requested === 'string' && !groups.securityGroups) return { requested: 'none' };
      if (noNetworkService(err)) throw new BadRequestError('Requesting networks: there is no networking service.');
      throw err;
    }
  }
  async server(id: string): Promise<ServerView> {
    return (await this.ask(C.InstanceGet, [id], {})).server;
  }
  /** Up to `q.limit` servers: the conductor's replies stop at a byte budget, so this asks again from the last one. */
  async servers(q: ServerQuery): Promise<ServerView[]> {
    const limit = q.limit ?? MAX_PAGE_ITEMS;
    const out: ServerView[] = [];
    let marker = q.marker;
    for (;;) {
      const r = await this.ask(C.Query, [], { ...q, limit: limit - out.length, ...(marker !== undefined ? { marker } : {}) });
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
        const r = (await this.ask(C.HostServers, [], after ? { hosts: chunk, after } : { hosts: chunk })) as HostServersReply;
        for (const s of r.servers) by.get(s.host)?.push({ name: s.name, uuid: s.uuid });
        after = r.next;
      } while (after);
    }
    return by;
  }
  async serverVerb(id: string, verb: string, body: Record<string, unknown>, key: string): Promise<ServerView> {
    return (await this.serverCall(id, verb, body, key)).server;
  }
  /** The whole reply of an instance verb: the server, and a query action's host answer (`result`). */
  async serverCall(id: string, verb: string, body: Record<string, unknown>, key: string): Promise<ServerReply> {
    const def = C.InstanceVerbs.verbs[verb];
    if (!def) throw new BadRequestError(`unknown server verb '${verb}'`);
    return (await this.ask(def, [id], body, key)) as ServerReply;
  }
  /** Newest first, up to `limit` (1000): asks again from the last one when a reply stopped at its byte budget. */
  async serverActions(id: string, q: ActionsRequest = {}): Promise<{ actions: ActionsReply['actions']; more: boolean }> {
    const limit = q.limit ?? MAX_PAGE_ITEMS;
    const out: ActionsReply['actions'] = [];
    let marker = q.marker;
    for (;;) {
      const r = await this.ask(C.InstanceActions, [id], { ...q, limit: limit - out.length, ...(marker !== undefined ? { marker } : {}) });
      out.push(...r.actions);
      const last = r.actions[r.actions.length - 1];
      if (!r.more || !last || out.length >= limit) return { actions: out, more: r.more === true };
      marker = last.requestId;
    }
  }
  // --- migration records (conductor.migrations / conductor.migration) ---
  migrations(q: MigrationListRequest): Promise<MigrationListReply> {
    return this.ask(MigrationList, [], q) as Promise<MigrationListReply>;
  }
  async migration(id: string | number, instanceUuid?: string): Promise<MigrationView> {
    return ((await this.ask(MigrationGet, [], instanceUuid ? { id, instanceUuid } : { id })) as { migration: MigrationView }).migration;
  }
  usage(projectId: string): Promise<ProjectUsage> {
    return this.ask(C.Usage, [], { projectId });
  }
  tenantUsage(body: { start: number; end: number; projectId?: string; limit?: number; marker?: string }): Promise<{ servers: TenantUsageServer[]; more: boolean }> {
    return this.ask(C.TenantUsage, [], body);
  }

  // --- compute services and hypervisors ---
  /** One page of compute services in host order (`next`: the host to continue after). */
  servicePage(q: ServicesQuery = {}): Promise<ServicesReply> {
    return this.ask(C.Services, [], q) as Promise<ServicesReply>;
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
    return this.ask(C.ZoneSummary, [], { zones, defaultZone });
  }
  async deleteService(host: string, key: string): Promise<void> {
    await this.ask(C.ServiceDelete, [], { host }, key);
  }
  async updateService(body: { host: string; disabled?: boolean; disabledReason?: string; forcedDown?: boolean }, key: string): Promise<ServiceView> {
    return ((await this.ask(C.ServiceUpdate, [], body, key)) as ServiceReply).service;
  }

  // --- flavors ---
  async flavors(): Promise<Flavor[]> {
    return ((await this.ask(C.FlavorList, [], {})) as FlavorListReply).flavors;
  }
  async flavor(id: string): Promise<Flavor> {
    return ((await this.ask(C.FlavorGet, [], { id })) as FlavorReply).flavor;
  }
  async createFlavor(body: Record<string, unknown>, key: string): Promise<Flavor> {
    return ((await this.ask(C.FlavorCreate, [], body as BodyOf<typeof C.FlavorCreate>, key)) as FlavorReply).flavor;
  }
  async deleteFlavor(id: string, key: string): Promise<void> {
    await this.ask(C.FlavorDelete, [], { id }, key);
  }
  async setFlavorSpecs(id: string, specs: Record<string, string>, key: string): Promise<Flavor> {
    return ((await this.ask(C.FlavorSetSpecs, [], { id, specs }, key)) as FlavorReply).flavor;
  }
  async updateFlavor(id: string, description: string | null, key: string): Promise<Flavor> {
    return ((await this.ask(C.FlavorUpdate, [], { id, description }, key)) as FlavorReply).flavor;
  }
  async flavorAccess(id: string, op: 'add' | 'remove', projectId: string, key: string): Promise<Flavor> {
    return ((await this.ask(C.FlavorAccess, [], { id, op, projectId }, key)) as FlavorReply).flavor;
  }
  async unsetFlavorSpec(id: string, specKey: string, key: string): Promise<Flavor> {
    // The conductor answers the flavor (the catalog leaves this reply's shape open).
    return ((await this.ask(C.FlavorUnsetSpec, [], { id, key: specKey }, key)) as unknown as FlavorReply).flavor;
  }

  // --- images ---
  async image(id: string): Promise<ImageMeta> {
    return ((await this.ask(C.ImageGet, [id], {})) as ImageReply).image;
  }
  /** Up to `q.limit` images: the image role's replies stop at a byte budget, so this asks again from the last one. */
  async images(q: ImageQuery): Promise<ImageMeta[]> {
    const limit = q.limit ?? DEFAULT_IMAGE_LIMIT;
    const out: ImageMeta[] = [];
    let marker = q.marker;
    for (;;) {
      const r = (await this.ask(C.ImageQuery, [], { ...q, limit: limit - out.length, ...(marker !== undefined ? { marker } : {}) } as BodyOf<typeof C.ImageQuery>)) as unknown as ImageListReply;
      out.push(...r.images);
      const last = r.images[r.images.length - 1];
      if (!r.more || !last || out.length >= limit) return out;
      marker = last.id;
    }
  }
  async registerImage(req: ImageRegisterRequest, key: string): Promise<ImageMeta> {
    return ((await this.ask(C.ImageRegister, [], req as BodyOf<typeof C.ImageRegister>, key)) as ImageReply).image;
  }
  /** A JSON-patch, or one tag added or removed, applied by the image's actor. */
  async updateImage(id: string, change: { ops?: ImagePatchOp[]; addTag?: string; removeTag?: string }, key: string): Promise<ImageMeta> {
    return ((await this.ask(C.ImageUpdate, [id], change, key)) as ImageReply).image;
  }
  /** `delete`, `deactivate`, `reactivate`. */
  async imageVerb(id: string, verb: 'delete' | 'deactivate' | 'reactivate', key: string): Promise<ImageMeta> {
    const def = { delete: C.ImageDelete, deactivate: C.ImageDeactivate, reactivate: C.ImageReactivate }[verb];
    // Each answers the image (`delete`'s reply schema is left open in the catalog).
    return ((await this.ask(def, [id], {}, key)) as unknown as ImageReply).image;
  }
  /** Glance's member operations on one image, done by the image's actor (the caller checks who may). */
  imageMembers(id: string, body: BodyOf<typeof C.ImageMembers>, key: string): Promise<ReplyOf<typeof C.ImageMembers>> {
    return this.ask(C.ImageMembers, [id], body, key) as Promise<ReplyOf<typeof C.ImageMembers>>;
  }
  /** Glance's metadata definitions catalog (the image role; the caller checked who may change it). */
  metadefs<R>(body: BodyOf<typeof C.ImageMetadefs>, key: string): Promise<R> {
    return this.ask(C.ImageMetadefs, [], body, key) as Promise<R>;
  }
  /** `quotaBytes`: the owner's storage quota, enforced by the image role (-1: unlimited). */
  uploadBegin(id: string, quotaBytes: number, key: string, stage = false): Promise<UploadSession> {
    return this.ask(C.ImageUploadBegin, [id], { quotaBytes, ...(stage ? { stage } : {}) }, key) as unknown as Promise<UploadSession>;
  }
  /** Glance's import, accepted by the image's actor and done in the background. */
  async imageImport(id: string, body: BodyOf<typeof C.ImageImport>, key: string): Promise<ImageMeta> {
    return ((await this.ask(C.ImageImport, [id], body, key)) as ImageReply).image;
  }
  /** The cluster's import methods and stores. */
  imageInfo(): Promise<ReplyOf<typeof C.ImageInfo>> {
    return this.ask(C.ImageInfo, [], {});
  }
  /** One step of an upload session: a chunk, `done`, or `abort`. */
  uploadStep<R>(subject: string, body: { offset?: number; data?: string; done?: boolean; abort?: boolean }): Promise<R> {
    return this.bridge.request<R>(subject, 'upload', body, { timeoutMs: this.timeoutMs });
  }
  download(id: string, offset: number, length: number, key: string): Promise<{ data: string; eof: boolean; missing?: boolean }> {
    return this.ask(C.ImageDownload, [id], { offset, length }, key);
  }

  // --- networking (network role) ---
  /** A network role request on `kind` (a resource kind, `quota` or `zone`); `key` (the HTTP request id) for changes. */
  net<D extends RequestDef>(def: D, kind: string, body: BodyOf<D>, key?: string): Promise<ReplyOf<D>> {
    return this.ask(def, [kind], body, key);
  }

  // --- aggregates, zones and server groups (scheduler role) ---
  aggregate<R>(verb: string, body: Record<string, unknown>, key?: string): Promise<R> {
    return this.placement(AGGREGATE_VERBS, 'aggregate', verb, body, key);
  }
  serverGroup<R>(verb: string, body: Record<string, unknown>, key?: string): Promise<R> {
    return this.placement(GROUP_VERBS, 'server group', verb, body, key);
  }
  private async placement<R>(verbs: Readonly<Record<string, RequestDef>>, what: string, verb: string, body: Record<string, unknown>, key?: string): Promise<R> {
    const def = verbs[verb];
    if (!def) throw new BadRequestError(`unknown ${what} verb '${verb}'`);
    // The reply is checked against the definition; its view (left open in the catalog) is the caller's R.
    return (await this.ask(def, [], body, key)) as R;
  }
}
