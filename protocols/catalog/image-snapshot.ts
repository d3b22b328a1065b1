/**
 * Image data between hosts and the image role: snapshot images the conductor creates for a named
 * host, that host's upload of the data, any host's download of an active image, and backup
 * rotation. Host-facing subjects end in the host's name (`<root>.image.<uuid>.<verb>.<host>`), so a
 * host identity's NATS permissions (protocols/host-identity.ts) can allow exactly its own forms;
 * the image role checks the host token against the one the snapshot was created for.
 */
import { Type, type Static } from '@sinclair/typebox';
import { HOST_NAME_PATTERN } from '../host-identity.js';
import type { Subjects } from '../subjects.js';
import { token } from '../subjects.js';
import { defineRequest } from './define.js';
import { Closed, Count, Int, Name, NonEmptyName, Opt, ProjectId, StringMap, Uuid } from './common.js';
import { ImageReplySchema, UploadChunkSchema } from './image.js';
import { ImageMetaSchema } from './views.js';

/** Raw bytes per chunk either way: base64 in a JSON envelope stays well under NATS's 1 MB payload. */
export const HOST_CHUNK_BYTES = 512 * 1024;

const HostName = Type.String({ pattern: HOST_NAME_PATTERN });
const ImageType = Type.Union([Type.Literal('snapshot'), Type.Literal('backup')]);

/** `snapshot-create`: a queued image owned by the project, to be filled by `host`. */
export const SnapshotCreateSchema = Closed({
  name: NonEmptyName(255),
  projectId: ProjectId,
  userId: Opt(Name(64)),
  instanceUuid: Uuid,
  /** The instance's image (empty for a volume-backed server). */
  baseImageRef: Name(255),
  /** Copied from the source image; non-inheritable and Glance-reserved names are dropped. */
  properties: Opt(StringMap(128, 255, 255)),
  /** The request's own metadata (Nova's extra_properties): applied over Nova's keys, minus Glance-reserved names. */
  extraProperties: Opt(StringMap(128, 255, 255)),
  imageType: ImageType,
  backupType: Opt(NonEmptyName(255)),
  visibility: Opt(Type.Literal('private')),
  minDisk: Opt(Int(0, 1_000_000)),
  minRam: Opt(Int(0, 100_000_000)),
  diskFormat: Opt(Name(64)),
  containerFormat: Opt(Name(64)),
  /** The host whose identity alone may upload the data. */
  host: HostName,
  /** Client-chosen id, so a retried create is the same image (default: derived from the idempotency key). */
  imageId: Opt(Uuid),
  /** The project's `image_count_total` (-1 or absent: unlimited), checked with the insert. */
  maxImages: Opt(Int(-1, 2_147_483_647)),
  /** The project's `user_storage_quota` in bytes (-1 or absent: unlimited), applied to the upload. */
  quotaBytes: Opt(Int(-1, Number.MAX_SAFE_INTEGER)),
});
export type SnapshotCreateRequest = Static<typeof SnapshotCreateSchema>;

export const BackupRotateSchema = Closed({
  instanceUuid: Uuid,
  backupType: NonEmptyName(255),
  /** Backups to keep, newest first by created_at. */
  rotation: Int(0, 1_000_000),
  projectId: ProjectId,
});
export type BackupRotateRequest = Static<typeof BackupRotateSchema>;
export const BackupRotateReplySchema = Type.Object({ deleted: Type.Array(Type.String()) });

export const SnapshotBeginReplySchema = Type.Object({
  image: ImageMetaSchema,
  /** The upload session's subject (`<root>.image.<uuid>.snapshot-chunk.<session>.<host>`). */
  subject: Type.String(),
  session: Type.String(),
  chunkBytes: Type.Integer({ minimum: 1 }),
});
export type SnapshotBeginReply = Static<typeof SnapshotBeginReplySchema>;

export const HostDownloadReplySchema = Type.Object({
  data: Type.String(),
  eof: Type.Boolean(),
  size: Count,
  checksum: Type.Union([Type.String(), Type.Null()]),
  osHashAlgo: Type.Union([Type.String(), Type.Null()]),
  osHashValue: Type.Union([Type.String(), Type.Null()]),
});
export type HostDownloadReply = Static<typeof HostDownloadReplySchema>;

const role = (verb: string) => ({ verb, pattern: (s: Subjects) => s.imageRole(verb) });
/** `<root>.image.<uuid>.<verb>.<host>`. */
const hostForm = (verb: string) => ({
  verb,
  pattern: (s: Subjects) => `${s.root}.image.*.${verb}.*`,
  subject: (s: Subjects, id?: string, host?: string) => `${s.image(id!, verb)}.${token(host!, 'host name')}`,
});

export const ImageSnapshotCreate = defineRequest({
  ...role('snapshot-create'), mutating: true, body: SnapshotCreateSchema, reply: ImageReplySchema,
  servedBy: 'image', calledBy: ['conductor', 'client'],
});
export const ImageBackupRotate = defineRequest({
  ...role('backup-rotate'), mutating: true, body: BackupRotateSchema, reply: BackupRotateReplySchema,
  servedBy: 'image', calledBy: ['conductor', 'client'],
});
/** The host starts its upload: queued → saving; the reply names the session's chunk subject. */
export const ImageSnapshotBegin = defineRequest({
  ...hostForm('snapshot-begin'), mutating: true, body: Closed({}), reply: SnapshotBeginReplySchema,
  servedBy: 'image', calledBy: ['compute'],
});
/** The host gives up: the snapshot image is deleted (as Nova deletes a failed snapshot). */
export const ImageSnapshotAbort = defineRequest({
  ...hostForm('snapshot-abort'), mutating: true, body: Closed({}), reply: Type.Object({ deleted: Type.Boolean() }),
  servedBy: 'image', calledBy: ['compute'],
});
/** One chunk of a snapshot upload (offset-checked, so no idempotency key): `{offset, data}`, `{offset, done}`, `{abort}`. */
export const ImageSnapshotChunk = defineRequest({
  verb: 'snapshot-chunk',
  pattern: (s) => `${s.root}.image.*.snapshot-chunk.*.*`,
  subject: (s, id, session, host) => `${s.image(id!, 'snapshot-chunk')}.${token(session!, 'upload session')}.${token(host!, 'host name')}`,
  mutating: false, body: UploadChunkSchema, reply: Type.Object({}, { additionalProperties: true }),
  servedBy: 'image', calledBy: ['compute'],
});
/** A chunk of an active image's data, with the integrity fields the host verifies against. */
export const ImageHostDownload = defineRequest({
  ...hostForm('host-download'), mutating: false,
  body: Closed({ offset: Count, length: Int(1, HOST_CHUNK_BYTES) }), reply: HostDownloadReplySchema,
  servedBy: 'image', calledBy: ['compute'],
});

export const IMAGE_SNAPSHOT_REQUESTS = [ImageSnapshotCreate, ImageBackupRotate, ImageSnapshotBegin, ImageSnapshotAbort, ImageSnapshotChunk, ImageHostDownload] as const;
