/** The shape of one row of the action table (actions.ts), in a file of its own so the rows of several files can share it. */
import type { Static, TSchema } from '@sinclair/typebox';
import type { DrivenTaskState } from './driven.js';
import type { ContextPatch, Env, Finished, Guard, MigrationWrite, Refusal } from './kit.js';
import type { QuerySpec } from './query.js';
import type { Caller, LifecycleState } from './state.js';
import type { RestAnswer, RestContext } from './flows/snapshot-actions.js';

export interface ActionSpec<A extends TSchema = TSchema> {
  /** The key in `POST /servers/{id}/action`, or null for an action with its own route (delete). */
  api: string | null;
  /** The name in Nova's 409 `Cannot '<nova>' instance …`. */
  nova: string;
  /** The instance-action record (`os-instance-actions`). */
  record: string;
  /** The notification prefix (`instance.<event>.start|end|error`). */
  event: string;
  /** The action's value in the request body. */
  args: A;
  status: 200 | 202 | 204;
  /** Lowest compute microversion (2.N, as N) that has the action. */
  minVersion?: number;
  /** Lowest microversion that has these arguments (unshelve's zone 2.77, host 2.91); older ones are a 400. */
  argsMinVersion?: (args: Static<A>) => number | undefined;
  admin?: true;
  /** Arguments only an admin may give (unshelve to a named host): refused to others as `admin` is. */
  adminIf?: (args: Static<A>) => boolean;
  /** The action may begin without a host (unshelve of an offloaded server schedules one). */
  hostless?: true;
  /** A locked server refuses it to non-admins (default true). */
  lock?: false;
  guard: Guard | ((args: Static<A>) => Guard);
  /** The task the action begins (the step table drives it from there); may depend on the settings and the state (soft delete). */
  begins?: DrivenTaskState | ((args: Static<A>, env: Env, s: LifecycleState) => DrivenTaskState);
  /** An action that changes the state at once, without a task (lock, resetState). */
  apply?: (s: LifecycleState, args: Static<A>, by: Caller, env: Env) => LifecycleState | Refusal;
  /** Delete wins over an effect in flight: it takes over the instance and waits for that outcome. */
  preempts?: true;
  /** The task context the action begins with, from its arguments and caller (what its steps need). */
  context?: (args: Static<A>, by: Caller, s: LifecycleState, env: Env) => ContextPatch;
  /** A call on the guest's host answered with the host's reply, no state change (query.ts). */
  query?: QuerySpec<Static<A>>;
  /** What the accepted action answers besides the server (the reply's `result`), from the state it began. */
  result?: (s: LifecycleState) => Record<string, unknown>;
  /**
   * A task's own start, after the guard: refuse on what the guard cannot see (arguments that do not
   * fit the instance, the source service's state, a migration's phase: attr `args` is a 400), or seed
   * the task's context, create its migration record, or close the instance action it takes over.
   */
  start?: (s: LifecycleState, args: Static<A>, env: Env) => Refusal | { ctx?: ContextPatch; migration?: MigrationWrite; finished?: Finished };
  /** `start` reads `env.hostDown` of the instance's host (the conductor looks it up first). */
  hostState?: true;
  /**
   * Answer only once the task's first step has answered (its effect's outcome): Nova creates a
   * snapshot's image before its 202, so a client may read the image at once; a failed first step
   * is the request's error.
   */
  holdReply?: true;
  /** The REST answer's body and headers, from that result (absent: no body). */
  respond?: (result: Record<string, unknown>, args: Static<A>, rest: RestContext) => RestAnswer;
}
