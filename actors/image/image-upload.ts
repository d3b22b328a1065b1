/**
 * Image uploads over NATS. NATS messages are small (1 MB), so data travels as a sequence of chunks
 * on a subject of the upload's own, `<root>.image.<uuid>.upload.<session>`, served only by the image
 * replica that opened the session (it holds the staging file). Each chunk names its offset, so a
 * lost or repeated chunk is refused instead of corrupting the image; MD5 (Glance's `checksum`) and
 * SHA-512 (`os_hash_value`) are computed as the data passes. The session ends with `done` (the data
 * moves into place and the image actor marks the image active), `abort`, or an idle timeout (both
 * return the image to `queued`, as Glance does after a failed upload).
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { BridgeSubscription } from '../../runtime/nats/bridge.js';
import { ImageUploadChunk } from '../../protocols/catalog/image.js';
import { ImageSnapshotChunk } from '../../protocols/catalog/image-snapshot.js';
import { BadRequestError, ConflictError, NovactError, OverLimitError } from '../../protocols/errors.js';
import { token } from '../../protocols/subjects.js';
import type { Subjects } from '../../protocols/subjects.js';
import { fieldsOf, int, optBool } from '../../protocols/validate.js';
import type { Clock, Timer } from '../../runtime/clock.js';
import type { Logger } from '../../runtime/log/logger.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import { storageFull } from './image-quota.js';
import type { ImageStore } from './image-store.js';
import { CHUNK_BYTES } from '../../protocols/image-upload.js';
import type { ImageBytes } from './image-metrics.js';

export { CHUNK_BYTES };

export interface UploadConfig {
  /** Glance's `image_size_cap`. */
  sizeCapBytes: number;
  /** A session with no chunk for this long is aborted. */
  idleTimeoutMs: number;
}

export const DEFAULT_UPLOAD_CONFIG: UploadConfig = { sizeCapBytes: 1024 ** 4, idleTimeoutMs: 60_000 };

/** What the upload reports to the image actor once the data is in place. */
export interface UploadResult {
  size: number;
  checksum: string;
  osHashAlgo: 'sha512';
  osHashValue: string;
  /** The owner's storage quota the upload started under, checked again as the image becomes active. */
  quotaBytes?: number;
  /** Staged for a later `glance-direct` import (`PUT …/stage`), not yet the image's data. */
  staged?: true;
}

export interface UploadOwner {
  /** Marks the image active with the uploaded data; rejects if the image moved on meanwhile. */
  finished(imageId: string, result: UploadResult): Promise<unknown>;
  /** Returns the image to `queued`. */
  aborted(imageId: string): Promise<void>;
}

interface Session {
  id: string;
  imageId: string;
  staging: string;
  file: FileHandle;
  md5: Hash;
  sha512: Hash;
  written: number;
  /** The most bytes this upload may write: the size cap, or less when the owner's quota leaves less room. */
  maxBytes: number;
  quotaBytes?: number;
  timer: Timer;
  sub: BridgeSubscription;
  /** Chunks are handled one at a time, in arrival order. */
  queue: Promise<unknown>;
  closed: boolean;
  info: SessionInfo;
  /** A tenant's upload through the API, or a host's snapshot. */
  source: 'upload' | 'snapshot';
  staged: boolean;
}

/** What a client needs to send chunks: the session, its subject and the chunk size. */
export interface SessionInfo {
  session: string;
  subject: string;
  chunkBytes: number;
}

export class UploadSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly bridge: Bridge,
    private readonly subjects: Subjects,
    private readonly clock: Clock,
    private readonly store: ImageStore,
    private readonly log: Logger,
    private readonly owner: UploadOwner,
    private readonly cfg: UploadConfig = DEFAULT_UPLOAD_CONFIG,
    private readonly bytes?: ImageBytes,
    /** Keeps a finished staging upload as the image's staged data (for `stage` sessions). */
    private readonly keepStaged: (staging: string, id: string) => Promise<void> = () => Promise.reject(new Error('no staging area')),
    private readonly dropStaged: (id: string) => Promise<void> = async () => undefined,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The images and staging files of the live sessions (the saving sweep leaves these alone). */
  live(): { images: Set<string>; staging: Set<string> } {
    const all = [...this.sessions.values()];
    return { images: new Set(all.map((s) => s.imageId)), staging: new Set(all.map((s) => s.staging)) };
  }

  /**
   * Opens a session for `imageId` and starts serving its subject. With `host`, a snapshot upload by
   * that host: the subject ends in the host's name (`…snapshot-chunk.<session>.<host>`), the only
   * form that host identity may publish.
   */
  async open(imageId: string, limits: { maxBytes?: number; quotaBytes?: number } = {}, host?: string, staged = false): Promise<SessionInfo> {
    const id = randomUUID();
    const subject = host === undefined ? this.subject(imageId, id) : this.snapshotSubject(imageId, id, host);
    const staging = this.store.stagingPath();
    // Private: image data is a tenant's, readable by this process only.
    const file = await open(staging, 'wx', 0o600);
    const s: Session = {
      id, imageId, staging, file, md5: createHash('md5'), sha512: createHash('sha512'), written: 0,
      maxBytes: Math.min(this.cfg.sizeCapBytes, limits.maxBytes ?? Number.POSITIVE_INFINITY),
      ...(limits.quotaBytes !== undefined ? { quotaBytes: limits.quotaBytes } : {}),
      timer: this.clock.setTimeout(() => void this.abort(s, 'idle'), this.cfg.idleTimeoutMs),
      sub: undefined as unknown as BridgeSubscription, queue: Promise.resolve(), closed: false,
      info: undefined as unknown as SessionInfo,
      source: host === undefined ? 'upload' : 'snapshot',
      staged,
    };
    // Chunks are checked against the catalog's schema before they reach the session.
    const verb = host === undefined ? 'upload' : ImageSnapshotChunk.verb;
    s.sub = this.bridge.serve(subject, ({ envelope }) => this.enqueue(s, envelope.body), { verb, isMutating: () => false, body: ImageUploadChunk.checkBody });
    s.info = { session: id, subject, chunkBytes: CHUNK_BYTES };
    this.sessions.set(id, s);
    await this.bridge.nc.flush();
    return s.info;
  }

  /** The live session of `imageId` in this process, if any (a retried begin is answered with it). */
  find(imageId: string): SessionInfo | undefined {
    for (const s of this.sessions.values()) if (s.imageId === imageId && !s.closed) return s.info;
    return undefined;
  }

  /** The image was deleted: drop its sessions (the data would have nowhere to go). */
  async dropImage(imageId: string): Promise<void> {
    await Promise.all([...this.sessions.values()].filter((s) => s.imageId === imageId).map((s) => this.close(s, true)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.close(s, true)));
  }

  subject(imageId: string, session: string): string {
    return `${this.subjects.image(imageId, 'upload')}.${token(session, 'upload session')}`;
  }

  snapshotSubject(imageId: string, session: string, host: string): string {
    return ImageSnapshotChunk.subject(this.subjects, imageId, session, host);
  }

  private enqueue(s: Session, body: Record<string, unknown>): Promise<unknown> {
    const next = s.queue.then(() => this.handle(s, body));
    s.queue = next.catch(() => undefined);
    return next;
  }

  private async handle(s: Session, body: Record<string, unknown>): Promise<unknown> {
    if (s.closed) throw new ConflictError(`upload session ${s.id} is closed`);
    const o = fieldsOf(body, ['offset', 'data', 'done', 'abort'], 'upload');
    if (optBool(o, 'abort')) {
      await this.abort(s, 'client');
      return { aborted: true };
    }
    const offset = int(o, 'offset', { max: Number.MAX_SAFE_INTEGER });
    if (offset !== s.written) throw new ConflictError(`upload chunk at offset ${offset}, expected ${s.written}`);
    if (o.data !== undefined) {
      if (typeof o.data !== 'string') throw new BadRequestError("'data' must be base64");
      const buf = Buffer.from(o.data, 'base64');
      if (buf.length > CHUNK_BYTES) throw new BadRequestError(`a chunk carries at most ${CHUNK_BYTES} bytes`);
      if (s.written + buf.length > s.maxBytes) {
        await this.abort(s, 'size cap');
        if (s.maxBytes < this.cfg.sizeCapBytes) throw storageFull(undefined, s.maxBytes);
        throw new OverLimitError(`Image exceeds the storage quota: the size cap is ${this.cfg.sizeCapBytes} bytes.`);
      }
      await s.file.write(buf, 0, buf.length, s.written);
      this.bytes?.received(s.source, buf.length);
      s.md5.update(buf);
      s.sha512.update(buf);
      s.written += buf.length;
      s.timer.cancel();
      s.timer = this.clock.setTimeout(() => void this.abort(s, 'idle'), this.cfg.idleTimeoutMs);
    }
    if (!optBool(o, 'done')) return { written: s.written };
    return this.finish(s);
  }

  private async finish(s: Session): Promise<unknown> {
    const result: UploadResult = { size: s.written, checksum: s.md5.digest('hex'), osHashAlgo: 'sha512', osHashValue: s.sha512.digest('hex') };
    if (s.quotaBytes !== undefined) result.quotaBytes = s.quotaBytes;
    if (s.staged) result.staged = true;
    await this.close(s, false);
    await (s.staged ? this.keepStaged(s.staging, s.imageId) : this.store.commit(s.staging, s.imageId));
    try {
      return await this.owner.finished(s.imageId, result);
    } catch (err) {
      // The image was deleted (or changed, or the owner's quota filled) while its data arrived:
      // nothing may keep the data, and an image still saving goes back to queued, as in Glance.
      await (s.staged ? this.dropStaged(s.imageId) : this.store.remove(s.imageId)).catch(() => undefined);
      await this.owner.aborted(s.imageId).catch(() => undefined);
      throw err;
    }
  }

  private async abort(s: Session, why: string): Promise<void> {
    if (s.closed) return;
    this.log.info('image upload aborted', { image: s.imageId, session: s.id, why, written: s.written });
    await this.close(s, true);
    await this.owner.aborted(s.imageId).catch((err) => {
      if (!(err instanceof NovactError)) this.log.error('could not return an image to queued', { image: s.imageId, ...errorFields(err) });
    });
  }

  private async close(s: Session, discard: boolean): Promise<void> {
    if (s.closed) return;
    s.closed = true;
    s.timer.cancel();
    s.sub.unsubscribe();
    this.sessions.delete(s.id);
    await s.file.close().catch(() => undefined);
    if (discard) await this.store.discard(s.staging).catch(() => undefined);
  }
}
