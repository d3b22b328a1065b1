/**
 * The instance lifecycle against Nova's guard table (reference §1.3), exhaustively on data, and its
 * step machine: tokens, delete-wins, resume. The expected tables are written out here,
 * independently of protocols/lifecycle/.
 */
import t, { type Test } from 'tap';
import {
  ACTIONS, ACTION_NAMES, DEFAULT_ENV, DEFAULT_LIFECYCLE_CONFIG, DRIVEN_TASK_STATES, STEPS, initialState, transition,
  type ActionName, type Env, type TaskContext, type Caller, type Effect, type LifecycleEvent, type LifecycleState, type Outcome, type Transition,
} from '../../protocols/lifecycle.js';
import { PowerState, TASK_STATES, VM_STATES, apiStatus, type ApiStatus, type TaskState, type VmState } from '../../protocols/states.js';

// ---------------------------------------------------------------------------------------------
// Nova's vocabulary and guard table, spelled out independently.

const VMS: VmState[] = [
  'active', 'building', 'paused', 'suspended', 'stopped', 'rescued', 'resized',
  'soft-delete', 'deleted', 'error', 'shelved', 'shelved_offloaded',
];
const TASKS: TaskState[] = [
  'scheduling', 'block_device_mapping', 'networking', 'spawning', 'image_snapshot', 'image_snapshot_pending',
  'image_pending_upload', 'image_uploading', 'image_backup', 'updating_password', 'resize_prep', 'resize_migrating',
  'resize_migrated', 'resize_finish', 'resize_reverting', 'resize_confirming', 'rebooting', 'reboot_pending',
  'reboot_started', 'rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard', 'pausing', 'unpausing',
  'suspending', 'resuming', 'powering-off', 'powering-on', 'rescuing', 'unrescuing', 'rebuilding',
  'rebuild_block_device_mapping', 'rebuild_spawning', 'migrating', 'deleting', 'soft-deleting', 'restoring',
  'shelving', 'shelving_image_pending_upload', 'shelving_image_uploading', 'shelving_offloading', 'unshelving',
];
const TASKS_OR_IDLE: (TaskState | null)[] = [null, ...TASKS];

/** One case per Nova guard: the row name, its arguments, and Nova's `@check_instance_state`. */
interface Case {
  action: ActionName; args: unknown; vm: VmState[] | 'any'; task: (TaskState | null)[] | 'any'; nova: string; begins: TaskState | null;
  /** What the action needs besides the guard: the task's context (a move under way), the environment. */
  ctx?: Partial<TaskContext>; env?: Partial<Env>;
}
const MOVE_ENV: Env = {
  now: 0, config: DEFAULT_LIFECYCLE_CONFIG, newId: () => 'mig-1',
  flavor: (ref) => (ref === '2' ? { id: '2', name: 'm1.small', vcpus: 1, memoryMb: 2048, rootGb: 20, ephemeralGb: 0 } : undefined),
};
const FINISHED_MOVE: Partial<TaskContext> = { previousVm: 'active', migration: { uuid: 'mig-1', type: 'resize', source: 'h0', dest: 'h1' } };
const LIVE = { uuid: '00000000-0000-4000-8000-000000000001', type: 'live-migration' as const, source: 'h1', dest: 'h2' };
const CASES: Case[] = [
  { action: 'delete', args: null, vm: 'any', task: 'any', nova: 'delete', begins: 'deleting' },
  { action: 'stop', args: null, vm: ['active', 'error'], task: [null], nova: 'stop', begins: 'powering-off' },
  { action: 'start', args: null, vm: ['stopped'], task: [null], nova: 'start', begins: 'powering-on' },
  { action: 'reboot', args: { type: 'SOFT' }, vm: ['active'], task: [null], nova: 'reboot', begins: 'rebooting' },
  {
    action: 'reboot', args: { type: 'HARD' }, vm: ['active', 'stopped', 'paused', 'suspended', 'error'],
    task: [null, 'rebooting', 'reboot_pending', 'reboot_started', 'rebooting_hard', 'resuming', 'unpausing', 'pausing', 'suspending'],
    nova: 'reboot', begins: 'rebooting_hard',
  },
  { action: 'pause', args: null, vm: ['active'], task: [null], nova: 'pause', begins: 'pausing' },
  { action: 'unpause', args: null, vm: ['paused'], task: [null], nova: 'unpause', begins: 'unpausing' },
  { action: 'suspend', args: null, vm: ['active'], task: [null], nova: 'suspend', begins: 'suspending' },
  { action: 'resume', args: null, vm: ['suspended'], task: [null], nova: 'resume', begins: 'resuming' },
  { action: 'lock', args: null, vm: 'any', task: 'any', nova: 'lock', begins: null },
  { action: 'unlock', args: null, vm: 'any', task: 'any', nova: 'unlock', begins: null },
  { action: 'resetState', args: { state: 'error' }, vm: 'any', task: 'any', nova: 'os-resetState', begins: null },
  // --- resize --- (nova/compute/api.py: resize and migrate on active/stopped, confirm/revert on resized)
  { action: 'resize', args: { flavorRef: '2' }, vm: ['active', 'stopped'], task: [null], nova: 'resize', begins: 'resize_prep', env: MOVE_ENV },
  { action: 'migrate', args: null, vm: ['active', 'stopped'], task: [null], nova: 'migrate', begins: 'resize_prep', env: MOVE_ENV },
  { action: 'confirmResize', args: null, vm: ['resized'], task: [null], nova: 'confirmResize', begins: 'resize_confirming', ctx: FINISHED_MOVE },
  { action: 'revertResize', args: null, vm: ['resized'], task: [null], nova: 'revertResize', begins: 'resize_reverting', ctx: FINISHED_MOVE },
  // --- rebuild, rescue, password, crash dump, console, diagnostics (Nova's compute/api.py) ---
  { action: 'rebuild', args: { imageRef: 'img-2' }, vm: ['active', 'stopped', 'error'], task: [null], nova: 'rebuild', begins: 'rebuilding' },
  { action: 'rescue', args: null, vm: ['active', 'stopped', 'error'], task: [null], nova: 'rescue', begins: 'rescuing' },
  { action: 'unrescue', args: null, vm: ['rescued'], task: [null], nova: 'unrescue', begins: 'unrescuing' },
  { action: 'changePassword', args: { adminPass: 'pw' }, vm: ['active'], task: [null], nova: 'set_admin_password', begins: 'updating_password' },
  { action: 'trigger_crash_dump', args: null, vm: ['active', 'paused', 'rescued', 'resized', 'error'], task: [null], nova: 'trigger_crash_dump', begins: null },
  { action: 'getConsoleOutput', args: {}, vm: 'any', task: 'any', nova: 'get_console_output', begins: null },
  { action: 'diagnostics', args: null, vm: 'any', task: 'any', nova: 'get_diagnostics', begins: null },
  // --- snapshot (Nova's snapshot and backup: active, stopped, paused, suspended; idle) ---
  { action: 'createImage', args: { name: 'snap' }, vm: ['active', 'stopped', 'paused', 'suspended'], task: [null], nova: 'createImage', begins: 'image_snapshot_pending' },
  { action: 'createBackup', args: { name: 'b', backup_type: 'daily', rotation: 2 }, vm: ['active', 'stopped', 'paused', 'suspended'], task: [null], nova: 'createBackup', begins: 'image_backup' },
  // --- shelve ---
  { action: 'shelve', args: null, vm: ['active', 'stopped', 'paused', 'suspended'], task: [null], nova: 'shelve', begins: 'shelving' },
  { action: 'shelveOffload', args: null, vm: ['shelved'], task: [null], nova: 'shelve_offload', begins: 'shelving_offloading' },
  { action: 'unshelve', args: null, vm: ['shelved', 'shelved_offloaded'], task: [null], nova: 'unshelve', begins: 'unshelving' },
  { action: 'unshelve', args: { availability_zone: 'az1' }, vm: ['shelved_offloaded'], task: [null], nova: 'unshelve', begins: 'unshelving' },
  // --- soft delete ---
  { action: 'restore', args: null, vm: ['soft-delete'], task: [null], nova: 'restore', begins: 'restoring' },
  { action: 'forceDelete', args: null, vm: 'any', task: 'any', nova: 'force_delete', begins: 'deleting' },
  // --- live migration, evacuate ---
  { action: 'liveMigrate', args: { host: null, block_migration: 'auto' }, vm: ['active', 'paused'], task: [null], nova: 'os-migrateLive', begins: 'migrating', env: { newId: () => LIVE.uuid } },
  {
    action: 'liveMigrationForceComplete', args: { migration: LIVE.uuid }, vm: ['active'], task: ['migrating'], nova: 'force_complete', begins: null,
    ctx: { migration: LIVE, phase: 'migrate' },
  },
  {
    action: 'liveMigrationAbort', args: { migration: LIVE.uuid }, vm: 'any', task: ['migrating'], nova: 'abort live migration', begins: 'migrating',
    ctx: { migration: LIVE, phase: 'migrate' },
  },
  // Nova admits any task; novact keeps one exception: a delete under way wins (it is not overtaken).
  {
    action: 'evacuate', args: {}, vm: ['active', 'stopped', 'error'], task: TASKS_OR_IDLE.filter((x) => x !== 'deleting'), nova: 'evacuate', begins: 'rebuilding',
    env: { newId: () => LIVE.uuid, hostDown: () => true },
  },
];

/** Notification prefix and end state per power task (Nova's notifications and end states). */
const POWER: Partial<Record<TaskState, { op: string; event: string; endsIn: VmState }>> = {
  'powering-off': { op: 'stop', event: 'power_off', endsIn: 'stopped' },
  'powering-on': { op: 'start', event: 'power_on', endsIn: 'active' },
  rebooting: { op: 'reboot_soft', event: 'reboot', endsIn: 'active' },
  rebooting_hard: { op: 'reboot_hard', event: 'reboot', endsIn: 'active' },
  pausing: { op: 'pause', event: 'pause', endsIn: 'paused' },
  unpausing: { op: 'unpause', event: 'unpause', endsIn: 'active' },
  suspending: { op: 'suspend', event: 'suspend', endsIn: 'suspended' },
  resuming: { op: 'resume', event: 'resume', endsIn: 'active' },
};

const FLAVOR = { id: '1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0 };
const ADMIN: Caller = { userId: 'u-admin', projectId: 'p-admin', admin: true };
const MEMBER: Caller = { userId: 'u1', projectId: 'p1', admin: false };

// ---------------------------------------------------------------------------------------------
// Helpers.

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** A frozen state: any mutation of its input by `transition` throws (ESM is strict). */
function st(over: Partial<LifecycleState> = {}): LifecycleState {
  return deepFreeze({
    flavor: FLAVOR, imageRef: 'img-1', vmState: 'active', taskState: null, powerState: PowerState.RUNNING, host: 'h1', alternates: [], fault: null,
    launchedAt: 1_000, locked: null, ctx: { attempt: 5 }, running: null, ...over,
  } as LifecycleState);
}

const act = (action: ActionName, args: unknown = null, by: Caller = MEMBER): LifecycleEvent => ({ kind: 'action', name: action, args, by });

function accepted(t: Test, r: Transition, what: string): { next: LifecycleState; effects: Effect[] } {
  t.ok(r.ok, `${what}: accepted`);
  if (!r.ok) throw new Error(`${what} was refused: ${r.attr} ${r.value}`);
  return deepFreeze({ next: r.next, effects: r.effects });
}

/** Applies events in order, each accepted; returns the last state and effects. */
function run(t: Test, s: LifecycleState, ...events: LifecycleEvent[]) {
  let cur = s;
  let effects: Effect[] = [];
  for (const e of events) ({ next: cur, effects } = accepted(t, transition(cur, e), e.kind));
  return { next: cur, effects };
}

/** The outcome for the effect the state awaits (its token). */
function answer(s: LifecycleState, o: Record<string, unknown> & { kind: Outcome['kind'] }): Outcome {
  if (!s.running) throw new Error('nothing is running');
  return { ...o, token: s.running } as Outcome;
}

const notify = (event: string): Effect => ({ kind: 'notify', event });

// ---------------------------------------------------------------------------------------------

t.test('the vocabulary matches Nova, and every driven task state has a step', async (t) => {
  t.same([...VM_STATES].sort(), [...VMS].sort(), 'states.ts lists exactly the 12 vm states');
  t.same([...TASK_STATES].sort(), [...TASKS].sort(), "states.ts lists Nova's 42 task states");
  for (const d of DRIVEN_TASK_STATES) t.ok(TASKS.includes(d), `${d} is a Nova task state`);
  t.same(Object.keys(STEPS).sort(), [...DRIVEN_TASK_STATES].sort(), 'one step per driven task state, no more');
  const inTable = new Set(CASES.map((c) => c.action));
  t.same([...inTable].sort(), [...ACTION_NAMES].sort(), 'this test covers every row of the action table');
});

t.test('guard table, exhaustively: every action x 12 vm states x (idle + 42 task states)', async (t) => {
  let cases = 0;
  for (const c of CASES) {
    for (const vm of VMS) {
      for (const task of TASKS_OR_IDLE) {
        cases++;
        const s = st({ vmState: vm, taskState: task as LifecycleState['taskState'], ...(c.ctx ? { ctx: { attempt: 5, ...c.ctx } } : {}) });
        const r = transition(s, act(c.action, c.args, ADMIN), { ...DEFAULT_ENV, ...c.env });
        const where = `${c.action} ${JSON.stringify(c.args)} @ ${vm}/${String(task)}`;
        const refusedVm = c.vm !== 'any' && !c.vm.includes(vm);
        const refusedTask = !refusedVm && c.task !== 'any' && !c.task.includes(task);
        if (vm === 'deleted') {
          t.notOk(r.ok, `${where}: a deleted instance takes no action`);
        } else if (refusedVm || refusedTask) {
          t.strictSame(r, { ok: false, action: c.nova, attr: refusedVm ? 'vm_state' : 'task_state', value: refusedVm ? vm : String(task) }, where);
        } else if ((c.action === 'delete' || c.action === 'forceDelete') && task === 'deleting') {
          t.same(r, { ok: true, next: s, effects: [] }, `${where}: already deleting`);
        } else if (!r.ok) {
          t.fail(`${where}: refused on ${r.attr} ${r.value}`);
        } else if (c.begins !== null) {
          t.equal(r.next.taskState, c.begins, `${where}: begins ${c.begins}`);
          t.same(r.next.running, { step: c.begins, attempt: 6 }, `${where}: under a fresh token`);
          t.equal(r.next.vmState, vm, `${where}: vm_state unchanged until the outcome`);
        } else {
          t.same(r.next.running, null, `${where}: no effect awaited`);
        }
      }
    }
  }
  t.equal(cases, CASES.length * 12 * 43, 'every combination was checked');
});

t.test('must have launched, needs a host, locks and admin rules', async (t) => {
  t.strictSame(transition(st({ launchedAt: null }), act('pause')), { ok: false, action: 'pause', attr: 'launched_at', value: 'None' });
  t.ok(transition(st({ launchedAt: null, vmState: 'error' }), act('delete')).ok, 'delete needs no launch');
  t.strictSame(transition(st({ vmState: 'error', host: null }), act('stop')), { ok: false, action: 'stop', attr: 'vm_state', value: 'error' }, 'no host: nothing to power');

  const locked = st({ locked: { by: 'owner', reason: 'maintenance' } });
  for (const a of ['stop', 'pause', 'reboot', 'delete'] as ActionName[]) {
    const args = a === 'reboot' ? { type: 'SOFT' } : null;
    t.strictSame(transition(locked, act(a, args)), { ok: false, action: ACTIONS[a].nova, attr: 'locked', value: 'locked' }, `${a} refused to a member`);
    t.ok(transition(locked, act(a, args, ADMIN)).ok, `${a} allowed to an admin`);
  }
  const lockedNow = accepted(t, transition(st(), act('lock', { locked_reason: 'why' })), 'lock');
  t.same(lockedNow.next.locked, { by: 'owner', reason: 'why' });
  t.same(lockedNow.effects, [notify('lock.end')]);
  t.same(accepted(t, transition(lockedNow.next, act('unlock')), 'owner unlocks').next.locked, null);
  const adminLocked = accepted(t, transition(st(), act('lock', null, ADMIN)), 'admin locks').next;
  t.same(adminLocked.locked, { by: 'admin', reason: null });
  t.strictSame(transition(adminLocked, act('unlock')), { ok: false, action: 'unlock', attr: 'locked', value: 'admin' }, "only an admin lifts an admin's lock");
  t.ok(transition(adminLocked, act('unlock', null, ADMIN)).ok);

  t.strictSame(transition(st(), act('resetState', { state: 'error' })), { ok: false, action: 'os-resetState', attr: 'admin', value: 'member' });
  const running = st({ taskState: 'pausing', running: { step: 'pausing', attempt: 5 } });
  const reset = accepted(t, transition(running, act('resetState', { state: 'active' }, ADMIN)), 'reset');
  t.same(reset.next, { ...running, vmState: 'active', taskState: null, running: null, ctx: { attempt: 5 } });
  t.same(transition(reset.next, { kind: 'powered', token: { step: 'pausing', attempt: 5 }, powerState: PowerState.PAUSED }), { ok: true, next: reset.next, effects: [] },
    'the abandoned effect\'s outcome changes nothing');
});

t.test('build: scheduled -> spawned -> active, with tokens', async (t) => {
  const s0 = deepFreeze(initialState(FLAVOR, 'img-1'));
  t.equal(apiStatus(s0.vmState, s0.taskState), 'BUILD');
  const b = accepted(t, transition(s0, { kind: 'resume', fresh: true }), 'build starts');
  t.same(b.effects, [{ kind: 'select', token: { step: 'scheduling', attempt: 0 } }], 'the first issue keeps the written attempt (no write)');
  t.equal(b.next.ctx, s0.ctx, 'context untouched, so nothing is written');

  const s1 = accepted(t, transition(b.next, answer(b.next, { kind: 'scheduled', host: 'h1', alternates: ['h2', 'h3'] })), 'scheduled');
  t.same(s1.effects, [{ kind: 'spawn', token: { step: 'spawning', attempt: 1 }, host: 'h1', claim: false }], 'the scheduler already claimed h1');
  t.same([s1.next.host, s1.next.alternates], ['h1', ['h2', 'h3']]);

  const s2 = accepted(t, transition(s1.next, answer(s1.next, { kind: 'spawned', host: 'h1', powerState: PowerState.RUNNING, at: 42 })), 'spawned');
  t.same(s2.next, {
    flavor: FLAVOR, imageRef: 'img-1', vmState: 'active', taskState: null, powerState: PowerState.RUNNING, host: 'h1', alternates: [], fault: null, launchedAt: 42,
    locked: null, ctx: { attempt: 1 }, running: null,
  });
  t.same(s2.effects, [notify('create.end')]);
  const r = transition(s1.next, answer(s1.next, { kind: 'spawned', host: 'h1', powerState: 1, at: 42 }));
  t.same(r.ok && r.finished, { action: 'create', result: 'Success', message: null }, 'the create action is finished with the state');
});

t.test('scheduleFailed -> error; spawnFailed walks the alternates, then destroys, releases, errors', async (t) => {
  const sched = run(t, initialState(), { kind: 'resume', fresh: true }).next;
  const failed = accepted(t, transition(sched, answer(sched, { kind: 'scheduleFailed', message: 'No valid host was found.' })), 'scheduleFailed');
  t.same([failed.next.vmState, failed.next.taskState, failed.next.fault], ['error', null, { code: 500, message: 'No valid host was found.' }]);
  t.same(failed.effects, [notify('create.error')]);

  let s = st({ vmState: 'building', taskState: 'spawning', host: 'h1', alternates: ['h2'], launchedAt: null, ctx: { attempt: 5, action: 'create', event: 'create' }, running: { step: 'spawning', attempt: 5 } });
  let r = accepted(t, transition(s, answer(s, { kind: 'spawnFailed', host: 'h1', message: 'boom 1' })), 'fail on h1');
  t.same(r.effects, [{ kind: 'cleanup', host: 'h1' }, { kind: 'spawn', token: { step: 'spawning', attempt: 6 }, host: 'h2', claim: true }]);
  s = r.next;
  r = accepted(t, transition(s, answer(s, { kind: 'spawnFailed', host: 'h2', message: 'boom 2' })), 'fail on h2');
  t.same(r.effects, [{ kind: 'destroy', token: { step: 'spawning', attempt: 7 }, hosts: ['h2'] }], 'the last attempt is destroyed before anything is released');
  const resumed = accepted(t, transition({ ...r.next, running: null }, { kind: 'resume' }), 'resume after a crash');
  t.same(resumed.effects, [{ kind: 'destroy', token: { step: 'spawning', attempt: 8 }, hosts: ['h2'] }], 'a failed build is never spawned again');
  s = r.next;
  r = accepted(t, transition(s, answer(s, { kind: 'destroyed' })), 'destroyed');
  t.same(r.effects, [{ kind: 'release', token: { step: 'spawning', attempt: 8 }, instance: true, migrations: [], ports: true }]);
  s = r.next;
  r = accepted(t, transition(s, answer(s, { kind: 'released' })), 'released');
  t.same([r.next.vmState, r.next.taskState, r.next.host], ['error', null, null]);
  t.match(r.next.fault, { message: 'Exceeded maximum number of retries. Last failure: boom 2' });
  t.same(r.effects, [notify('create.error')]);
});

t.test('power actions: each ends in its vm state, or keeps it with the fault', async (t) => {
  for (const c of CASES.filter((x) => x.begins && POWER[x.begins])) {
    const p = POWER[c.begins!]!;
    const from = (c.vm as VmState[])[0]!;
    const started = run(t, st({ vmState: from }), act(c.action, c.args));
    t.same(started.effects, [notify(`${p.event}.start`), { kind: 'power', token: { step: c.begins, attempt: 6 }, host: 'h1', op: p.op }], `${c.begins}: effects`);
    const s = started.next;
    const done = accepted(t, transition(s, answer(s, { kind: 'powered', powerState: PowerState.PAUSED })), `${c.begins} done`);
    t.same([done.next.vmState, done.next.taskState, done.next.powerState], [p.endsIn, null, PowerState.PAUSED], `${c.begins} ends in ${p.endsIn}`);
    t.same(done.effects, [notify(`${p.event}.end`)]);
    const failed = accepted(t, transition(s, answer(s, { kind: 'failed', code: 409, message: 'no' })), `${c.begins} failed`);
    t.same([failed.next.vmState, failed.next.taskState, failed.next.fault], [from, null, { code: 409, message: 'no' }]);
    t.same(failed.effects, [notify(`${p.event}.error`)]);
  }
});

t.test('stale outcomes (another step or attempt, or nothing awaited) change nothing', async (t) => {
  const s = st({ taskState: 'pausing', running: { step: 'pausing', attempt: 5 } });
  const stale: Outcome[] = [
    { kind: 'powered', token: { step: 'pausing', attempt: 4 }, powerState: 3 },
    { kind: 'powered', token: { step: 'rebooting', attempt: 5 }, powerState: 1 },
    { kind: 'failed', token: { step: 'pausing', attempt: 6 }, code: 500, message: 'x' },
    { kind: 'spawned', token: { step: 'spawning', attempt: 5 }, host: 'h9', powerState: 1, at: 1 },
  ];
  for (const o of stale) t.same(transition(s, o), { ok: true, next: s, effects: [] }, `${o.kind} ${JSON.stringify(o.token)}`);
  const idle = st();
  t.same(transition(idle, { kind: 'released', token: { step: 'deleting', attempt: 5 } }), { ok: true, next: idle, effects: [] }, 'nothing awaited');
});

t.test('delete wins over every effect in flight, then destroys where the effect reached', async (t) => {
  const flights: [string, LifecycleState, Record<string, unknown> & { kind: Outcome['kind'] }, string[]][] = [
    ['scheduling', st({ vmState: 'building', taskState: 'scheduling', host: null, launchedAt: null, running: { step: 'scheduling', attempt: 5 } }),
      { kind: 'scheduled', host: 'h7', alternates: [] }, ['h7']],
    ['spawning', st({ vmState: 'building', taskState: 'spawning', launchedAt: null, running: { step: 'spawning', attempt: 5 } }),
      { kind: 'spawned', host: 'h1', powerState: 1, at: 3 }, ['h1']],
    ['spawnFailed', st({ vmState: 'building', taskState: 'spawning', alternates: ['h2'], launchedAt: null, running: { step: 'spawning', attempt: 5 } }),
      { kind: 'spawnFailed', host: 'h1', message: 'x' }, ['h1']],
    ['powering-off', st({ taskState: 'powering-off', running: { step: 'powering-off', attempt: 5 } }), { kind: 'powered', powerState: 4 }, ['h1']],
  ];
  for (const [what, s, outcome, hosts] of flights) {
    const d = accepted(t, transition(s, act('delete')), `delete during ${what}`);
    t.same(d.effects, [notify('delete.start')], `${what}: no destroy while the effect runs`);
    t.equal(d.next.taskState, 'deleting');
    t.same(d.next.running, s.running, `${what}: still awaiting the running effect`);
    t.same(transition(d.next, act('delete')), { ok: true, next: d.next, effects: [] }, `${what}: a second delete is a no-op`);
    const a = accepted(t, transition(d.next, answer(d.next, outcome)), `${what} ends`);
    t.same(a.effects, [{ kind: 'destroy', token: { step: 'deleting', attempt: 6 }, hosts }], `${what}: destroy on ${hosts}`);
    const b = run(t, a.next, answer(a.next, { kind: 'destroyed' }));
    t.same(b.effects, [{ kind: 'release', token: { step: 'deleting', attempt: 7 }, instance: true, migrations: [], ports: true }], 'capacity freed after the guest is gone');
    const c = accepted(t, transition(b.next, answer(b.next, { kind: 'released' })), 'released');
    t.same([c.next.vmState, c.next.taskState, c.next.host], ['deleted', null, null]);
    t.same(c.effects, [notify('delete.end')]);
    t.equal(apiStatus(c.next.vmState, c.next.taskState), 'DELETED');
  }
  const noHost = accepted(t, transition(st({ vmState: 'error', host: null, launchedAt: null }), act('delete')), 'delete without a host');
  t.same(noHost.effects, [notify('delete.start'), { kind: 'release', token: { step: 'deleting', attempt: 6 }, instance: true, migrations: [], ports: true }]);
});

t.test('resume re-issues the step the state shows, under a new token', async (t) => {
  /** What a task's context holds while it runs (steps whose effect reads it). */
  const RUNNING_CTX: Partial<Record<string, Record<string, unknown>>> = {
    // --- snapshot ---
    image_snapshot_pending: { snapshot: { imageId: '00000000-0000-4000-8000-000000000001', name: 's', userId: 'u1' } },
    image_backup: { snapshot: { imageId: '00000000-0000-4000-8000-000000000001', name: 's', userId: 'u1', backup: { type: 'daily', rotation: 1 } } },
    image_uploading: { snapshot: { imageId: '00000000-0000-4000-8000-000000000001', name: 's', userId: 'u1', phase: 'upload' } },
  };
  for (const task of DRIVEN_TASK_STATES) {
    // A task's steps act on the context it began with (a move's, a snapshot's).
    const s = st({ vmState: task === 'scheduling' || task === 'spawning' ? 'building' : 'active', taskState: task, ctx: { attempt: 5, ...(task.startsWith('resize_') ? FINISHED_MOVE : {}), ...RUNNING_CTX[task] } });
    const r = accepted(t, transition(s, { kind: 'resume' }), `resume ${task}`);
    t.same(r.next.running, { step: task, attempt: 6 }, `${task}: new token`);
    t.equal(r.effects.length, 1, `${task}: exactly one effect`);
    t.match(r.effects[0], { token: { step: task, attempt: 6 } }, `${task}: the effect carries the token`);
  }
  const idle = st({ running: null });
  t.same(transition(idle, { kind: 'resume' }), { ok: true, next: idle, effects: [] }, 'idle: nothing to do');
  const gone = st({ vmState: 'deleted', host: null });
  t.same(transition(gone, { kind: 'resume' }), { ok: true, next: gone, effects: [] });
});

t.test('apiStatus follows Nova\'s _STATE_MAP', async (t) => {
  const BY_VM: Record<VmState, ApiStatus> = {
    active: 'ACTIVE', building: 'BUILD', paused: 'PAUSED', suspended: 'SUSPENDED', stopped: 'SHUTOFF',
    rescued: 'RESCUE', resized: 'VERIFY_RESIZE', 'soft-delete': 'SOFT_DELETED', deleted: 'DELETED',
    error: 'ERROR', shelved: 'SHELVED', shelved_offloaded: 'SHELVED_OFFLOADED',
  };
  const rebuild = { rebuilding: 'REBUILD', rebuild_block_device_mapping: 'REBUILD', rebuild_spawning: 'REBUILD' } as const;
  const resize = { resize_prep: 'RESIZE', resize_migrating: 'RESIZE', resize_migrated: 'RESIZE', resize_finish: 'RESIZE' } as const;
  const OVERRIDE: Partial<Record<VmState, Partial<Record<TaskState, ApiStatus>>>> = {
    active: {
      rebooting: 'REBOOT', reboot_pending: 'REBOOT', reboot_started: 'REBOOT', rebooting_hard: 'HARD_REBOOT',
      reboot_pending_hard: 'HARD_REBOOT', reboot_started_hard: 'HARD_REBOOT', updating_password: 'PASSWORD',
      migrating: 'MIGRATING', ...rebuild, ...resize,
    },
    stopped: { ...rebuild, ...resize },
    resized: { resize_reverting: 'REVERT_RESIZE' },
    paused: { migrating: 'MIGRATING' },
    error: { ...rebuild },
  };
  for (const vm of VMS) {
    for (const task of TASKS_OR_IDLE) {
      const want = (task !== null ? OVERRIDE[vm]?.[task] : undefined) ?? BY_VM[vm];
      t.equal(apiStatus(vm, task), want, `${vm}/${String(task)} -> ${want}`);
    }
  }
  t.equal(apiStatus('nonsense' as VmState, null), 'UNKNOWN');
});
