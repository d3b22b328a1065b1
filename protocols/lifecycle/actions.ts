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
import { prepareConfirm, prepareMigrate, prepareResize, prepareRevert } from './flows/resize.js';
import type { VmState } from '../states.js';
import { IDLE, refuse, type Guard } from './kit.js';
import { ChangePasswordArgs, ConsoleOutputArgs, CrashDumpArgs, RebuildArgs, RescueArgs, consoleLines } from './rebuild-args.js';
import { BACKUP_ROW, SNAPSHOT_ROW } from './flows/snapshot-actions.js';
import type { ActionSpec } from './action-spec.js';
import { SHELVE_ACTIONS } from './actions-shelve.js';
import { deleteBegins, SOFT_DELETE_ACTIONS } from './actions-soft-delete.js';

export type { ActionSpec };

const NoArgs = Type.Union([Type.Null(), Closed({})]);
const RebootArgs = Closed({ type: Type.Union(['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'].map((v) => Type.Literal(v))) });
const LockArgs = Type.Union([Type.Null(), Closed({ locked_reason: Type.Optional(Name(255)) })]);
const ResizeArgs = Closed({
  flavorRef: Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Integer({ minimum: 0 })]),
  'OS-DCF:diskConfig': Type.Optional(Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')])),
});
/** `{host}` is microversion 2.56's (a requested destination; the scheduler's filters still run on it). */
const MigrateArgs = Type.Union([Type.Null(), Closed({ host: Type.Optional(Type.Union([SubjectToken, Type.Null()])) })]);
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

export type { RestAnswer, RestContext } from './flows/snapshot-actions.js';

const define = <A extends TSchema>(spec: ActionSpec<A>): ActionSpec<A> => spec;

const HARD_REBOOT: Guard = {
  vm: ['active', 'stopped', 'paused', 'suspended', 'error'],
  task: [null, 'rebooting', 'reboot_pending', 'reboot_started', 'rebooting_hard', 'resuming', 'unpausing', 'pausing', 'suspending'],
};
const idle = (...vm: VmState[]): Guard => ({ vm, task: IDLE });
const isHard = (a: Static<typeof RebootArgs>) => a.type.toUpperCase() === 'HARD';
const ANY: Guard = { vm: 'any', task: 'any', launched: false };
/** Nova's snapshot and backup: `@check_instance_state(vm_state=[ACTIVE, STOPPED, PAUSED, SUSPENDED])`. */
const SNAPSHOTTABLE = idle('active', 'stopped', 'paused', 'suspended');

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
  // --- resize ---
  resize: define({
    api: 'resize', nova: 'resize', record: 'resize', event: 'resize', args: ResizeArgs, status: 202,
    guard: idle('active', 'stopped'), begins: 'resize_prep', start: prepareResize,
  }),
  confirmResize: define({
    api: 'confirmResize', nova: 'confirmResize', record: 'confirmResize', event: 'resize_confirm', args: NoArgs, status: 204,
    guard: idle('resized'), begins: 'resize_confirming', start: prepareConfirm,
  }),
  revertResize: define({
    api: 'revertResize', nova: 'revertResize', record: 'revertResize', event: 'resize_revert', args: NoArgs, status: 202,
    guard: idle('resized'), begins: 'resize_reverting', start: prepareRevert,
  }),
  migrate: define({
    api: 'migrate', nova: 'migrate', record: 'migrate', event: 'migrate', args: MigrateArgs, status: 202, admin: true,
    guard: idle('active', 'stopped'), begins: 'resize_prep', start: prepareMigrate,
  }),
  // --- rebuild ---
  rebuild: define({
    api: 'rebuild', nova: 'rebuild', record: 'rebuild', event: 'rebuild', args: RebuildArgs, status: 202,
    guard: idle('active', 'stopped', 'error'), begins: 'rebuilding',
    // A stopped server is stopped again after the rebuild (Nova keeps its vm state).
    context: (a, _by, s) => ({ imageId: a.imageRef, previousVm: s.vmState }),
  }),
  rescue: define({
    api: 'rescue', nova: 'rescue', record: 'rescue', event: 'rescue', args: RescueArgs, status: 200,
    guard: idle('active', 'stopped', 'error'), begins: 'rescuing',
    // The password is kept only while the task runs (a resumed step needs it); the end clears it.
    context: (a, _by, s) => ({ rescueImage: a?.rescue_image_ref ?? s.imageRef, args: { adminPass: a?.adminPass ?? '' } }),
  }),
  unrescue: define({ api: 'unrescue', nova: 'unrescue', record: 'unrescue', event: 'unrescue', args: NoArgs, status: 202, guard: idle('rescued'), begins: 'unrescuing' }),
  changePassword: define({
    api: 'changePassword', nova: 'set_admin_password', record: 'changePassword', event: 'set_password', args: ChangePasswordArgs, status: 202,
    guard: idle('active'), begins: 'updating_password', context: (a) => ({ args: { adminPass: a.adminPass } }),
  }),
  trigger_crash_dump: define({
    api: 'trigger_crash_dump', nova: 'trigger_crash_dump', record: 'trigger_crash_dump', event: 'trigger_crash_dump', args: CrashDumpArgs, status: 202,
    minVersion: 17, guard: idle('active', 'paused', 'rescued', 'resized', 'error'),
    query: { verb: 'crash-dump', budget: 'request', recorded: true },
  }),
  getConsoleOutput: define({
    api: 'os-getConsoleOutput', nova: 'get_console_output', record: 'get_console_output', event: 'console_output', args: ConsoleOutputArgs, status: 200,
    lock: false, guard: ANY, query: { verb: 'console', budget: 'request', body: consoleLines },
  }),
  diagnostics: define({
    api: null, nova: 'get_diagnostics', record: 'get_diagnostics', event: 'diagnostics', args: NoArgs, status: 200,
    admin: true, lock: false, guard: ANY, query: { verb: 'diagnostics', budget: 'request', running: true },
  }),
  // --- snapshot ---
  createImage: define({ api: 'createImage', nova: 'createImage', record: 'createImage', event: 'snapshot', status: 202, guard: SNAPSHOTTABLE, begins: 'image_snapshot_pending', ...SNAPSHOT_ROW }),
  createBackup: define({ api: 'createBackup', nova: 'createBackup', record: 'createBackup', event: 'snapshot', status: 202, guard: SNAPSHOTTABLE, begins: 'image_backup', ...BACKUP_ROW }),
  // --- live migration, evacuate ---
  liveMigrate: define({
    api: 'os-migrateLive', nova: 'os-migrateLive', record: 'live-migration', event: 'live_migration', args: LiveMigrateArgs, status: 202,
    admin: true, guard: idle('active', 'paused'), begins: 'migrating',
    start: (s, a, env) => startLiveMigration(s, { ...(a.host ? { host: a.host } : {}), blockMigration: a.block_migration }, env.newId),
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

