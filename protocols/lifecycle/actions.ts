/**
 * The action table: one row per Nova server action novact drives. The API's supported actions,
 * their bodies and status codes, the NATS verbs of the instance catalog, the client's verb union,
 * the CLI and the instance-action records are all read from here; nothing else lists actions.
 *
 * Guards are Nova's `@check_instance_state` (reference §1.3); `lock` says whether a locked server
 * refuses the action to non-admins (Nova's `check_instance_lock`).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Closed, Name, SubjectToken, Uuid } from '../catalog/common.js';
import { abortPhase, checkLivePhase, startLiveMigration } from './flows/live-migration.js';
import { startEvacuate } from './flows/evacuate.js';
import type { VmState } from '../states.js';
import type { DrivenTaskState } from './driven.js';
import { IDLE, refuse, type ContextPatch, type Env, type Finished, type Guard, type MigrationWrite, type Refusal } from './kit.js';
import type { Caller, LifecycleState } from './state.js';

const NoArgs = Type.Union([Type.Null(), Closed({})]);
const RebootArgs = Closed({ type: Type.Union(['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'].map((v) => Type.Literal(v))) });
const LockArgs = Type.Union([Type.Null(), Closed({ locked_reason: Type.Optional(Name(255)) })]);
const ResetStateArgs = Closed({ state: Type.Union([Type.Literal('active'), Type.Literal('error')]) });
/** os-migrateLive over every microversion (the API refuses what its version does not have). */
const LiveMigrateArgs = Closed({
  host: Type.Union([Type.Null(), SubjectToken]),
  block_migration: Type.Union([Type.Boolean(), Type.Literal('auto')]),
  disk_over_commit: Type.Optional(Type.Boolean()),
  force: Type.Optional(Type.Boolean()),
});
const MigrationRefArgs = Closed({ migration: Uuid });
const AbortArgs = Closed({ migration: Uuid, queued: Type.Optional(Type.Boolean()) });
/** evacuate over every microversion; `targetState: 'stopped'` is 2.95's rule, set by the API. */
const EvacuateArgs = Closed({
  host: Type.Optional(Type.Union([Type.Null(), SubjectToken])),
  adminPass: Type.Optional(Name(255)),
  onSharedStorage: Type.Optional(Type.Boolean()),
  force: Type.Optional(Type.Boolean()),
  targetState: Type.Optional(Type.Literal('stopped')),
});

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
  admin?: true;
  /** A locked server refuses it to non-admins (default true). */
  lock?: false;
  guard: Guard | ((args: Static<A>) => Guard);
  /** The task the action begins (the step table drives it from there). */
  begins?: DrivenTaskState | ((args: Static<A>) => DrivenTaskState);
  /** An action that changes the state at once, without a task (lock, resetState). */
  apply?: (s: LifecycleState, args: Static<A>, by: Caller, env: Env) => LifecycleState | Refusal;
  /** Delete wins over an effect in flight: it takes over the instance and waits for that outcome. */
  preempts?: true;
  /**
   * A task's own start, after the guard: refuse on what the guard cannot see (the source service's
   * state, a migration's phase), or seed the task's context and create its migration record.
   */
  start?: (s: LifecycleState, args: Static<A>, env: Env) => Refusal | { ctx?: ContextPatch; migration?: MigrationWrite; finished?: Finished };
  /** `start` reads `env.hostDown` of the instance's host (the conductor looks it up first). */
  hostState?: true;
}

const define = <A extends TSchema>(spec: ActionSpec<A>): ActionSpec<A> => spec;

const HARD_REBOOT: Guard = {
  vm: ['active', 'stopped', 'paused', 'suspended', 'error'],
  task: [null, 'rebooting', 'reboot_pending', 'reboot_started', 'rebooting_hard', 'resuming', 'unpausing', 'pausing', 'suspending'],
};
const idle = (...vm: VmState[]): Guard => ({ vm, task: IDLE });
const isHard = (a: Static<typeof RebootArgs>) => a.type.toUpperCase() === 'HARD';
const ANY: Guard = { vm: 'any', task: 'any', launched: false };

export const ACTIONS = {
  delete: define({
    api: null, nova: 'delete', record: 'delete', event: 'delete', args: NoArgs, status: 204,
    guard: ANY, begins: 'deleting', preempts: true,
  }),
  stop: define({ api: 'os-stop', nova: 'stop', record: 'stop', event: 'power_off', args: NoArgs, status: 202, guard: idle('active', 'error'), begins: 'powering-off' }),
  start: define({ api: 'os-start', nova: 'start', record: 'start', event: 'power_on', args: NoArgs, status: 202, guard: idle('stopped'), begins: 'powering-on' }),
  reboot: define({
    api: 'reboot', nova: 'reboot', record: 'reboot', event: 'reboot', args: RebootArgs, status: 202,
    guard: (a) => (isHard(a) ? HARD_REBOOT : idle('active')),
    begins: (a) => (isHard(a) ? 'rebooting_hard' : 'rebooting'),
  }),
  pause: define({ api: 'pause', nova: 'pause', record: 'pause', event: 'pause', args: NoArgs, status: 202, guard: idle('active'), begins: 'pausing' }),
  unpause: define({ api: 'unpause', nova: 'unpause', record: 'unpause', event: 'unpause', args: NoArgs, status: 202, guard: idle('paused'), begins: 'unpausing' }),
  suspend: define({ api: 'suspend', nova: 'suspend', record: 'suspend', event: 'suspend', args: NoArgs, status: 202, guard: idle('active'), begins: 'suspending' }),
  resume: define({ api: 'resume', nova: 'resume', record: 'resume', event: 'resume', args: NoArgs, status: 202, guard: idle('suspended'), begins: 'resuming' }),
  lock: define({
    api: 'lock', nova: 'lock', record: 'lock', event: 'lock', args: LockArgs, status: 202, lock: false, guard: ANY,
    apply: (s, a, by) => ({ ...s, locked: { by: by.admin && s.locked?.by !== 'owner' ? 'admin' : 'owner', reason: a?.locked_reason ?? null } }),
  }),
  unlock: define({
    api: 'unlock', nova: 'unlock', record: 'unlock', event: 'unlock', args: NoArgs, status: 202, lock: false, guard: ANY,
    // Only an admin may lift an admin's lock (Nova's unlock_override policy).
    apply: (s, _a, by) => (s.locked?.by === 'admin' && !by.admin ? refuse('unlock', 'locked', 'admin') : { ...s, locked: null }),
  }),
  resetState: define({
    api: 'os-resetState', nova: 'os-resetState', record: 'resetState', event: 'reset_state', args: ResetStateArgs, status: 202,
    admin: true, lock: false, guard: ANY,
    // The operator's escape hatch: whatever was in flight is abandoned (its outcome is then stale).
    apply: (s, a) => ({ ...s, vmState: a.state, taskState: null, running: null, ctx: { attempt: s.ctx.attempt } }),
  }),
  // --- live migration, evacuate ---
  liveMigrate: define({
    api: 'os-migrateLive', nova: 'os-migrateLive', record: 'live-migration', event: 'live_migration', args: LiveMigrateArgs, status: 202,
    admin: true, guard: idle('active', 'paused'), begins: 'migrating',
    start: (s, a, env) => startLiveMigration(s, { ...(a.host ? { host: a.host } : {}), blockMigration: a.block_migration }, env.newUuid),
  }),
  /** `POST /servers/{id}/migrations/{mid}/action {force_complete}` (2.22): the transfer is forced to converge. */
  liveMigrationForceComplete: define({
    api: null, nova: 'force_complete', record: 'live_migration_force_complete', event: 'live_migration_force_complete', args: MigrationRefArgs, status: 202,
    admin: true, guard: { vm: ['active'], task: ['migrating'] },
    // The fake transfer has nothing to switch (post-copy, pause); the request is kept on the task.
    apply: (s, a) => checkLivePhase(s, 'force_complete', a.migration, ['running']) ?? { ...s, ctx: { ...s.ctx, args: { ...s.ctx.args, forceComplete: true } } },
  }),
  /** `DELETE /servers/{id}/migrations/{mid}` (2.24; queued and preparing ones from 2.65, `queued`). */
  liveMigrationAbort: define({
    api: null, nova: 'abort live migration', record: 'live_migration_cancel', event: 'live_migration_abort', args: AbortArgs, status: 202,
    admin: true, guard: { vm: 'any', task: ['migrating'] }, begins: 'migrating',
    start: (s, a) => checkLivePhase(s, 'abort live migration', a.migration, a.queued ? ['running', 'queued', 'preparing'] : ['running']) ?? { ctx: { phase: abortPhase(s) }, finished: { action: 'live-migration', result: 'Error', message: 'aborted' } },
  }),
  evacuate: define({
    api: 'evacuate', nova: 'evacuate', record: 'evacuate', event: 'evacuate', args: EvacuateArgs, status: 200,
    admin: true, guard: { vm: ['active', 'stopped', 'error'], task: 'any' }, begins: 'rebuilding', hostState: true,
    start: (s, a, env) => startEvacuate(s, { ...(a.host ? { host: a.host } : {}), ...(a.targetState ? { targetState: a.targetState } : {}) }, env),
  }),
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows differ in their argument schema
} satisfies Record<string, ActionSpec<any>>;

export type ActionName = keyof typeof ACTIONS;
export type ActionArgs<N extends ActionName> = Static<(typeof ACTIONS)[N]['args']>;
export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

const BY_API = new Map<string, ActionName>(ACTION_NAMES.flatMap((n) => (ACTIONS[n].api ? [[ACTIONS[n].api!, n] as const] : [])));
/** The action behind a `POST /servers/{id}/action` key, if novact drives it. */
export const actionOfApi = (api: string): ActionName | undefined => BY_API.get(api);
export const isActionName = (verb: string): verb is ActionName => Object.hasOwn(ACTIONS, verb);

/** Every action key Nova's `POST /servers/{id}/action` knows (the ones not in ACTIONS answer 501). */
export const NOVA_SERVER_ACTIONS: readonly string[] = [
  'os-stop', 'os-start', 'reboot', 'pause', 'unpause', 'suspend', 'resume', 'resize', 'confirmResize', 'revertResize', 'migrate',
  'os-migrateLive', 'evacuate', 'rebuild', 'rescue', 'unrescue', 'shelve', 'shelveOffload', 'unshelve', 'createImage',
  'createBackup', 'lock', 'unlock', 'os-getConsoleOutput', 'os-resetState', 'forceDelete', 'restore', 'trigger_crash_dump',
  'changePassword', 'addSecurityGroup', 'removeSecurityGroup', 'os-getVNCConsole', 'os-getSPICEConsole', 'os-getSerialConsole',
  'os-getRDPConsole', 'addFloatingIp', 'removeFloatingIp', 'addFixedIp', 'removeFixedIp', 'os-resetNetwork', 'injectNetworkInfo',
];

