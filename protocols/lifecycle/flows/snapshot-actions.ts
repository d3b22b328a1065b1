/**
 * The rows of createImage and createBackup (actions.ts spreads them): Nova's bodies, the task
 * context the action begins with (the image id is chosen here, once, so a resumed step fills the
 * same image), the reply's `image_id`, and the REST answer (`{image_id}` from 2.45, before that a
 * `Location` header naming the image).
 */
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Closed, Int, MetadataMap, NonEmptyName } from '../../catalog/common.js';
import type { ContextPatch, Env } from '../kit.js';
import type { Caller, LifecycleState, SnapshotTask } from '../state.js';

/** What the REST route knows when it shapes an action's answer. */
export interface RestContext {
  /** The request's compute microversion is at least 2.`minor`. */
  atLeast(minor: number): boolean;
  /** The compute API's URL of an image (Nova's `Location`). */
  imageUrl(id: string): string;
}
export interface RestAnswer {
  body?: unknown;
  headers?: Record<string, string>;
}

/** Nova's rotation is a non-negative integer, or a string of digits. */
const MAX_ROTATION = 1_000_000;
const Rotation = Type.Union([Int(0, 2_147_483_647), Type.String({ pattern: '^[0-9]{1,10}$' })]);

export const CreateImageArgs = Closed({ name: NonEmptyName(255), metadata: Type.Optional(MetadataMap()) });
export const CreateBackupArgs = Closed({
  name: NonEmptyName(255),
  backup_type: NonEmptyName(255),
  rotation: Rotation,
  metadata: Type.Optional(MetadataMap()),
});

function task(a: { name: string; metadata?: Record<string, string> }, by: Caller, env: Env): SnapshotTask {
  return {
    imageId: (env.newId ?? randomUUID)(),
    name: a.name,
    ...(a.metadata && Object.keys(a.metadata).length > 0 ? { metadata: a.metadata } : {}),
    userId: by.userId,
    ...(by.limits ? { limits: by.limits } : {}),
  };
}

const imageResult = (s: LifecycleState): Record<string, unknown> => ({ imageId: s.ctx.snapshot?.imageId });

function answer(r: Record<string, unknown>, rest: RestContext, location: boolean): RestAnswer {
  const id = String(r.imageId);
  if (rest.atLeast(45)) return { body: { image_id: id } };
  return location ? { headers: { Location: rest.imageUrl(id) } } : {};
}

export const SNAPSHOT_ROW = {
  args: CreateImageArgs,
  holdReply: true as const,
  context: (a: Static<typeof CreateImageArgs>, by: Caller, _s: LifecycleState, env: Env): ContextPatch => ({ snapshot: task(a, by, env) }),
  result: imageResult,
  respond: (r: Record<string, unknown>, _a: Static<typeof CreateImageArgs>, rest: RestContext) => answer(r, rest, true),
};

export const BACKUP_ROW = {
  args: CreateBackupArgs,
  holdReply: true as const,
  context: (a: Static<typeof CreateBackupArgs>, by: Caller, _s: LifecycleState, env: Env): ContextPatch => ({
    snapshot: { ...task(a, by, env), backup: { type: a.backup_type, rotation: rotationOf(a.rotation) } },
  }),
  result: imageResult,
  // Before 2.45 Nova names the image only when the rotation keeps it (rotation > 0).
  respond: (r: Record<string, unknown>, a: Static<typeof CreateBackupArgs>, rest: RestContext) => answer(r, rest, rotationOf(a.rotation) > 0),
};

export const rotationOf = (r: number | string): number => Math.min(MAX_ROTATION, Number(r));
