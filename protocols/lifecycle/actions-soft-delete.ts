/**
 * Soft delete (Nova's `reclaim_instance_interval` > 0): DELETE makes a launched, idle server
 * SOFT_DELETED (powered off, capacity kept) until `restore`, `forceDelete` or the reclaim sweep.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { Closed } from '../catalog/common.js';
import type { ActionSpec } from './action-spec.js';
import type { DrivenTaskState } from './driven.js';
import { IDLE, type Env, type Guard } from './kit.js';
import type { LifecycleState } from './state.js';

const NoArgs = Type.Union([Type.Null(), Closed({})]);
const define = <A extends TSchema>(spec: ActionSpec<A>): ActionSpec<A> => spec;
const ANY: Guard = { vm: 'any', task: 'any', launched: false };

/**
 * Nova's servers API soft-deletes when the interval is set and falls back to a real delete when
 * soft_delete refuses (never launched); a server without a guest, one busy with a task, or one
 * already soft-deleted is deleted outright.
 */
export function deleteBegins(_a: unknown, env: Env, s: LifecycleState): DrivenTaskState {
  const soft = env.config.reclaimInstanceIntervalS > 0 && s.launchedAt !== null && s.host !== null && s.taskState === null && s.vmState !== 'soft-delete';
  return soft ? 'soft-deleting' : 'deleting';
}

export const SOFT_DELETE_ACTIONS = {
  restore: define({
    api: 'restore', nova: 'restore', record: 'restore', event: 'restore', args: NoArgs, status: 202,
    guard: { vm: ['soft-delete'], task: IDLE }, begins: 'restoring',
  }),
  /** Nova's force_delete: any vm and task state, launched or not, and recorded as a delete. */
  forceDelete: define({
    api: 'forceDelete', nova: 'force_delete', record: 'delete', event: 'delete', args: NoArgs, status: 202,
    guard: ANY, begins: 'deleting', preempts: true,
  }),
};
