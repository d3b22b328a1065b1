/** Instance actors (`<root>.instance.<uuid>.<verb>`), answered by the conductor through one wildcard endpoint. */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { defineFamily, defineRequest, type RequestDef } from './define.js';
import { ACTIONS, ACTION_NAMES, type ActionName } from '../lifecycle/actions.js';
import { Closed, Empty, Int, MetadataMap, Name, NonEmptyName, Opt, Tag, Tags } from './common.js';
import { InstanceActionViewSchema, ServerViewSchema } from './views.js';

/**
 * Actions answer once the action is accepted (Nova's 202), with the instance as it is then, and
 * what the action's row adds (`result`: createImage's `imageId`, a query's host answer).
 */
export const ServerReplySchema = Type.Object({ server: ServerViewSchema, result: Type.Optional(Type.Record(Type.String(), Type.Unknown())) });
export type ServerReply = Static<typeof ServerReplySchema>;
/** Newest first, at most `limit` (1000); `more` when older ones follow (continue with the last as marker). */
export const ActionsReplySchema = Type.Object({ actions: Type.Array(InstanceActionViewSchema), more: Type.Optional(Type.Boolean()) });
export type ActionsReply = Static<typeof ActionsReplySchema>;
export const ActionsRequestSchema = Closed({ limit: Opt(Int(1, 1000)), marker: Opt(NonEmptyName(255)), requestId: Opt(NonEmptyName(255)) });
export interface ActionsRequest { limit?: number; marker?: string; requestId?: string }

export const UpdateRequestSchema = Closed({
  name: Opt(NonEmptyName(255)),
  // Counts are the quota's (metadata_items may be unlimited); the bytes are bounded by the conductor (128 KiB).
  setMetadata: Opt(MetadataMap({ maxProperties: 1000 })),
  mergeMetadata: Opt(MetadataMap({ maxProperties: 1000 })),
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
export const InstanceUpdate = defineRequest({ ...instance('update'), mutating: true, body: UpdateRequestSchema, reply: ServerReplySchema, ...served });

/** Who asks (set by the API from the token; absent for operators' own client, who act as admin). */
export const CallerSchema = Closed({
  userId: NonEmptyName(64), projectId: NonEmptyName(64), admin: Type.Boolean(),
  /** The API's image quotas for the caller (-1: unlimited), which a snapshot counts against. */
  limits: Type.Optional(Closed({ images: Type.Optional(Int(-1, 2_147_483_647)), imageBytes: Type.Optional(Int(-1, Number.MAX_SAFE_INTEGER)) })),
});

/** One verb per row of the action table: `{args, by}`, args as the action's own schema. */
export const InstanceActionDefs = Object.fromEntries(
  ACTION_NAMES.map((name) => [
    name,
    defineRequest({
      ...instance(name), mutating: true, reply: ServerReplySchema, ...served,
      // Arguments may be left out only where the action takes none (its schema admits null).
      body: Closed({ args: Value.Check(ACTIONS[name].args, null) ? Type.Optional(ACTIONS[name].args) : ACTIONS[name].args, by: Type.Optional(CallerSchema) }),
    }),
  ]),
) as unknown as Record<ActionName, RequestDef>;

export const InstanceVerbs = defineFamily('instance', (s) => s.allInstances, [
  InstanceGet, InstanceActions, InstanceUpdate, ...Object.values(InstanceActionDefs),
]);
