/**
 * The image actor's verbs beyond `get` and the status moves: metadata updates (JSON-patch), delete
 * (refused for protected images, and taking the data with it), data upload and download. Each
 * change is one compare-and-swap on the image row, made from inside the image's actor so it is
 * serialised with every other change to that image.
 *
 * `uploaded` and `upload-aborted` are internal: only the upload session in this process sends them
 * (a NATS request naming them is refused), so no client can mark an image active with a checksum of
 * its choosing.
 */
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../../protocols/errors.js';
import type { ImageReply } from '../../protocols/messages.js';
import type { ImageStatus } from '../../protocols/resources.js';
import { fieldsOf, int, optInt, optStr } from '../../protocols/validate.js';
import { Image, type ImageRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Clock } from '../../runtime/clock.js';
import { imageView } from './image-view.js';
import { applyImagePatch, parsePatchOps, type MutableImage } from '../../protocols/image-patch.js';
import { lockOwner, ownerBytes, storageFull } from './image-quota.js';
import type { ImageStore } from './image-store.js';
import type { ImageBytes } from './image-metrics.js';
import { CHUNK_BYTES, type UploadResult, type UploadSessions } from './image-upload.js';
import { hostVerbs } from './snapshot-verbs.js';
import { membersVerb } from './image-members.js';
import type { ImageStores } from './image-stores.js';
import type { Importer } from './image-import.js';
import { importVerbs } from './import-verbs.js';

import type { ImageVerb, VerbResult } from './image-verb-types.js';
export type { ImageVerb, VerbResult };

export interface ImageVerbDeps {
  orm: Orm;
  clock: Clock;
  store: ImageStore;
  stores: ImageStores;
  importer: Importer;
  uploads: () => UploadSessions;
  bytes?: ImageBytes;
  /** Glance's `image_size_cap`: the most a web-download may bring. */
  sizeCapBytes: number;
}

/** Glance's statuses an image may be deleted from. */
const DELETABLE: readonly ImageStatus[] = ['queued', 'saving', 'uploading', 'importing', 'active', 'killed', 'deactivated'];
const INTERNAL = new Set(['uploaded', 'upload-aborted', 'imported']);

export function mutableOf(r: ImageRow): MutableImage {
  return {
    name: r.name, visibility: r.visibility, minDisk: r.minDisk, minRam: r.minRam, protected: r.protected ?? false,
    osHidden: r.osHidden ?? false, tags: r.tags ?? [], diskFormat: r.diskFormat, containerFormat: r.containerFormat,
    owner: r.owner, properties: r.properties,
  };
}

export class ImageVerbs {
  private readonly verbs: Record<string, ImageVerb>;

  constructor(private readonly deps: ImageVerbDeps) {
    this.verbs = {
      update: (row, body) => this.update(row, body),
      delete: (row) => this.remove(row),
      'upload-begin': (row, body) => this.uploadBegin(row, body),
      uploaded: (row, body) => this.uploaded(row, body as unknown as UploadResult),
      'upload-aborted': (row) => this.uploadAborted(row),
      download: (row, body) => this.download(row, body),
      members: membersVerb(deps.orm, deps.clock),
      ...importVerbs({ ...deps, write: (row, changes) => this.write(row, changes), room: (row, quota) => this.room(row, quota) }),
      ...hostVerbs({ remove: (row) => this.remove(row), beginUpload: (row, q, host) => this.beginUpload(row, q, host), uploads: deps.uploads, store: deps.store, ...(deps.bytes ? { bytes: deps.bytes } : {}) }),
    };
  }

  /** The verb's implementation; internal verbs only for messages from this process. */
  find(verb: string, internal: boolean): ImageVerb | undefined {
    if (INTERNAL.has(verb) && !internal) return undefined;
    return Object.hasOwn(this.verbs, verb) ? this.verbs[verb] : undefined;
  }

  /** Bytes the owner's quota leaves for this image (-1 or no owner: unlimited). */
  private async room(row: ImageRow, quotaBytes: number): Promise<number> {
    if (quotaBytes < 0 || row.owner === null) return Number.POSITIVE_INFINITY;
    return quotaBytes - (await ownerBytes(this.deps.orm.em.getConnection().getKnex(), row.owner, row.id));
  }

  private async write(row: ImageRow, changes: Partial<ImageRow>): Promise<ImageRow> {
    const updatedAt = new Date(this.deps.clock.now());
    const n = await this.deps.orm.em.fork().nativeUpdate(Image, { id: row.id, version: row.version }, { ...changes, updatedAt, version: row.version + 1 });
    if (n !== 1) throw new ConflictError(`image ${row.id} changed concurrently; retry`);
    return { ...row, ...changes, updatedAt, version: row.version + 1 };
  }

  private async update(row: ImageRow, body: Record<string, unknown>): Promise<VerbResult> {
    const o = fieldsOf(body, ['ops', 'addTag', 'removeTag'], 'update');
    const current = mutableOf(row);
    // Single-tag changes (`PUT`/`DELETE /tags/{tag}`) apply to the tags as they are now, in this actor.
    const tag = optStr(o, 'addTag') ?? optStr(o, 'removeTag');
    const ops = tag === undefined ? parsePatchOps(o.ops) : [{
      op: 'replace' as const, path: '/tags',
      value: o.addTag !== undefined ? [...current.tags.filter((t) => t !== tag), tag] : current.tags.filter((t) => t !== tag),
    }];
    if (o.removeTag !== undefined && !current.tags.includes(tag!)) throw new NotFoundError(`Tag ${tag} not found`);
    const next = applyImagePatch(current, ops, row.status);
    const written = await this.write(row, {
      name: next.name, visibility: next.visibility, minDisk: next.minDisk, minRam: next.minRam, protected: next.protected,
      osHidden: next.osHidden, tags: next.tags, diskFormat: next.diskFormat, containerFormat: next.containerFormat,
      owner: next.owner, properties: next.properties,
    });
    return { row: written, reply: { image: imageView(written) } satisfies ImageReply, event: 'update' };
  }

  private async remove(row: ImageRow): Promise<VerbResult> {
    if (row.protected) throw new ForbiddenError(`Image ${row.id} is protected and cannot be deleted.`);
    if (!DELETABLE.includes(row.status)) throw new ConflictError(`image ${row.id} cannot delete while ${row.status}`);
    const written = await this.write(row, { status: 'deleted' });
    await this.deps.uploads().dropImage(row.id);
    await this.deps.stores.removeAll(row.id);
    return { row: written, reply: { image: imageView(written) } satisfies ImageReply, event: 'delete' };
  }

  /** `quotaBytes`: the owner's storage quota (-1 or absent: unlimited); the session is capped at the room left. */
  private async uploadBegin(row: ImageRow, body: Record<string, unknown>): Promise<VerbResult> {
    const o = fieldsOf(body, ['quotaBytes', 'stage'], 'upload-begin');
    const quotaBytes = optInt(o, 'quotaBytes', { min: -1, max: Number.MAX_SAFE_INTEGER }) ?? -1;
    // A snapshot's data comes from its host only (snapshot-begin), never through the API.
    if (row.snapshotHost) throw new ConflictError(`Image ${row.id} is a snapshot being taken: its data comes from the instance's host.`);
    return this.beginUpload(row, quotaBytes, undefined, o.stage === true);
  }

  /**
   * queued → saving with a session open in this process (`stage`: queued → uploading, the data kept
   * aside for a glance-direct import); `host`: a snapshot upload by that host.
   */
  private async beginUpload(row: ImageRow, quotaBytes: number, host?: string, stage = false): Promise<VerbResult> {
    const to: ImageStatus = stage ? 'uploading' : 'saving';
    if (row.status !== 'queued') throw new ConflictError(`Image status transition from ${row.status} to ${to} is not allowed`);
    if (row.diskFormat === '' || row.containerFormat === '') {
      throw new BadRequestError('Properties disk_format, container_format must be set prior to saving data.');
    }
    const limits: { maxBytes?: number; quotaBytes?: number } = {};
    if (quotaBytes >= 0 && row.owner !== null) {
      const room = quotaBytes - (await ownerBytes(this.deps.orm.em.getConnection().getKnex(), row.owner, row.id));
      if (room <= 0) throw storageFull(undefined, room);
      Object.assign(limits, { maxBytes: room, quotaBytes });
    }
    const session = await this.deps.uploads().open(row.id, limits, host, stage);
    try {
      const written = await this.write(row, { status: to });
      return { row: written, reply: { image: imageView(written), ...session }, event: 'upload.start' };
    } catch (err) {
      await this.deps.uploads().dropImage(row.id);
      throw err;
    }
  }

  private async uploaded(row: ImageRow, r: UploadResult): Promise<VerbResult> {
    const from: ImageStatus = r.staged ? 'uploading' : 'saving';
    if (row.status !== from) throw new ConflictError(`image ${row.id} is ${row.status}: the upload cannot complete`);
    // Staged data stays `uploading` (with its size and hashes) until its import; uploaded data is the image's.
    const status: ImageStatus = r.staged ? 'uploading' : 'active';
    const changes: Partial<ImageRow> = { status, size: String(r.size), checksum: r.checksum, osHashAlgo: r.osHashAlgo, osHashValue: r.osHashValue, ...(r.staged ? {} : { stores: [this.deps.stores.defaultId] }) };
    const quota = r.quotaBytes;
    if (quota === undefined || quota < 0 || row.owner === null) {
      const written = await this.write(row, changes);
      return { row: written, reply: { image: imageView(written) } satisfies ImageReply, event: 'upload.end' };
    }
    // Counted again as the image becomes active, under the owner's lock, in the same transaction as the CAS.
    const owner = row.owner;
    const updatedAt = new Date(this.deps.clock.now());
    await this.deps.orm.em.getConnection().getKnex().transaction(async (trx) => {
      await lockOwner(trx, owner);
      const room = quota - (await ownerBytes(trx, owner, row.id));
      if (r.size > room) throw storageFull(r.size, room);
      const n = await trx.raw(
        `update images set status = ?, size = ?, checksum = ?, os_hash_algo = ?, os_hash_value = ?, stores = ?::jsonb, updated_at = ?, version = version + 1
         where id = ? and version = ?`,
        [status, String(r.size), r.checksum, r.osHashAlgo, r.osHashValue, JSON.stringify(changes.stores ?? row.stores ?? []), updatedAt.toISOString(), row.id, row.version],
      );
      if (n.rowCount !== 1) throw new ConflictError(`image ${row.id} changed concurrently; retry`);
    });
    const written: ImageRow = { ...row, ...changes, updatedAt, version: row.version + 1 };
    return { row: written, reply: { image: imageView(written) } satisfies ImageReply, event: 'upload.end' };
  }

  private async uploadAborted(row: ImageRow): Promise<VerbResult> {
    if (row.status !== 'saving' && row.status !== 'uploading') return { row, reply: { image: imageView(row) } };
    // A failed snapshot is deleted (as Nova does), not left queued for an upload nobody will send.
    if (row.snapshotHost) return this.remove(row);
    const written = await this.write(row, { status: 'queued' });
    return { row: written, reply: { image: imageView(written) } satisfies ImageReply, event: 'upload.error' };
  }

  /** A chunk of the image's data: `{data: base64, eof}`; `missing` when the image has none. */
  private async download(row: ImageRow, body: Record<string, unknown>): Promise<VerbResult> {
    if (row.status !== 'active' && row.status !== 'deactivated') return { row, reply: { data: '', eof: true, missing: true } };
    const o = fieldsOf(body, ['offset', 'length'], 'download');
    const offset = int(o, 'offset', { max: Number.MAX_SAFE_INTEGER });
    const length = int(o, 'length', { min: 1, max: CHUNK_BYTES });
    const buf = await this.deps.stores.read(row.id, row.stores, offset, length);
    if (buf === undefined) return { row, reply: { data: '', eof: true, missing: true } };
    this.deps.bytes?.sent('api', buf.length);
    return { row, reply: { data: buf.toString('base64'), eof: buf.length < length } };
  }
}
