/**
 * Migration records over the bus (conductor-owned, read by the API): `conductor.migrations` lists
 * (admin filters, paging newest first, or one instance's), `conductor.migration` gets one.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineRequest } from './define.js';
import { Closed, Count, EpochMs, Int, Name, Opt, ProjectId, SubjectToken, Uuid } from './common.js';

const MigrationTypeSchema = Type.Union(['migration', 'resize', 'live-migration', 'evacuation'].map((t) => Type.Literal(t)));
const Bytes = Type.Union([Count, Type.Null()]);
const NullableName = Type.Union([Name(255), Type.Null()]);

export const MigrationViewSchema = Type.Object({
  id: Count,
  uuid: Uuid,
  instanceUuid: Uuid,
  sourceCompute: NullableName,
  destCompute: NullableName,
  sourceNode: NullableName,
  destNode: NullableName,
  oldInstanceTypeId: NullableName,
  newInstanceTypeId: NullableName,
  migrationType: MigrationTypeSchema,
  status: Name(32),
  projectId: ProjectId,
  userId: Name(64),
  memoryTotal: Bytes, memoryProcessed: Bytes, memoryRemaining: Bytes,
  diskTotal: Bytes, diskProcessed: Bytes, diskRemaining: Bytes,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type MigrationView = Static<typeof MigrationViewSchema>;

export const MigrationListRequestSchema = Closed({
  /** Source or destination compute. */
  host: Opt(SubjectToken),
  status: Opt(Name(32)),
  instanceUuid: Opt(Uuid),
  migrationType: Opt(MigrationTypeSchema),
  /** Epoch ms: updated at or after (`changes-since`), before (`changes-before`, 2.66). */
  changesSince: Opt(EpochMs),
  changesBefore: Opt(EpochMs),
  projectId: Opt(ProjectId),
  userId: Opt(Name(64)),
  /** Only migrations still under way (`/servers/{id}/migrations` lists in-progress live migrations). */
  inProgress: Opt(Type.Boolean()),
  limit: Opt(Int(1, 1000)),
  /** The uuid of the last migration of the previous page. */
  marker: Opt(Uuid),
});
export type MigrationListRequest = Static<typeof MigrationListRequestSchema>;
export const MigrationListReplySchema = Type.Object({ migrations: Type.Array(MigrationViewSchema), more: Type.Boolean() });
export type MigrationListReply = Static<typeof MigrationListReplySchema>;

export const MigrationGetRequestSchema = Closed({ id: Type.Union([Count, Uuid]), instanceUuid: Opt(Uuid) });
export type MigrationGetRequest = Static<typeof MigrationGetRequestSchema>;
export const MigrationGetReplySchema = Type.Object({ migration: MigrationViewSchema });

const served = { servedBy: 'conductor', calledBy: ['api', 'client'] } as const;
export const MigrationList = defineRequest({
  verb: 'migrations', pattern: (s) => s.conductor('migrations'), mutating: false, body: MigrationListRequestSchema, reply: MigrationListReplySchema, ...served,
});
export const MigrationGet = defineRequest({
  verb: 'migration', pattern: (s) => s.conductor('migration'), mutating: false, body: MigrationGetRequestSchema, reply: MigrationGetReplySchema, ...served,
});

export const MIGRATION_REQUESTS = [MigrationList, MigrationGet] as const;
