/**
 * The API's only way to the rest of the system: typed NATS requests to the conductor, instance
 * actors, the image role and image actors, and the scheduler's aggregate/server-group verbs. Every
 * mutating call carries the HTTP request's id as its idempotency key, so instance actions are
 * recorded under the id the client saw in `x-openstack-request-id`.
 */
import type {
  ActionsReply,
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
import type { ServerQuery } from '../conductor/server-query.js';
import type { ProjectUsage } from '../conductor/project-usage.js';
import type { ServiceReply, ServicesReply, ServiceView } from '../conductor/service-admin.js';
import type { ImageQuery } from '../image/image-query.js';
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
  async servers(q: ServerQuery): Promise<ServerView[]> {
    return (await this.read<ListReply>(this.subjects.conductor('query'), 'query', q)).servers;
  }
  async serverVerb(id: string, verb: string, body: Record<string, unknown>, key: string): Promise<ServerView> {
    return (await this.write<ServerReply>(this.subjects.instance(id, verb), verb, body, key)).server;
  }
  async serverActions(id: string): Promise<ActionsReply['actions']> {
    return (await this.read<ActionsReply>(this.subjects.instance(id, 'actions'), 'actions')).actions;
  }
  usage(projectId: string): Promise<ProjectUsage> {
    return this.read<ProjectUsage>(this.subjects.conductor('usage'), 'usage', { projectId });
  }

  // --- compute services and hypervisors ---
  async services(): Promise<ServiceView[]> {
    return (await this.read<ServicesReply>(this.subjects.conductor('services'), 'services')).services;
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
  async images(q: ImageQuery): Promise<ImageMeta[]> {
    return (await this.read<ImageListReply>(this.subjects.imageRole('query'), 'query', q)).images;
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
