/**
 * The image role: one actor per image (Glance's status machine; the only writer of its row, by
 * compare-and-swap on `version`), plus role-level `list` and `create`. Image data (upload/download)
 * comes with the REST API; today an image is registered with its size and is `active` at once.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../../protocols/errors.js';
import type { ImageCreateRequest, ImageListReply, ImageReply } from '../../protocols/messages.js';
import type { ImageStatus } from '../../protocols/resources.js';
import { fitPage } from '../../protocols/paging.js';
import { fieldsOf, isUuid, oneOf, optInt, optStr, str, stringMap } from '../../protocols/validate.js';
import { Image, type ImageRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import { EntityRegistry } from '../../runtime/actors/registry.js';
import { ImageCreate, ImageInfo, ImageList, ImageMetadefs, ImageVerbs as ImageVerbFamily } from '../../protocols/catalog/image.js';
import { NegativeCache } from '../../runtime/negative-cache.js';
import type { Role, RoleContext } from '../../runtime/role.js';
import { checkFormats } from '../../protocols/image-formats.js';
import { registerImageApiVerbs } from './api-verbs.js';
import { registerSnapshotVerbs } from './snapshot-endpoints.js';
import { imageView } from './image-view.js';
import { FsImageStore, type ImageStore } from './image-store.js';
import { DEFAULT_UPLOAD_CONFIG, UploadSessions, type UploadConfig } from './image-upload.js';
import { ImageVerbs } from './image-verbs.js';
import { DEFAULT_SAVING_SWEEP, SavingSweep, type SavingSweepConfig } from './saving-sweep.js';
import { imageBytes } from './image-metrics.js';
import { MetadefCatalog, seedMetadefs } from './metadefs.js';
import { ImageStores, type StoreConfig } from './image-stores.js';
import { DEFAULT_IMPORT_CONFIG, Importer, type ImportConfig } from './image-import.js';
import { IMPORT_METHODS } from '../../protocols/image-import.js';

/** `internal`: sent from this process (upload sessions), never from NATS. */
type ImageMsg = { verb: string; body?: Record<string, unknown>; internal?: boolean; reply: ReplyTo<unknown> };

export interface ImageDataOptions {
  /** Where image data lives (default: a temporary directory, removed at stop). */
  store?: ImageStore;
  upload?: Partial<UploadConfig>;
  /** The sweep of images left in `saving` by a crash, and of leftover staging files. */
  sweep?: Partial<SavingSweepConfig>;
  /** Glance's `enabled_backends`: the named stores, the first the default (default: one, `local`). */
  stores?: StoreConfig[];
  /** Import: the web-download allow-list (default empty: every URL refused), its timeout and redirects. */
  import?: Partial<ImportConfig>;
}

/** Glance's allowed status moves for the verbs served here. */
const MOVES: Record<string, { from: readonly ImageStatus[]; to: ImageStatus }> = {
  deactivate: { from: ['active', 'deactivated'], to: 'deactivated' },
  reactivate: { from: ['deactivated', 'active'], to: 'active' },
  delete: { from: ['queued', 'saving', 'active', 'killed', 'deactivated'], to: 'deleted' },
};

export function parseImageCreate(body: Record<string, unknown>): ImageCreateRequest {
  const o = fieldsOf(body, ['name', 'diskFormat', 'containerFormat', 'minDiskGb', 'minRamMb', 'visibility', 'properties', 'sizeBytes', 'id'], 'image');
  const req: ImageCreateRequest = {
    name: str(o, 'name'),
    diskFormat: optStr(o, 'diskFormat') ?? 'qcow2',
    containerFormat: optStr(o, 'containerFormat') ?? 'bare',
    visibility: oneOf(o, 'visibility', ['public', 'private', 'shared', 'community'] as const, 'shared'),
    properties: stringMap(o, 'properties'),
  };
  checkFormats(req.diskFormat!, req.containerFormat!);
  const minDisk = optInt(o, 'minDiskGb', { max: 1_000_000 });
  const minRam = optInt(o, 'minRamMb', { max: 100_000_000 });
  const size = optInt(o, 'sizeBytes', { max: Number.MAX_SAFE_INTEGER });
  const id = optStr(o, 'id', { max: 36 });
  if (id !== undefined && !isUuid(id)) throw new BadRequestError(`image id must be a UUID`);
  if (minDisk !== undefined) req.minDiskGb = minDisk;
  if (minRam !== undefined) req.minRamMb = minRam;
  if (size !== undefined) req.sizeBytes = size;
  if (id !== undefined) req.id = id.toLowerCase();
  return req;
}

export async function createImage(orm: Orm, req: ImageCreateRequest, owner: string | null, now: Date): Promise<ImageRow> {
  const row: ImageRow = {
    id: req.id ?? randomUUID(),
    name: req.name,
    status: req.sizeBytes !== undefined ? 'active' : 'queued',
    diskFormat: req.diskFormat ?? 'qcow2',
    containerFormat: req.containerFormat ?? 'bare',
    size: String(req.sizeBytes ?? 0),
    minDisk: req.minDiskGb ?? 0,
    minRam: req.minRamMb ?? 0,
    visibility: req.visibility ?? 'shared',
    owner,
    properties: req.properties ?? {},
    checksum: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  // One conditional statement: of two creates with one id, the loser is a 409, not a unique-index 500.
  const res = await orm.em.fork().createQueryBuilder(Image).insert(row).onConflict('id').ignore().execute('run');
  if (res.affectedRows === 0) throw new ConflictError(`image ${row.id} already exists`);
  return row;
}

export async function startImageRole(ctx: RoleContext, orm: Orm, data: ImageDataOptions = {}): Promise<Role> {
  const { bridge, subjects, actors, clock } = ctx;
  const store = data.store ?? (await FsImageStore.open());
  const bytes = imageBytes(ctx.metrics);
  const ask = (id: string, verb: string, body: Record<string, unknown>) =>
    registry.ask<unknown>(id, (reply) => ({ verb, body, internal: true, reply }), ctx.requestTimeoutMs);
  const stores = await ImageStores.open(store, data.stores);
  const uploadCfg = { ...DEFAULT_UPLOAD_CONFIG, ...data.upload };
  const uploads = new UploadSessions(bridge, subjects, clock, store, ctx.log, {
    finished: (id, result) => ask(id, 'uploaded', { ...result }),
    aborted: async (id) => void (await ask(id, 'upload-aborted', {})),
  }, uploadCfg, bytes, (staging, id) => stores.stage(staging, id), (id) => stores.dropStaged(id));
  const importer = new Importer(stores, { ...DEFAULT_IMPORT_CONFIG, ...data.import }, ctx.log, (id, outcome) => ask(id, 'imported', outcome));
  const verbs = new ImageVerbs({ orm, clock, store, stores, importer, sizeCapBytes: uploadCfg.sizeCapBytes, uploads: () => uploads, ...(bytes ? { bytes } : {}) });

  // Ids known missing (or deleted): answered 404 without an actor or a query, for a few seconds.
  const missing = new NegativeCache(clock);
  const registry = new EntityRegistry<ImageMsg>(actors, undefined, 'image', (id) => ({
    idleShutdownMs: 60_000,
    init: () => ({ row: undefined as ImageRow | undefined }),
    handle: async (s, m, actx) => {
      const em = orm.em.fork();
      const row = s.row ?? (await em.findOne(Image, { id }, { disableIdentityMap: true })) ?? undefined;
      if (!row || row.status === 'deleted') {
        m.reply.fail(new NotFoundError(`image ${id} could not be found`));
        // Nothing to own: stop at once, so GETs of random ids leave no actors behind.
        missing.add(id);
        actx.self.stop();
        return { row };
      }
      if (m.verb === 'get') {
        m.reply.ok({ image: imageView(row) } satisfies ImageReply);
        return { row };
      }
      const verb = verbs.find(m.verb, m.internal === true);
      if (verb) {
        try {
          const out = await verb(row, m.body ?? {});
          m.reply.ok(out.reply);
          if (out.event) bridge.publish(subjects.event('image', id, ...out.event.split('.')), out.reply);
          return { row: out.row };
        } catch (err) {
          // Typed refusals are answered; the row is re-read on the next message in case it moved.
          m.reply.fail(err);
          return { row: undefined };
        }
      }
      const move = MOVES[m.verb];
      if (!move) {
        m.reply.fail(new NotFoundError(`image actors have no verb '${m.verb}'`));
        return { row };
      }
      if (!move.from.includes(row.status)) {
        m.reply.fail(new ConflictError(`image ${id} cannot ${m.verb} while ${row.status}`));
        return { row };
      }
      const now = new Date(clock.now());
      const n = await em.nativeUpdate(Image, { id, version: row.version }, { status: move.to, updatedAt: now, version: row.version + 1 });
      if (n !== 1) {
        m.reply.fail(new ConflictError(`image ${id} changed concurrently; retry`));
        return { row: undefined };
      }
      const next: ImageRow = { ...row, status: move.to, updatedAt: now, version: row.version + 1 };
      m.reply.ok({ image: imageView(next) } satisfies ImageReply);
      bridge.publish(subjects.event('image', id, m.verb), { image: imageView(next) });
      return { row: next };
    },
  }));

  const sweep = new SavingSweep({
    orm, clock, log: ctx.log, store, live: () => uploads.live(),
    requeue: async (id) => void (await ask(id, 'upload-aborted', {})),
  }, { ...DEFAULT_SAVING_SWEEP, ...data.sweep });

  const svc = await bridge.addService('novact-image', 'image actors: metadata and status', () => ({
    savingSweeps: sweep.stats.runs,
    savingRequeued: sweep.stats.requeued,
    stagingRemoved: sweep.stats.stagingRemoved,
    liveActors: registry.size,
    missingCached: missing.size,
    restarts: actors.stats.restarts,
  }));
  // Bodies are checked against the catalog (protocols/catalog/image.ts) before these run.
  const opts = { queue: 'image' };
  // Oldest first, after `marker` (an image id), cut at the reply's byte budget (`more`): the client pages on.
  bridge.endpoint(svc, ImageList, async (body) => {
    const marker = body.marker ?? undefined;
    const em = orm.em.fork();
    const where: Record<string, unknown> = { status: { $ne: 'deleted' } };
    if (marker !== undefined) {
      const m = await em.findOne(Image, { id: marker.toLowerCase() });
      if (!m) throw new BadRequestError(`marker ${marker} could not be found.`);
      where.$or = [{ createdAt: { $gt: m.createdAt } }, { createdAt: m.createdAt, id: { $gt: m.id } }];
    }
    const rows = await em.find(Image, where, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: 1000 });
    const page = fitPage(rows.map(imageView));
    return (page.more ? { images: page.items, more: true } : { images: page.items }) satisfies ImageListReply;
  }, opts);
  bridge.endpoint(svc, ImageCreate, async (body) => {
    const row = await createImage(orm, parseImageCreate(body as Record<string, unknown>), null, new Date(clock.now()));
    missing.delete(row.id);
    bridge.publish(subjects.event('image', row.id, 'create'), { image: imageView(row) });
    return { image: imageView(row) } satisfies ImageReply;
  }, opts);
  bridge.endpointFamily(svc, ImageVerbFamily, ({ subject, verb, envelope }) => {
    const parsed = subjects.parseEntity(subject, 'image');
    if (!parsed || !isUuid(parsed.id)) throw new NotFoundError(`no image at ${subject}`);
    const id = parsed.id.toLowerCase();
    if (missing.has(id)) throw new NotFoundError(`image ${id} could not be found`);
    return registry.ask<unknown>(id, (reply) => ({ verb, body: envelope.body, reply }), ctx.requestTimeoutMs);
  }, opts);
  registerImageApiVerbs(bridge, svc, subjects, orm, clock, (id) => missing.delete(id));
  const knex = orm.em.getConnection().getKnex();
  await seedMetadefs(knex, clock);
  const metadefs = new MetadefCatalog(knex, clock);
  bridge.endpoint(svc, ImageMetadefs, (body) => metadefs.handle(body) as never, opts);
  bridge.endpoint(svc, ImageInfo, async () => ({ importMethods: [...IMPORT_METHODS], stores: [...stores.info] }), opts);
  registerSnapshotVerbs(bridge, svc, subjects, orm, clock, ctx.log, {
    created: (id) => missing.delete(id),
    ask: (id, verb, body) => {
      if (missing.has(id)) throw new NotFoundError(`image ${id} could not be found`);
      return registry.ask<unknown>(id, (reply) => ({ verb, body, reply }), ctx.requestTimeoutMs);
    },
  });
  sweep.start();

  return {
    name: 'image',
    async stop() {
      await sweep.stop();
      // Downloads are cut short; their reports still reach the actors, which stop next.
      await importer.stop();
      registry.stopAll();
      await uploads.stop();
      await stores.close();
      if (!data.store) await store.close();
    },
  };
}
