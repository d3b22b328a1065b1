/**
 * The action table: one row per Nova server action novact drives. The API's supported actions,
 * their bodies and status codes, the NATS verbs of the instance catalog, the client's verb union,
 * the CLI and the instance-action records are all read from here; nothing else lists actions.
 *
 * Guards are Nova's `@check_instance_state` (reference §1.3); `lock` says whether a locked server
 * refuses the action to non-admins (Nova's `check_instance_lock`).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Closed, Name } from '../catalog/common.js';
import type { VmState } from '../states.js';
import type { DrivenTaskState } from './driven.js';
import { IDLE, refuse, type Env, type Guard, type Refusal } from './kit.js';
import type { Caller, LifecycleState } from './state.js';
import { SHELVE_ACTIONS } from './actions-shelve.js';
import { deleteBegins, SOFT_DELETE_ACTIONS } from './actions-soft-delete.js';

const NoArgs = Type.Union([Type.Null(), Closed({})]);
const RebootArgs = Closed({ type: Type.Union(['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'].map((v) => Type.Literal(v))) });
const LockArgs = Type.Union([Type.Null(), Closed({ locked_reason: Type.Optional(Name(255)) })]);
const ResetStateArgs = Closed({ state: Type.Union([Type.Literal('active'), Type.Literal('error')]) });

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
    guard: ANY, begins: deleteBegins, preempts: true,
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
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows differ in their argument schema
  // --- shelve ---
  ...SHELVE_ACTIONS,
  // --- soft delete ---
  ...SOFT_DELETE_ACTIONS,
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

