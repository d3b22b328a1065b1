/**
 * The image role (`<root>.image.<verb>`, queue group `image`) and image actors
 * (`<root>.image.<uuid>.<verb>`), plus upload sessions (`<root>.image.<uuid>.upload.<session>`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineFamily, defineRequest } from './define.js';
import { AnyObject, Closed, Count, Empty, Int, Name, NonEmptyName, Opt, StringMap, Uuid } from './common.js';
import { ImageMetaSchema } from './views.js';

export const ImageReplySchema = Type.Object({ image: ImageMetaSchema });
export type ImageReply = Static<typeof ImageReplySchema>;
/** `more`: the reply stopped early (at its byte budget): continue with the last image as marker. */
export const ImageListReplySchema = Type.Object({ images: Type.Array(ImageMetaSchema), more: Type.Optional(Type.Boolean()) });
export type ImageListReply = Static<typeof ImageListReplySchema>;

const Visibility = Type.Union([Type.Literal('public'), Type.Literal('private'), Type.Literal('shared'), Type.Literal('community')]);
export const ImageCreateRequestSchema = Closed({
  name: NonEmptyName(255),
  diskFormat: Opt(Name(64)),
  containerFormat: Opt(Name(64)),
  minDiskGb: Opt(Int(0, 1_000_000)),
  minRamMb: Opt(Int(0, 100_000_000)),
  visibility: Opt(Visibility),
  properties: Opt(StringMap(128, 255, 255)),
  /** Register metadata for data that already exists elsewhere: the image is `active` at once. */
  sizeBytes: Opt(Count),
  id: Opt(Uuid),
});
export interface ImageCreateRequest {
  name: string;
  diskFormat?: string;
  containerFormat?: string;
  minDiskGb?: number;
  minRamMb?: number;
  visibility?: Static<typeof Visibility>;
  properties?: Record<string, string>;
  sizeBytes?: number;
  id?: string;
}

/** Glance's create (REST shapes, checked in detail by image-register.ts). */
export const ImageRegisterRequestSchema = Closed({
  id: Opt(Type.String({ maxLength: 36 })),
  name: Opt(Name(255)),
  visibility: Opt(Name(32)),
  diskFormat: Opt(Name(64)),
  containerFormat: Opt(Name(64)),
  minDisk: Opt(Type.Integer()),
  minRam: Opt(Type.Integer()),
  protected: Opt(Type.Boolean()),
  osHidden: Opt(Type.Boolean()),
  tags: Opt(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 128 })),
  owner: Opt(Name(64)),
  properties: Opt(Type.Record(Name(255), Type.Unknown())),
  /** The owner's image_count_total quota (-1: unlimited), checked under the owner's lock. */
  maxImages: Opt(Int(-1, 2_147_483_647)),
});

export const ImageQueryRequestSchema = Closed({
  viewer: Closed({ projectId: Opt(Name(64)), isAdmin: Opt(Type.Boolean()) }),
  name: Opt(Name(255)), status: Opt(Name(255)), visibility: Opt(Type.String({ maxLength: 32 })), owner: Opt(Name(255)),
  diskFormat: Opt(Name(255)), containerFormat: Opt(Name(255)),
  sizeMin: Opt(Count), sizeMax: Opt(Count),
  tags: Opt(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 128 })),
  properties: Opt(StringMap(128, 255, 255)),
  protected: Opt(Type.Boolean()), osHidden: Opt(Type.Boolean()),
  memberStatus: Opt(Type.String({ maxLength: 16 })),
  sort: Opt(Type.Array(Closed({ key: Type.String({ maxLength: 64 }), dir: Type.String({ maxLength: 8 }) }), { minItems: 1, maxItems: 11 })),
  limit: Opt(Int(0, 1000)),
  marker: Opt(Name(255)),
});

const role = (verb: string) => ({ verb, pattern: (s: { imageRole(v: string): string }) => s.imageRole(verb) });
const served = { servedBy: 'image', calledBy: ['api', 'conductor', 'client'] } as const;

export const ImageList = defineRequest({ ...role('list'), mutating: false, body: Closed({ marker: Opt(Uuid) }), reply: ImageListReplySchema, ...served });
export const ImageCreate = defineRequest({ ...role('create'), mutating: true, body: ImageCreateRequestSchema, reply: ImageReplySchema, ...served });
export const ImageRegister = defineRequest({ ...role('register'), mutating: true, body: ImageRegisterRequestSchema, reply: ImageReplySchema, ...served });
export const ImageQuery = defineRequest({ ...role('query'), mutating: false, body: ImageQueryRequestSchema, reply: AnyObject, ...served });

const actor = (verb: string) => ({
  verb,
  pattern: (s: { allImages: string }) => s.allImages,
  subject: (s: { image(id: string, v: string): string }, id?: string) => s.image(id!, verb),
});
export const ImageGet = defineRequest({ ...actor('get'), mutating: false, body: Empty, reply: ImageReplySchema, ...served });
export const ImageUpdate = defineRequest({
  ...actor('update'), mutating: true,
  body: Closed({ ops: Opt(Type.Array(Type.Unknown(), { maxItems: 1000 })), addTag: Opt(Type.String({ maxLength: 255 })), removeTag: Opt(Type.String({ maxLength: 255 })) }),
  reply: ImageReplySchema, ...served,
});
export const ImageDelete = defineRequest({ ...actor('delete'), mutating: true, body: Empty, reply: AnyObject, ...served });
export const ImageDeactivate = defineRequest({ ...actor('deactivate'), mutating: true, body: Empty, reply: ImageReplySchema, ...served });
export const ImageReactivate = defineRequest({ ...actor('reactivate'), mutating: true, body: Empty, reply: ImageReplySchema, ...served });
export const ImageUploadBegin = defineRequest({
  // quotaBytes: the owner's user_storage_quota (-1: unlimited); the session is capped at the room left.
  // stage: `PUT …/stage` (queued → uploading, the data kept for a glance-direct import).
  ...actor('upload-begin'), mutating: true, body: Closed({ quotaBytes: Opt(Int(-1, Number.MAX_SAFE_INTEGER)), stage: Opt(Type.Boolean()) }), reply: AnyObject, ...served });
/** Glance's import, its body checked and its stores resolved by the API (protocols/image-import.ts). */
export const ImageImport = defineRequest({
  ...actor('import'), mutating: true,
  body: Closed({
    method: Type.Union([Type.Literal('glance-direct'), Type.Literal('web-download'), Type.Literal('copy-image')]),
    uri: Opt(Type.String({ maxLength: 2048 })),
    stores: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), { minItems: 1, maxItems: 16 }),
    allStores: Type.Boolean(),
    allStoresMustSucceed: Type.Boolean(),
    quotaBytes: Opt(Int(-1, Number.MAX_SAFE_INTEGER)),
  }),
  reply: ImageReplySchema, ...served,
});
/** The import methods and stores this cluster offers (`/v2/info/import`, `/v2/info/stores`). */
export const ImageInfo = defineRequest({
  ...role('info'), mutating: false, body: Empty,
  reply: Type.Object({
    importMethods: Type.Array(Type.String()),
    stores: Type.Array(Type.Object({ id: Type.String(), description: Type.String(), default: Type.Optional(Type.Literal(true)) })),
  }),
  ...served,
});
export const ImageDownload = defineRequest({
  ...actor('download'), mutating: false, body: Closed({ offset: Count, length: Int(1, 16 * 1024 * 1024) }),
  reply: Type.Object({ data: Type.String(), eof: Type.Boolean(), missing: Type.Optional(Type.Boolean()) }), ...served,
});

/** Glance's member operations on one image; the caller (the API) has checked who may do which. */
export const MEMBER_OPS = ['add', 'list', 'get', 'update', 'remove'] as const;
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export const ImageMembersRequestSchema = Closed({
  op: Type.Union(MEMBER_OPS.map((o) => Type.Literal(o))),
  memberId: Opt(NonEmptyName(255)),
  status: Opt(Type.Union(MEMBER_STATUSES.map((o) => Type.Literal(o)))),
});
export const ImageMemberViewSchema = Type.Object({
  imageId: Uuid, memberId: Type.String(), status: Type.String(), createdAt: Type.String(), updatedAt: Type.String(),
});
export type ImageMemberView = Static<typeof ImageMemberViewSchema>;
export const ImageMembersReplySchema = Type.Object({ members: Type.Array(ImageMemberViewSchema) });
export type ImageMembersReply = Static<typeof ImageMembersReplySchema>;
// `list`/`get` change nothing, but one verb carries every op: all take an idempotency key.
export const ImageMembers = defineRequest({ ...actor('members'), mutating: true, body: ImageMembersRequestSchema, reply: ImageMembersReplySchema, ...served });

/**
 * Glance's metadata definitions (role-level: a namespace is not an actor; the role locks its row).
 * `list`: namespaces the viewer sees; `get`: one; `change`: a MetadefChange (protocols/image-metadefs.ts,
 * checked there); `resource-types`: every known resource type.
 */
export const METADEF_OPS = ['list', 'get', 'change', 'resource-types'] as const;
export const ImageMetadefsRequestSchema = Closed({
  op: Type.Union(METADEF_OPS.map((o) => Type.Literal(o))),
  viewer: Closed({ projectId: Opt(Name(64)), isAdmin: Opt(Type.Boolean()) }),
  namespace: Opt(NonEmptyName(80)),
  change: Opt(AnyObject),
  visibility: Opt(Type.Union([Type.Literal('public'), Type.Literal('private')])),
  resourceTypes: Opt(Type.Array(NonEmptyName(80), { maxItems: 16 })),
  limit: Opt(Int(1, 1000)),
  marker: Opt(NonEmptyName(80)),
});
export const ImageMetadefs = defineRequest({ ...role('metadefs'), mutating: true, body: ImageMetadefsRequestSchema, reply: AnyObject, ...served });

export const ImageVerbs = defineFamily('image', (s) => s.allImages, [
  ImageGet, ImageUpdate, ImageDelete, ImageDeactivate, ImageReactivate, ImageUploadBegin, ImageDownload, ImageMembers, ImageImport,
]);

/** One chunk of an upload session; `offset` is where it starts (0 for `abort`). */
export const UploadChunkSchema = Closed({
  offset: Opt(Count),
  data: Opt(Type.String({ maxLength: 1024 * 1024 })),
  done: Opt(Type.Boolean()),
  abort: Opt(Type.Boolean()),
});
export const ImageUploadChunk = defineRequest({
  verb: 'upload',
  pattern: (s) => `${s.allImages}.*`,
  subject: (s, id, session) => `${s.image(id!, 'upload')}.${session!}`,
  mutating: false, body: UploadChunkSchema, reply: AnyObject,
  servedBy: 'image', calledBy: ['api', 'client'],
});
