/** Instance actors (`<root>.instance.<uuid>.<verb>`), answered by the conductor through one wildcard endpoint. */
import { Type, type Static } from '@sinclair/typebox';
import { defineFamily, defineRequest } from './define.js';
import { Closed, Empty, Int, Name, NonEmptyName, Opt, StringMap, Tag, Tags } from './common.js';
import { InstanceActionViewSchema, ServerViewSchema } from './views.js';

export const RebootRequestSchema = Closed({ type: Opt(Type.Union([Type.Literal('SOFT'), Type.Literal('HARD')])) });
export interface RebootRequest { type?: 'SOFT' | 'HARD' }
/** Actions answer once the action is accepted (Nova's 202), with the instance as it is then. */
export const ServerReplySchema = Type.Object({ server: ServerViewSchema });
export type ServerReply = Static<typeof ServerReplySchema>;
/** Newest first, at most `limit` (1000); `more` when older ones follow (continue with the last as marker). */
export const ActionsReplySchema = Type.Object({ actions: Type.Array(InstanceActionViewSchema), more: Type.Optional(Type.Boolean()) });
export type ActionsReply = Static<typeof ActionsReplySchema>;
export const ActionsRequestSchema = Closed({ limit: Opt(Int(1, 1000)), marker: Opt(NonEmptyName(255)), requestId: Opt(NonEmptyName(255)) });
export interface ActionsRequest { limit?: number; marker?: string; requestId?: string }

export const UpdateRequestSchema = Closed({
  name: Opt(NonEmptyName(255)),
  // Counts are the quota's (metadata_items may be unlimited); the bytes are bounded by the conductor (128 KiB).
  setMetadata: Opt(StringMap(1000, 255, 255)),
  mergeMetadata: Opt(StringMap(1000, 255, 255)),
  deleteMetadataKey: Opt(NonEmptyName(255)),
  maxMetadataItems: Opt(Int(-1, 100_000)),
  /** Tags: replace all (`[]` deletes all), add one, delete one (server-tags.ts; Nova's 409 guard applies). */
  setTags: Opt(Tags),
  addTag: Opt(Tag),
  deleteTag: Opt(Tag),
  /** `clearDescription` sets it to null (a null `description` is read as absent, like every Opt field). */
  description: Opt(Name(255)),
  clearDescription: Opt(Type.Boolean()),
  hostname: Opt(NonEmptyName(63)),
  accessIPv4: Opt(NonEmptyName(64)),
  accessIPv6: Opt(NonEmptyName(64)),
});

const instance = (verb: string) => ({
  verb,
  pattern: (s: { allInstances: string }) => s.allInstances,
  subject: (s: { instance(id: string, v: string): string }, id?: string) => s.instance(id!, verb),
});
const served = { servedBy: 'conductor', calledBy: ['api', 'client'] } as const;

export const InstanceGet = defineRequest({ ...instance('get'), mutating: false, body: Empty, reply: ServerReplySchema, ...served });
export const InstanceActions = defineRequest({ ...instance('actions'), mutating: false, body: ActionsRequestSchema, reply: ActionsReplySchema, ...served });
export const InstanceDelete = defineRequest({ ...instance('delete'), mutating: true, body: Empty, reply: ServerReplySchema, ...served });
export const InstanceStop = defineRequest({ ...instance('stop'), mutating: true, body: Empty, reply: ServerReplySchema, ...served });
export const InstanceStart = defineRequest({ ...instance('start'), mutating: true, body: Empty, reply: ServerReplySchema, ...served });
export const InstanceReboot = defineRequest({ ...instance('reboot'), mutating: true, body: RebootRequestSchema, reply: ServerReplySchema, ...served });
export const InstanceUpdate = defineRequest({ ...instance('update'), mutating: true, body: UpdateRequestSchema, reply: ServerReplySchema, ...served });

export const InstanceVerbs = defineFamily('instance', (s) => s.allInstances, [
  InstanceGet, InstanceActions, InstanceDelete, InstanceStop, InstanceStart, InstanceReboot, InstanceUpdate,
]);
