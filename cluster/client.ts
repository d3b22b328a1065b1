/**
 * The typed NATS client for novact: what the CLI, tests, benchmarks and embedders use. Every call
 * has a timeout; every mutating call carries an idempotency key (generated unless given, so a caller
 * that retries after a timeout passes the same key and the owner acts once).
 */
import type { ActionArgs, ActionName } from '../protocols/lifecycle.js';
import { createHash, getHashes, randomUUID } from 'node:crypto';
import { CHUNK_BYTES } from '../protocols/image-upload.js';
import { createInbox, type NatsConnection } from 'nats';
import { Status, type StatusReply } from '../protocols/catalog/conductor.js';
import type {
  ActionsReply,
  BuildReply,
  BuildRequest,
  FlavorListReply,
  HostView,
  HostsReply,
  ImageCreateRequest,
  ImageListReply,
  ImageReply,
  ListReply,
  ListRequest,
  ServerReply,
  ServerView,
} from '../protocols/messages.js';
import { Subjects } from '../protocols/subjects.js';
import { ConflictError, InternalError, TimeoutError } from '../protocols/errors.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { createLogger } from '../runtime/log/logger.js';
import { Bridge, isMutatingVerb } from '../runtime/nats/bridge.js';

export interface CallOptions {
  timeoutMs?: number;
  idempotencyKey?: string;
}

export interface TransferOptions extends CallOptions {
  /** Bytes moved so far, after each chunk. */
  onProgress?: (bytes: number) => void;
  /** A download's image, before its first chunk (its size is the total to expect). */
  onStart?: (image: ImageReply['image']) => void;
}

/** How often `waitForServer` looks again when no event woke it. */
const WAIT_POLL_MS = 1_000;

/** One replica of a role as its NATS micro service describes itself (`$SRV.STATS`). */
export interface ServiceReplica {
  name: string;
  id: string;
  version: string;
  started: string;
  metadata: Record<string, string>;
  endpoints: { name: string; subject: string; num_requests: number; num_errors: number; last_error: string; processing_time: number; data?: Record<string, unknown> }[];
}

export class NovactClient {
  readonly bridge: Bridge;
  readonly subjects: Subjects;

  constructor(
    nc: NatsConnection,
    opts: { subjectRoot?: string; timeoutMs?: number; clock?: Clock } = {},
  ) {
    this.subjects = new Subjects(opts.subjectRoot);
    this.bridge = new Bridge(nc, opts.clock ?? systemClock, createLogger('silent'), opts.timeoutMs ?? 10_000, this.subjects);
  }

  private call<R>(subject: string, verb: string, body: unknown, o: CallOptions = {}, mutating = true): Promise<R> {
    const ro: { timeoutMs: number; idempotencyKey?: string } = { timeoutMs: o.timeoutMs ?? this.bridge.defaultTimeoutMs };
    if (mutating) ro.idempotencyKey = o.idempotencyKey ?? randomUUID();
    return this.bridge.request<R>(subject, verb, body, ro);
  }

  async createServer(req: BuildRequest, o?: CallOptions): Promise<ServerView> {
    return (await this.call<BuildReply>(this.subjects.conductor('build'), 'build', req, o)).server;
  }
  /** A multi-create (`maxCount` > 1): every instance it made. */
  async createServers(req: BuildRequest, o?: CallOptions): Promise<ServerView[]> {
    const r = await this.call<BuildReply>(this.subjects.conductor('build'), 'build', req, o);
    return r.sharedMetadata ? r.servers.map((s) => ({ ...s, metadata: r.server.metadata })) : r.servers;
  }
  /** Up to `req.limit` (1000) servers, newest first; replies stop at a byte budget, so this asks again from the last. */
  async listServers(req: ListRequest = {}, o?: CallOptions): Promise<ServerView[]> {
    const limit = req.limit ?? 1000;
    const out: ServerView[] = [];
    let marker = req.marker;
    for (;;) {
      const r = await this.call<ListReply>(this.subjects.conductor('list'), 'list', { ...req, limit: limit - out.length, ...(marker !== undefined ? { marker } : {}) }, o, false);
      out.push(...r.servers);
      const last = r.servers[r.servers.length - 1];
      if (!r.more || !last || out.length >= limit) return out;
      marker = last.id;
    }
  }
  async getServer(id: string, o?: CallOptions): Promise<ServerView> {
    return (await this.call<ServerReply>(this.subjects.instance(id, 'get'), 'get', {}, o, false)).server;
  }
  /** Any server action of the lifecycle's table, with its arguments (as Nova's action body value). */
  async serverAction<N extends ActionName>(id: string, action: N, args?: ActionArgs<N>, o?: CallOptions): Promise<ServerView> {
    return (await this.call<ServerReply>(this.subjects.instance(id, action), action, args === undefined ? {} : { args }, o)).server;
  }
  /** A query action (console output, diagnostics, crash dump): the host's answer, with the server. */
  serverQuery<N extends ActionName>(id: string, action: N, args?: ActionArgs<N>, o?: CallOptions): Promise<ServerReply> {
    return this.call<ServerReply>(this.subjects.instance(id, action), action, args === undefined ? {} : { args }, o);
  }
  deleteServer(id: string, o?: CallOptions): Promise<ServerView> {
    return this.serverAction(id, 'delete', undefined, o);
  }
  async serverActions(id: string, o?: CallOptions): Promise<ActionsReply['actions']> {
    return (await this.call<ActionsReply>(this.subjects.instance(id, 'actions'), 'actions', {}, o, false)).actions;
  }
  /** Every compute host's record, in host order, page by page (a fleet is far over one NATS reply). */
  async listHosts(o?: CallOptions): Promise<HostsReply['hosts']> {
    const out: HostsReply['hosts'] = [];
    let marker: string | undefined;
    do {
      const r: HostsReply = await this.call<HostsReply>(this.subjects.conductor('hosts'), 'hosts', marker === undefined ? {} : { marker }, o, false);
      out.push(...r.hosts);
      marker = r.next;
    } while (marker !== undefined);
    return out;
  }
  getHost(host: string, o?: CallOptions): Promise<HostView> {
    return this.call<HostView>(this.subjects.host(host, 'get'), 'get', {}, o, false);
  }
  async listFlavors(o?: CallOptions): Promise<FlavorListReply['flavors']> {
    return (await this.call<FlavorListReply>(this.subjects.flavor('list'), 'list', {}, o, false)).flavors;
  }
  /** Images oldest first (the first 1000); replies stop at a byte budget, so this asks again from the last. */
  async listImages(o?: CallOptions): Promise<ImageListReply['images']> {
    const out: ImageListReply['images'] = [];
    for (;;) {
      const last = out[out.length - 1];
      const r: ImageListReply = await this.call<ImageListReply>(this.subjects.imageRole('list'), 'list', last ? { marker: last.id } : {}, o, false);
      out.push(...r.images);
      if (!r.more || r.images.length === 0 || out.length >= 1000) return out;
    }
  }
  async createImage(req: ImageCreateRequest, o?: CallOptions): Promise<ImageReply['image']> {
    return (await this.call<ImageReply>(this.subjects.imageRole('create'), 'create', req, o)).image;
  }
  /**
   * Uploads a queued image's data (Glance's `PUT /file`) through an upload session, in the chunks
   * the session asks for; the image is `active` when this resolves. A failure aborts the session.
   */
  async uploadImage(id: string, data: Uint8Array, o?: TransferOptions): Promise<ImageReply['image']> {
    return this.uploadImageFrom(id, data.length, async (offset, length) => data.subarray(offset, offset + length), o);
  }
  /** `uploadImage` from any source of `size` bytes, read a chunk at a time (a file need not fit in memory). */
  async uploadImageFrom(id: string, size: number, read: (offset: number, length: number) => Promise<Uint8Array>, o?: TransferOptions): Promise<ImageReply['image']> {
    const s = await this.call<{ subject: string; chunkBytes: number }>(this.subjects.image(id, 'upload-begin'), 'upload-begin', {}, o);
    const step = (body: Record<string, unknown>) => this.bridge.request(s.subject, 'upload', body, { timeoutMs: o?.timeoutMs ?? this.bridge.defaultTimeoutMs });
    try {
      for (let offset = 0; offset < size; offset += s.chunkBytes) {
        const chunk = await read(offset, Math.min(s.chunkBytes, size - offset));
        await step({ offset, data: Buffer.from(chunk).toString('base64') });
        o?.onProgress?.(offset + chunk.length);
      }
      await step({ offset: size, done: true });
    } catch (err) {
      await step({ abort: true }).catch(() => undefined);
      throw err;
    }
    return (await this.call<ImageReply>(this.subjects.image(id, 'get'), 'get', {}, o, false)).image;
  }
  async deleteImage(id: string, o?: CallOptions): Promise<void> {
    await this.call(this.subjects.image(id, 'delete'), 'delete', {}, o);
  }
  /**
   * An active image's data, chunk by chunk in order, verified as it passes against the image's
   * size, MD5 `checksum` and `os_hash_value`: a mismatch rejects (after the chunks already given,
   * so a caller writing a file removes it).
   */
  async downloadImage(id: string, onChunk: (chunk: Uint8Array) => void | Promise<void>, o?: TransferOptions): Promise<ImageReply['image']> {
    const image = (await this.call<ImageReply>(this.subjects.image(id, 'get'), 'get', {}, o, false)).image;
    if (image.status !== 'active' && image.status !== 'deactivated') throw new ConflictError(`image ${id} has no data to download (status ${image.status})`);
    o?.onStart?.(image);
    const md5 = createHash('md5');
    const secure = image.osHashAlgo && getHashes().includes(image.osHashAlgo) ? createHash(image.osHashAlgo) : undefined;
    let offset = 0;
    for (;;) {
      const r = await this.call<{ data: string; eof: boolean; missing?: boolean }>(this.subjects.image(id, 'download'), 'download', { offset, length: CHUNK_BYTES }, o, false);
      if (r.missing) throw new ConflictError(`image ${id} has no data to download`);
      const bytes = Buffer.from(r.data, 'base64');
      md5.update(bytes);
      secure?.update(bytes);
      if (bytes.length > 0) await onChunk(bytes);
      offset += bytes.length;
      o?.onProgress?.(offset);
      if (r.eof) break;
      if (bytes.length === 0) throw new InternalError(`image ${id}: an empty chunk at offset ${offset} before the end`);
    }
    const bad = offset !== image.sizeBytes ? `${offset} bytes received, its size is ${image.sizeBytes}`
      : image.checksum && md5.digest('hex') !== image.checksum ? 'checksum mismatch'
        : image.osHashValue && secure && secure.digest('hex') !== image.osHashValue ? 'os_hash_value mismatch' : undefined;
    if (bad) throw new InternalError(`image ${id} failed verification: ${bad}`);
    return image;
  }

  /**
   * Every replica of every role that answers `$SRV.STATS` (the operator's `client` user only):
   * replies are gathered until none came for `quietMs` (default 300 ms), at most `maxMs` (2 s).
   * There is no count to wait for: any number of replicas may answer.
   */
  async services(o: { quietMs?: number; maxMs?: number } = {}): Promise<ServiceReplica[]> {
    const nc = this.bridge.nc;
    const inbox = createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    const sub = nc.subscribe(inbox);
    const quiet = o.quietMs ?? 300;
    const max = setTimeout(() => sub.unsubscribe(), o.maxMs ?? 2_000);
    let idle = setTimeout(() => sub.unsubscribe(), Math.max(quiet, 1_000));
    nc.publish('$SRV.STATS', new Uint8Array(), { reply: inbox });
    const out: ServiceReplica[] = [];
    try {
      for await (const m of sub) {
        clearTimeout(idle);
        idle = setTimeout(() => sub.unsubscribe(), quiet);
        try {
          const r = m.json<ServiceReplica>();
          if (r && typeof r.name === 'string' && Array.isArray(r.endpoints)) out.push(r);
        } catch {
          // not a stats reply
        }
      }
    } finally {
      clearTimeout(max);
      clearTimeout(idle);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /** The conductor's summary: instances by state, builds, reschedules, hosts by state, newest faults. */
  clusterStatus(o: CallOptions = {}): Promise<StatusReply> {
    return this.bridge.call(Status, [], {}, { timeoutMs: o.timeoutMs ?? this.bridge.defaultTimeoutMs });
  }

  /** Aggregates, zones and server groups (scheduler role): `verb` as in `<root>.aggregate.<verb>`. */
  aggregate<R = Record<string, unknown>>(verb: 'list' | 'get' | 'zones' | 'create' | 'delete' | 'add-host' | 'remove-host' | 'set-metadata', body: Record<string, unknown> = {}, o?: CallOptions): Promise<R> {
    return this.call<R>(this.subjects.aggregate(verb), verb, body, o, isMutatingVerb(verb));
  }
  serverGroup<R = Record<string, unknown>>(verb: 'list' | 'get' | 'create' | 'delete', body: Record<string, unknown> = {}, o?: CallOptions): Promise<R> {
    return this.call<R>(this.subjects.serverGroup(verb), verb, body, o, isMutatingVerb(verb));
  }

  /**
   * Waits until the server satisfies `done` (e.g. reaches ACTIVE), driven by the instance's event
   * stream with a `get` after each event, so it never polls on a timer. Resolves `undefined` for a
   * server that was deleted meanwhile when `done` accepts that.
   */
  async waitForServer(id: string, done: (s: ServerView) => boolean, timeoutMs = 60_000, onState?: (s: ServerView) => void): Promise<ServerView> {
    // Woken by the instance's events, and polled every WAIT_POLL_MS besides: events published while
    // this connection was away (a NATS restart) are not replayed. Transient errors (timeouts, no
    // responders while a role reconnects) are waited out until the deadline.
    const deadline = Date.now() + timeoutMs;
    const sub = this.bridge.nc.subscribe(this.subjects.entityEvents('instance', id));
    let dirty = false;
    let wake = () => undefined as void;
    void (async () => {
      for await (const _ of sub) {
        dirty = true;
        wake();
      }
    })().catch(() => undefined);
    try {
      for (;;) {
        dirty = false;
        const s = await this.getServer(id).catch((err: unknown) => {
          if ((err as { code?: number }).code === 404) return { ...({} as ServerView), id, status: 'DELETED', vmState: 'deleted' } as ServerView;
          if ((err as { retryable?: boolean }).retryable === true) return undefined;
          throw err;
        });
        if (s !== undefined) onState?.(s);
        if (s !== undefined && done(s)) return s;
        const left = deadline - Date.now();
        if (left <= 0) throw new TimeoutError(`server ${id} did not reach the expected state within ${timeoutMs} ms`);
        if (dirty) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, WAIT_POLL_MS));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      if (!sub.isClosed()) sub.unsubscribe();
    }
  }
}
