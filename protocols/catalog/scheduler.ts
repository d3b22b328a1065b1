/**
 * The scheduler role: placement (`<root>.scheduler.<verb>`, queue group `scheduler`) and the
 * replica-to-replica claim deltas, which every replica hears.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineMessage, defineRequest } from './define.js';
import { Closed, Count, Empty, Int, Name, ProjectId, Resources, StringMap, SubjectToken, Uuid } from './common.js';

const HintValue = Type.Union([Uuid, Type.Array(Uuid, { minItems: 1, maxItems: 100 })]);
export const SchedulerHintsSchema = Closed({
  group: Type.Optional(Uuid),
  same_host: Type.Optional(HintValue),
  different_host: Type.Optional(HintValue),
});

export const SelectRequestSchema = Closed({
  instanceUuid: Uuid,
  projectId: ProjectId,
  resources: Resources,
  flavor: Type.Object({ id: Name(255), name: Name(255), extraSpecs: Type.Optional(StringMap(256)) }),
  image: Type.Object({ id: Name(255), properties: Type.Optional(StringMap(256)) }),
  availabilityZone: Type.Optional(Type.Union([Name(255), Type.Null()])),
  ignoreHosts: Type.Optional(Type.Array(SubjectToken, { maxItems: 1000 })),
  /** Nova's scheduler hints: `group` (server group uuid), `same_host`, `different_host`. */
  schedulerHints: Type.Optional(Type.Union([SchedulerHintsSchema, Type.Null()])),
  /** Chosen host plus alternates (Nova: max_attempts). */
  count: Type.Optional(Int(1, 10)),
  /** A move (resize, cold/live migration, evacuate): see `MoveSpecSchema`. Not allowed in a batch. */
  move: Type.Optional(Closed({
    /** The migration record's uuid: the consumer that holds the source allocation until confirm or revert. */
    migrationUuid: Uuid,
    /** Where the instance is now (checked against the ledger's view). */
    sourceHost: SubjectToken,
    /** Nova's `allow_resize_to_same_host` (default false): may the destination be the source? */
    allowSameHost: Type.Optional(Type.Boolean()),
    /** A requested destination (migrate 2.56, os-migrateLive `host`): the filters still run on it. */
    targetHost: Type.Optional(SubjectToken),
  })),
});
/** The wire body; `SelectRequest` is the normalised form the placer works on (defaults filled in). */
export type SelectRequestBody = Static<typeof SelectRequestSchema>;
export interface SelectRequest {
  instanceUuid: string;
  projectId: string;
  resources: Static<typeof Resources>;
  flavor: { id: string; name: string; extraSpecs: Record<string, string> };
  image: { id: string; properties: Record<string, string> };
  availabilityZone: string | null;
  ignoreHosts: string[];
  schedulerHints?: Record<string, string | string[]>;
  count?: number;
  move?: MoveSpec;
}
export interface MoveSpec {
  migrationUuid: string;
  sourceHost: string;
  allowSameHost: boolean;
  targetHost?: string;
}

export const SelectReplySchema = Type.Object({ host: SubjectToken, alternates: Type.Array(SubjectToken) });
export type SelectReply = Static<typeof SelectReplySchema>;

export const MAX_BATCH = 100;
export const SelectBatchRequestSchema = Closed({ requests: Type.Array(SelectRequestSchema, { minItems: 1, maxItems: MAX_BATCH }) });
export interface SelectBatchRequest { requests: SelectRequest[] }
export const SelectBatchReplySchema = Type.Object({ placements: Type.Array(SelectReplySchema) });
export type SelectBatchReply = Static<typeof SelectBatchReplySchema>;

/** Move (or create) the instance's allocation onto `host`; fails if it does not fit. */
export const ClaimRequestSchema = Closed({ instanceUuid: Uuid, projectId: ProjectId, host: SubjectToken, resources: Resources });
export type ClaimRequest = Static<typeof ClaimRequestSchema>;
export const ClaimReplySchema = Type.Object({ host: SubjectToken });
export type ClaimReply = Static<typeof ClaimReplySchema>;
/** `instanceUuid` names any consumer: an instance, or a migration (evacuate releases the source this way). */
export const ReleaseRequestSchema = Closed({ instanceUuid: Uuid });
export type ReleaseRequest = Static<typeof ReleaseRequestSchema>;
export const ReleaseReplySchema = Type.Object({ released: Count });

/**
 * Claims `host` for the instance of an existing (or new) migration: the instance's allocation moves
 * to the migration consumer if it has not yet, and the instance's destination is replaced by `host`
 * (a retry onto an alternate, or a forced destination). No filters; the ledger still checks it fits.
 */
export const MoveClaimRequestSchema = Closed({
  instanceUuid: Uuid, migrationUuid: Uuid, projectId: ProjectId, host: SubjectToken, resources: Resources,
  /** The instance's server group, whose hard policy the destination must keep. */
  group: Type.Optional(Uuid),
});
export type MoveClaimRequest = Static<typeof MoveClaimRequestSchema>;
export const MoveClaimReplySchema = Type.Object({ host: SubjectToken });
export const ConfirmMoveRequestSchema = Closed({ migrationUuid: Uuid });
export type ConfirmMoveRequest = Static<typeof ConfirmMoveRequestSchema>;
/** `released`: 1 when the source allocation was freed now, 0 when there was none (already confirmed). */
export const ConfirmMoveReplySchema = Type.Object({ released: Count });
export const RevertMoveRequestSchema = Closed({ instanceUuid: Uuid, migrationUuid: Uuid });
export type RevertMoveRequest = Static<typeof RevertMoveRequestSchema>;
/** Where the instance is allocated afterwards (its source), null when it holds nothing. */
export const RevertMoveReplySchema = Type.Object({ host: Type.Union([SubjectToken, Type.Null()]) });

const served = { servedBy: 'scheduler', calledBy: ['conductor', 'client'] } as const;

export const Select = defineRequest({ verb: 'select', pattern: (s) => s.scheduler('select'), mutating: true, body: SelectRequestSchema, reply: SelectReplySchema, ...served });
export const SelectBatch = defineRequest({ verb: 'select-batch', pattern: (s) => s.scheduler('select-batch'), mutating: true, body: SelectBatchRequestSchema, reply: SelectBatchReplySchema, ...served });
export const Claim = defineRequest({ verb: 'claim', pattern: (s) => s.scheduler('claim'), mutating: true, body: ClaimRequestSchema, reply: ClaimReplySchema, ...served });
export const Release = defineRequest({ verb: 'release', pattern: (s) => s.scheduler('release'), mutating: true, body: ReleaseRequestSchema, reply: ReleaseReplySchema, ...served });
export const MoveClaim = defineRequest({ verb: 'move-claim', pattern: (s) => s.scheduler('move-claim'), mutating: true, body: MoveClaimRequestSchema, reply: MoveClaimReplySchema, ...served });
export const ConfirmMove = defineRequest({ verb: 'confirm-move', pattern: (s) => s.scheduler('confirm-move'), mutating: true, body: ConfirmMoveRequestSchema, reply: ConfirmMoveReplySchema, ...served });
export const RevertMove = defineRequest({ verb: 'revert-move', pattern: (s) => s.scheduler('revert-move'), mutating: true, body: RevertMoveRequestSchema, reply: RevertMoveReplySchema, ...served });
/** A deleted compute service: the scheduler drops the host from memory and its inventory from the ledger. */
export const ForgetHost = defineRequest({
  verb: 'forget-host', pattern: (s) => s.scheduler('forget-host'), mutating: true, body: Closed({ host: SubjectToken }),
  reply: Type.Object({ host: SubjectToken }), servedBy: 'scheduler', calledBy: ['conductor'],
});
export const SchedulerGet = defineRequest({
  verb: 'get', pattern: (s) => s.scheduler('get'), mutating: false, body: Empty,
  reply: Type.Object({ replica: Type.String(), hosts: Count, decisions: Count, noValidHost: Count, lostClaims: Count, claimBatches: Count, claimsBatched: Count }),
  servedBy: 'scheduler', calledBy: ['client'],
});

/** What one replica tells the others after its ledger commits. */
export const DeltaSchema = Type.Object({
  replica: Type.String({ minLength: 1, maxLength: 64 }),
  claims: Type.Array(Type.Object({ consumer: Uuid, host: SubjectToken, resources: Resources, group: Type.Optional(Uuid) }), { maxItems: 100_000 }),
  releases: Type.Array(Uuid, { maxItems: 100_000 }),
});
export type Delta = Static<typeof DeltaSchema>;

export const DeltaMsg = defineMessage({
  name: 'scheduler.delta',
  pattern: (s) => s.scheduler('delta'),
  body: DeltaSchema,
  publishedBy: ['scheduler'],
  subscribedBy: ['scheduler'],
});

export const SCHEDULER_REQUESTS = [Select, SelectBatch, Claim, Release, MoveClaim, ConfirmMove, RevertMove, ForgetHost, SchedulerGet] as const;
