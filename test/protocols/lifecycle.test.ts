/**
 * The instance state machine against Nova's guard table (reference §1.3), exhaustively on data.
 * The expected table is written out here, independently of lifecycle.ts.
 */
import t, { type Test } from 'tap';
import {
  buildEffects, initialState, transition,
  type Effect, type LifecycleEvent, type LifecycleState, type PowerOp, type Transition,
} from '../../protocols/lifecycle.js';
import { PowerState, TASK_STATES, VM_STATES, apiStatus, type ApiStatus, type TaskState, type VmState } from '../../protocols/states.js';

// ---------------------------------------------------------------------------------------------
// Nova's vocabulary and guard table, spelled out independently.

const VMS: VmState[] = [
  'active', 'building', 'paused', 'suspended', 'stopped', 'rescued', 'resized',
  'soft-delete', 'deleted', 'error', 'shelved', 'shelved_offloaded',
];
const TASKS: TaskState[] = [
  'scheduling', 'spawning', 'deleting', 'powering-off', 'powering-on',
  'rebooting', 'rebooting_hard', 'reboot_pending', 'reboot_started', 'reboot_pending_hard',
  'reboot_started_hard', 'pausing', 'unpausing', 'suspending', 'resuming',
];
const TASKS_OR_IDLE: (TaskState | null)[] = [null, ...TASKS];

type ActionName = 'delete' | 'stop' | 'start' | 'reboot_soft' | 'reboot_hard';
const ACTIONS: Record<ActionName, LifecycleEvent> = {
  delete: { kind: 'delete' },
  stop: { kind: 'stop' },
  start: { kind: 'start' },
  reboot_soft: { kind: 'reboot', hard: false },
  reboot_hard: { kind: 'reboot', hard: true },
};

interface Guard { vm: VmState[] | 'any'; task: (TaskState | null)[] | 'any'; nova: string }
const GUARDS: Record<ActionName, Guard> = {
  delete: { vm: 'any', task: 'any', nova: 'delete' },
  stop: { vm: ['active', 'error'], task: [null], nova: 'stop' },
  start: { vm: ['stopped'], task: [null], nova: 'start' },
  reboot_soft: { vm: ['active'], task: [null], nova: 'reboot' },
  reboot_hard: {
    vm: ['active', 'stopped', 'paused', 'suspended', 'error'],
    task: [null, 'rebooting', 'reboot_pending', 'reboot_started', 'rebooting_hard', 'resuming', 'unpausing', 'pausing', 'suspending'],
    nova: 'reboot',
  },
};

/** What each power action sets while it runs, the notification prefix, and the vm state it ends in. */
const POWER: Record<PowerOp, { task: TaskState; event: string; endsIn: VmState }> = {
  stop: { task: 'powering-off', event: 'power_off', endsIn: 'stopped' },
  start: { task: 'powering-on', event: 'power_on', endsIn: 'active' },
  reboot_soft: { task: 'rebooting', event: 'reboot', endsIn: 'active' },
  reboot_hard: { task: 'rebooting_hard', event: 'reboot', endsIn: 'active' },
};

type Expected = { ok: true } | { ok: false; attr: 'vm_state' | 'task_state'; value: string };

function expectedGuard(action: ActionName, vm: VmState, task: TaskState | null): Expected {
  const g = GUARDS[action];
  if (g.vm !== 'any' && !g.vm.includes(vm)) return { ok: false, attr: 'vm_state', value: vm };
  if (g.task !== 'any' && !g.task.includes(task)) return { ok: false, attr: 'task_state', value: String(task) };
  return { ok: true };
}

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
    vmState: 'active',
    taskState: null,
    powerState: PowerState.RUNNING,
    host: 'h1',
    alternates: [],
    fault: null,
    launchedAt: 1_000,
    inFlight: false,
    ...over,
  } as LifecycleState);
}

/** Narrows a transition to its accepted form (asserting it). */
function accepted(t: Test, r: Transition, what: string): { next: LifecycleState; effects: Effect[] } {
  t.ok(r.ok, `${what}: accepted`);
  if (!r.ok) throw new Error(`${what} was refused: ${r.attr} ${r.value}`);
  return deepFreeze({ next: r.next, effects: r.effects });
}

/** Applies a sequence of events, each of which must be accepted. */
function run(t: Test, s: LifecycleState, ...events: LifecycleEvent[]) {
  let cur = s;
  let effects: Effect[] = [];
  for (const e of events) {
    ({ next: cur, effects } = accepted(t, transition(cur, e), e.kind));
  }
  return { next: cur, effects };
}

const notify = (event: string): Effect => ({ kind: 'notify', event });

// ---------------------------------------------------------------------------------------------

t.test('the vocabulary matches Nova (and states.ts)', async (t) => {
  t.equal(VMS.length, 12);
  t.same([...VM_STATES].sort(), [...VMS].sort(), 'states.ts lists exactly the 12 vm states');
  t.same([...TASK_STATES].sort(), [...TASKS].sort(), 'states.ts lists exactly the task states driven here');
});

t.test('guard table, exhaustively: 12 vm states x (idle + every task state) x 5 actions', async (t) => {
  let cases = 0;
  for (const [name, event] of Object.entries(ACTIONS) as [ActionName, LifecycleEvent][]) {
    t.test(name, async (t) => {
      for (const vm of VMS) {
        for (const task of TASKS_OR_IDLE) {
          cases++;
          const s = st({ vmState: vm, taskState: task });
          const r = transition(s, event);
          const want = expectedGuard(name, vm, task);
          const where = `${name} @ ${vm}/${String(task)}`;
          if (!want.ok) {
            t.strictSame(r, { ok: false, action: GUARDS[name].nova, attr: want.attr, value: want.value }, `${where}: refused on ${want.attr}`);
            continue;
          }
          if (!r.ok) {
            t.fail(`${where}: expected accepted, refused on ${r.attr} ${r.value}`);
            continue;
          }
          if (name === 'delete') {
            if (vm === 'deleted') {
              t.same(r, { ok: true, next: s, effects: [] }, `${where}: already deleted, nothing to do`);
            } else {
              t.same(r.next, { ...s, taskState: 'deleting', inFlight: true }, `${where}: deleting, destroy in flight`);
              t.same(r.effects, [notify('delete.start'), { kind: 'destroy', host: 'h1' }], `${where}: effects`);
            }
            continue;
          }
          const p = POWER[name];
          t.same(r.next, { ...s, taskState: p.task, inFlight: true }, `${where}: task ${p.task}, vm unchanged until the outcome`);
          t.same(r.effects, [notify(`${p.event}.start`), { kind: 'power', host: 'h1', op: name }], `${where}: effects`);
        }
      }
    });
  }
  // Subtests run in order after this body: count once they are all done.
  t.test('coverage', async (t) => {
    t.equal(cases, 5 * 12 * 16, 'every combination was checked');
  });
});

t.test('vm_state is checked before task_state', async (t) => {
  // Both attributes fail: the refusal names vm_state.
  t.strictSame(transition(st({ vmState: 'building', taskState: 'spawning' }), { kind: 'stop' }),
    { ok: false, action: 'stop', attr: 'vm_state', value: 'building' });
  t.strictSame(transition(st({ vmState: 'shelved', taskState: 'scheduling' }), { kind: 'reboot', hard: true }),
    { ok: false, action: 'reboot', attr: 'vm_state', value: 'shelved' });
  // Only the task fails.
  t.strictSame(transition(st({ vmState: 'active', taskState: 'powering-off' }), { kind: 'reboot', hard: false }),
    { ok: false, action: 'reboot', attr: 'task_state', value: 'powering-off' });
  t.strictSame(transition(st({ vmState: 'stopped', taskState: 'reboot_started_hard' }), { kind: 'reboot', hard: true }),
    { ok: false, action: 'reboot', attr: 'task_state', value: 'reboot_started_hard' });
});

t.test('a power action on an instance without a host is refused (nothing to act on)', async (t) => {
  // e.g. an ERROR instance whose build never landed: the guard passes, but there is no host.
  const s = st({ vmState: 'error', host: null });
  for (const e of [ACTIONS.stop, ACTIONS.reboot_hard]) {
    const r = transition(s, e);
    t.match(r, { ok: false, attr: 'vm_state', value: 'error' }, `${e.kind}${'hard' in e ? ' hard' : ''} refused`);
  }
  t.match(transition(st({ vmState: 'stopped', host: null }), ACTIONS.start), { ok: false, attr: 'vm_state', value: 'stopped' });
});

t.test('delete in other circumstances', async (t) => {
  // While an effect is in flight: mark deleting and wait for its outcome.
  for (const task of ['scheduling', 'spawning', 'powering-off', 'rebooting_hard'] as const) {
    const s = st({ vmState: task === 'scheduling' || task === 'spawning' ? 'building' : 'active', taskState: task, inFlight: true });
    const { next, effects } = accepted(t, transition(s, ACTIONS.delete), `delete during ${task}`);
    t.same(next, { ...s, taskState: 'deleting' }, `delete during ${task}: only the task changes, still in flight`);
    t.same(effects, [notify('delete.start')], 'no destroy yet: the running effect must finish first');
    t.same(transition(next, ACTIONS.delete), { ok: true, next, effects: [] }, 'a second delete is a no-op');
  }
  // No host and nothing running: nothing to destroy, go straight to releasing the claim.
  const noHost = st({ vmState: 'error', host: null, powerState: PowerState.NOSTATE });
  const r = accepted(t, transition(noHost, ACTIONS.delete), 'delete without host');
  t.same(r.next, { ...noHost, taskState: 'deleting', inFlight: true }, 'deleting, release in flight');
  t.same(r.effects, [notify('delete.start'), { kind: 'release' }]);
  // A deleting instance whose destroy is not running (e.g. after a restart) destroys again.
  const stuck = st({ taskState: 'deleting', inFlight: false });
  t.same(accepted(t, transition(stuck, ACTIONS.delete), 'delete of a stalled delete').effects,
    [notify('delete.start'), { kind: 'destroy', host: 'h1' }]);
});

t.test('build path: initialState -> scheduled -> spawned -> active', async (t) => {
  const s0 = deepFreeze(initialState());
  t.same(s0, {
    vmState: 'building', taskState: 'scheduling', powerState: PowerState.NOSTATE, host: null,
    alternates: [], fault: null, launchedAt: null, inFlight: false,
  });
  t.not(initialState(), initialState(), 'a fresh object each time');
  t.same(buildEffects(), [{ kind: 'select' }], 'a build starts by asking the scheduler');
  t.equal(apiStatus(s0.vmState, s0.taskState), 'BUILD');

  const s1 = accepted(t, transition(s0, { kind: 'scheduled', host: 'h1', alternates: ['h2', 'h3'] }), 'scheduled');
  t.same(s1.next, { ...s0, taskState: 'spawning', host: 'h1', alternates: ['h2', 'h3'], inFlight: true });
  t.same(s1.effects, [{ kind: 'spawn', host: 'h1', claim: false }], 'the scheduler already claimed h1');
  t.equal(apiStatus(s1.next.vmState, s1.next.taskState), 'BUILD');

  const s2 = accepted(t, transition(s1.next, { kind: 'spawned', host: 'h1', powerState: PowerState.RUNNING, at: 42 }), 'spawned');
  t.same(s2.next, {
    vmState: 'active', taskState: null, powerState: PowerState.RUNNING, host: 'h1',
    alternates: [], fault: null, launchedAt: 42, inFlight: false,
  });
  t.same(s2.effects, [notify('create.end')]);
  t.equal(apiStatus(s2.next.vmState, s2.next.taskState), 'ACTIVE');
});

t.test('scheduleFailed -> error', async (t) => {
  const s0 = deepFreeze({ ...initialState(), inFlight: true });
  const r = accepted(t, transition(s0, { kind: 'scheduleFailed', message: 'No valid host was found.' }), 'scheduleFailed');
  t.same(r.next, { ...s0, vmState: 'error', taskState: null, inFlight: false, fault: { code: 500, message: 'No valid host was found.' } });
  t.same(r.effects, [notify('create.error')], 'nothing was claimed, nothing to release');
  t.equal(apiStatus(r.next.vmState, r.next.taskState), 'ERROR');
});

t.test('spawnFailed walks the alternates, then releases and settles in error', async (t) => {
  const spawning = st({ vmState: 'building', taskState: 'spawning', host: 'h1', alternates: ['h2', 'h3'], powerState: PowerState.NOSTATE, launchedAt: null, inFlight: true });

  const a = accepted(t, transition(spawning, { kind: 'spawnFailed', host: 'h1', message: 'boom 1' }), 'fail on h1');
  t.same(a.next, { ...spawning, host: 'h2', alternates: ['h3'] }, 'next alternate, still spawning and in flight');
  t.same(a.effects, [{ kind: 'cleanup', host: 'h1' }, { kind: 'spawn', host: 'h2', claim: true }], 'cleanup the failed host, claim the alternate');

  const b = accepted(t, transition(a.next, { kind: 'spawnFailed', host: 'h2', message: 'boom 2' }), 'fail on h2');
  t.same(b.next, { ...spawning, host: 'h3', alternates: [] });
  t.same(b.effects, [{ kind: 'cleanup', host: 'h2' }, { kind: 'spawn', host: 'h3', claim: true }]);

  const c = accepted(t, transition(b.next, { kind: 'spawnFailed', host: 'h3', message: 'boom 3' }), 'fail on the last host');
  const fault = { code: 500, message: 'Exceeded maximum number of retries. Last failure: boom 3' };
  t.same(c.next, { ...spawning, host: 'h3', alternates: [], fault }, 'no host left; the last attempt is destroyed before anything is released');
  t.same(c.effects, [{ kind: 'destroy', host: 'h3' }]);
  t.equal(c.next.inFlight, true, 'the destroy is awaited');
  const resumed = accepted(t, transition({ ...c.next, inFlight: false }, { kind: 'resume' }), 'resume after a crash');
  t.same(resumed.effects, [{ kind: 'destroy', host: 'h3' }], 'a failed build is never spawned again on resume');

  const c2 = accepted(t, transition(c.next, { kind: 'destroyed' }), 'destroyed');
  t.same(c2.next, { ...c.next, host: null, powerState: PowerState.NOSTATE }, 'still building while the claim is released');
  t.same(c2.effects, [{ kind: 'release' }]);

  const d = accepted(t, transition(c2.next, { kind: 'released' }), 'released');
  t.same(d.next, { ...c2.next, vmState: 'error', taskState: null, inFlight: false }, 'error, fault kept');
  t.same(d.effects, [notify('create.error')]);
  t.equal(apiStatus(d.next.vmState, d.next.taskState), 'ERROR');

  // A success on an alternate clears the earlier failure.
  const ok = accepted(t, transition(a.next, { kind: 'spawned', host: 'h2', powerState: PowerState.RUNNING, at: 7 }), 'spawned on h2');
  t.same(ok.next, { ...a.next, vmState: 'active', taskState: null, powerState: PowerState.RUNNING, alternates: [], fault: null, launchedAt: 7, inFlight: false });
  t.same(ok.effects, [notify('create.end')]);
});

t.test('spawnFailed without alternates: release, then error', async (t) => {
  const s = st({ vmState: 'building', taskState: 'spawning', host: 'h1', alternates: [], inFlight: true });
  const r0 = run(t, s, { kind: 'spawnFailed', host: 'h1', message: 'no disk' });
  t.same(r0.effects, [{ kind: 'destroy', host: 'h1' }], 'the capacity stays held until the host confirms the guest is gone');
  const r = run(t, r0.next, { kind: 'destroyed' });
  t.same(r.effects, [{ kind: 'release' }]);
  t.equal(r.next.host, null);
  const done = run(t, r.next, { kind: 'released' });
  t.equal(done.next.vmState, 'error');
  t.equal(done.next.taskState, null);
  t.same(done.next.fault, { code: 500, message: 'Exceeded maximum number of retries. Last failure: no disk' });
});

t.test('delete while a spawn is in flight waits for the outcome', async (t) => {
  const spawning = st({ vmState: 'building', taskState: 'spawning', host: 'h1', alternates: ['h2'], powerState: PowerState.NOSTATE, launchedAt: null, inFlight: true });
  const del = accepted(t, transition(spawning, ACTIONS.delete), 'delete');
  t.same(del.next, { ...spawning, taskState: 'deleting' });
  t.same(del.effects, [notify('delete.start')]);
  t.equal(apiStatus(del.next.vmState, del.next.taskState), 'BUILD');

  t.test('spawned -> destroy -> release -> deleted', async (t) => {
    const a = accepted(t, transition(del.next, { kind: 'spawned', host: 'h1', powerState: PowerState.RUNNING, at: 5 }), 'spawned');
    t.same(a.next, { ...del.next, taskState: 'deleting', inFlight: true }, 'the guest is not adopted: it is destroyed');
    t.same(a.effects, [{ kind: 'destroy', host: 'h1' }]);
    const b = accepted(t, transition(a.next, { kind: 'destroyed' }), 'destroyed');
    t.same(b.next, { ...a.next, host: null, powerState: PowerState.NOSTATE, inFlight: true });
    t.same(b.effects, [{ kind: 'release' }], 'capacity is given back before the instance is called deleted');
    const c = accepted(t, transition(b.next, { kind: 'released' }), 'released');
    t.same(c.next, { ...b.next, vmState: 'deleted', taskState: null, inFlight: false });
    t.same(c.effects, [notify('delete.end')]);
    t.equal(apiStatus(c.next.vmState, c.next.taskState), 'DELETED');
    t.same(transition(c.next, ACTIONS.delete), { ok: true, next: c.next, effects: [] }, 'deleting a deleted instance is a no-op');
  });

  t.test('spawnFailed -> destroy -> release -> deleted (no alternate is tried)', async (t) => {
    const a0 = accepted(t, transition(del.next, { kind: 'spawnFailed', host: 'h1', message: 'x' }), 'spawnFailed');
    t.same(a0.effects, [{ kind: 'destroy', host: 'h1' }], 'what the attempt left is destroyed before the capacity is given back');
    const a = accepted(t, transition(a0.next, { kind: 'destroyed' }), 'destroyed');
    t.same(a.effects, [{ kind: 'release' }]);
    t.same(a.next, { ...del.next, host: null, powerState: PowerState.NOSTATE, inFlight: true });
    const b = accepted(t, transition(a.next, { kind: 'released' }), 'released');
    t.equal(b.next.vmState, 'deleted');
    t.equal(b.next.taskState, null);
    t.equal(b.next.inFlight, false);
    t.same(b.effects, [notify('delete.end')]);
  });

  t.test('delete while scheduling: the scheduler\'s answer is released, never spawned', async (t) => {
    const sched = deepFreeze({ ...initialState(), inFlight: true });
    const d = run(t, sched, ACTIONS.delete);
    t.same(d.effects, [notify('delete.start')]);
    const outcomes: LifecycleEvent[] = [
      { kind: 'scheduled', host: 'h1', alternates: ['h2'] },
      { kind: 'scheduleFailed', message: 'none' },
    ];
    for (const outcome of outcomes) {
      const a = accepted(t, transition(d.next, outcome), outcome.kind);
      t.same(a.effects, [{ kind: 'release' }], `${outcome.kind}: release only`);
      t.equal(a.next.taskState, 'deleting');
      t.equal(a.next.host, null);
      const b = run(t, a.next, { kind: 'released' });
      t.equal(b.next.vmState, 'deleted');
      t.same(b.effects, [notify('delete.end')]);
    }
  });

  t.test('delete during a power operation: the outcome starts the destroy', async (t) => {
    for (const op of ['stop', 'start', 'reboot_soft', 'reboot_hard'] as PowerOp[]) {
      const running = st({ vmState: op === 'start' ? 'stopped' : 'active', taskState: POWER[op].task, inFlight: true });
      const d = run(t, running, ACTIONS.delete);
      for (const outcome of [
        { kind: 'powered', op, powerState: PowerState.SHUTDOWN },
        { kind: 'powerFailed', op, message: 'x' },
      ] as const) {
        const a = accepted(t, transition(d.next, outcome), `${op} ${outcome.kind}`);
        t.same(a.effects, [{ kind: 'destroy', host: 'h1' }], `${op} ${outcome.kind}: destroy`);
        t.equal(a.next.taskState, 'deleting');
        t.equal(a.next.inFlight, true);
      }
    }
  });
});

t.test('stale outcomes change nothing', async (t) => {
  const spawning = st({ vmState: 'building', taskState: 'spawning', host: 'h1', alternates: ['h2'], inFlight: true });
  const deletingOnH1 = st({ vmState: 'building', taskState: 'deleting', host: 'h1', inFlight: true });
  const active = st();
  const cases: [string, LifecycleState, LifecycleEvent][] = [
    ['spawned from another host', spawning, { kind: 'spawned', host: 'h9', powerState: PowerState.RUNNING, at: 1 }],
    ['spawnFailed from another host', spawning, { kind: 'spawnFailed', host: 'h9', message: 'x' }],
    ['spawned from another host while deleting', deletingOnH1, { kind: 'spawned', host: 'h9', powerState: PowerState.RUNNING, at: 1 }],
    ['spawnFailed from another host while deleting', deletingOnH1, { kind: 'spawnFailed', host: 'h9', message: 'x' }],
    ['a duplicate spawned', active, { kind: 'spawned', host: 'h1', powerState: PowerState.RUNNING, at: 99 }],
    ['a late spawnFailed', active, { kind: 'spawnFailed', host: 'h1', message: 'x' }],
    ['scheduled while spawning', spawning, { kind: 'scheduled', host: 'h5', alternates: [] }],
    ['scheduleFailed while spawning', spawning, { kind: 'scheduleFailed', message: 'x' }],
    ['scheduled when idle', active, { kind: 'scheduled', host: 'h5', alternates: [] }],
    ['destroyed when not deleting', active, { kind: 'destroyed' }],
    ['released when idle', active, { kind: 'released' }],
    ['released while spawning on a host', spawning, { kind: 'released' }],
  ];
  const ops: PowerOp[] = ['stop', 'start', 'reboot_soft', 'reboot_hard'];
  for (const running of ops) {
    const s = st({ vmState: running === 'start' ? 'stopped' : 'active', taskState: POWER[running].task, inFlight: true });
    for (const other of ops.filter((o) => o !== running)) {
      cases.push([`powered ${other} while ${POWER[running].task}`, s, { kind: 'powered', op: other, powerState: PowerState.PAUSED }]);
      cases.push([`powerFailed ${other} while ${POWER[running].task}`, s, { kind: 'powerFailed', op: other, message: 'x' }]);
    }
  }
  for (const op of ops) {
    cases.push([`powered ${op} when idle`, active, { kind: 'powered', op, powerState: PowerState.SHUTDOWN }]);
    cases.push([`powerFailed ${op} when idle`, active, { kind: 'powerFailed', op, message: 'x' }]);
  }
  for (const [why, s, e] of cases) {
    t.same(transition(s, e), { ok: true, next: s, effects: [] }, why);
  }
});

t.test('power outcomes for each operation', async (t) => {
  const ops: PowerOp[] = ['stop', 'start', 'reboot_soft', 'reboot_hard'];
  const from: Record<PowerOp, VmState[]> = {
    stop: ['active', 'error'],
    start: ['stopped'],
    reboot_soft: ['active'],
    reboot_hard: ['active', 'stopped', 'paused', 'suspended', 'error'],
  };
  const action: Record<PowerOp, LifecycleEvent> = {
    stop: ACTIONS.stop, start: ACTIONS.start, reboot_soft: ACTIONS.reboot_soft, reboot_hard: ACTIONS.reboot_hard,
  };
  for (const op of ops) {
    const p = POWER[op];
    for (const vm of from[op]) {
      const idle = st({ vmState: vm, fault: vm === 'error' ? { code: 500, message: 'old' } : null });
      const started = run(t, idle, action[op]).next;
      t.equal(started.taskState, p.task, `${op} from ${vm}: ${p.task}`);

      const done = accepted(t, transition(started, { kind: 'powered', op, powerState: PowerState.SHUTDOWN }), `${op} from ${vm}: powered`);
      t.same(done.next, { ...started, vmState: p.endsIn, taskState: null, powerState: PowerState.SHUTDOWN, inFlight: false }, `${op} from ${vm} ends ${p.endsIn}`);
      t.same(done.effects, [notify(`${p.event}.end`)]);

      const failed = accepted(t, transition(started, { kind: 'powerFailed', op, message: 'libvirt said no' }), `${op} from ${vm}: failed`);
      t.same(failed.next, { ...started, taskState: null, inFlight: false, fault: { code: 500, message: 'libvirt said no' } }, `${op} from ${vm}: vm and power state unchanged`);
      t.same(failed.effects, [notify(`${p.event}.error`)]);
    }
  }
});

t.test('resume re-issues the effect of every task state', async (t) => {
  type Want = { next: Partial<LifecycleState>; effects: Effect[] };
  const withHost = (task: TaskState | null): Want => {
    switch (task) {
      case null: return { next: {}, effects: [] };
      case 'scheduling': return { next: { inFlight: true }, effects: [{ kind: 'select' }] };
      case 'spawning': return { next: { inFlight: true }, effects: [{ kind: 'spawn', host: 'h1', claim: true }] };
      case 'deleting': return { next: { inFlight: true }, effects: [{ kind: 'destroy', host: 'h1' }] };
      case 'powering-off': return { next: { inFlight: true }, effects: [{ kind: 'power', host: 'h1', op: 'stop' }] };
      case 'powering-on': return { next: { inFlight: true }, effects: [{ kind: 'power', host: 'h1', op: 'start' }] };
      case 'rebooting': return { next: { inFlight: true }, effects: [{ kind: 'power', host: 'h1', op: 'reboot_soft' }] };
      case 'rebooting_hard': return { next: { inFlight: true }, effects: [{ kind: 'power', host: 'h1', op: 'reboot_hard' }] };
      // Tasks novact does not drive: cleared so the instance is not stuck.
      default: return { next: { taskState: null }, effects: [] };
    }
  };
  const withoutHost = (task: TaskState | null): Want => {
    switch (task) {
      case null: return { next: {}, effects: [] };
      case 'scheduling': return { next: { inFlight: true }, effects: [{ kind: 'select' }] };
      case 'spawning': return { next: { taskState: 'scheduling', inFlight: true }, effects: [{ kind: 'select' }] };
      case 'deleting': return { next: { inFlight: true, powerState: PowerState.NOSTATE }, effects: [{ kind: 'release' }] };
      default: return { next: { taskState: null }, effects: [] };
    }
  };
  for (const host of ['h1', null]) {
    for (const task of TASKS_OR_IDLE) {
      for (const wasInFlight of [false, true]) {
        const s = st({ vmState: 'active', taskState: task, host, inFlight: wasInFlight });
        const want = host ? withHost(task) : withoutHost(task);
        const r = accepted(t, transition(s, { kind: 'resume' }), `resume ${String(task)} host=${host}`);
        t.same(r.next, { ...s, inFlight: false, ...want.next }, `resume ${String(task)} host=${host} inFlight=${wasInFlight}: state`);
        t.same(r.effects, want.effects, `resume ${String(task)} host=${host} inFlight=${wasInFlight}: effects`);
      }
    }
  }
  // A failed build that was releasing its claim (spawning, no host, a fault) releases again.
  const releasing = st({ vmState: 'building', taskState: 'spawning', host: null, fault: { code: 500, message: 'x' } });
  const r = accepted(t, transition(releasing, { kind: 'resume' }), 'resume a failed build');
  t.same(r.effects, [{ kind: 'release' }]);
  t.same(r.next, { ...releasing, inFlight: true });
  t.equal(run(t, r.next, { kind: 'released' }).next.vmState, 'error');
  // A deleted instance has nothing left to do.
  const gone = st({ vmState: 'deleted', taskState: null, host: null, inFlight: true });
  t.same(transition(gone, { kind: 'resume' }), { ok: true, next: { ...gone, inFlight: false }, effects: [] });
});

t.test('apiStatus', async (t) => {
  const BY_VM: Record<VmState, ApiStatus> = {
    active: 'ACTIVE', building: 'BUILD', paused: 'PAUSED', suspended: 'SUSPENDED', stopped: 'SHUTOFF',
    rescued: 'RESCUE', resized: 'VERIFY_RESIZE', 'soft-delete': 'SOFT_DELETED', deleted: 'DELETED',
    error: 'ERROR', shelved: 'SHELVED', shelved_offloaded: 'SHELVED_OFFLOADED',
  };
  const OVERRIDE: Partial<Record<TaskState, ApiStatus>> = {
    rebooting: 'REBOOT', reboot_pending: 'REBOOT', reboot_started: 'REBOOT',
    rebooting_hard: 'HARD_REBOOT', reboot_pending_hard: 'HARD_REBOOT', reboot_started_hard: 'HARD_REBOOT',
  };
  for (const vm of VMS) {
    for (const task of TASKS_OR_IDLE) {
      const want = vm === 'active' && task !== null && OVERRIDE[task] ? OVERRIDE[task] : BY_VM[vm];
      t.equal(apiStatus(vm, task), want, `${vm}/${String(task)} -> ${want}`);
    }
  }
  t.equal(apiStatus('nonsense' as VmState, null), 'UNKNOWN', 'an unknown vm state');
});

t.test('a full life: build, stop, start, soft and hard reboot, delete', async (t) => {
  let s: LifecycleState = deepFreeze({ ...initialState(), inFlight: true });
  const step = (e: LifecycleEvent) => {
    const r = accepted(t, transition(s, e), e.kind);
    s = r.next;
    return r.effects;
  };
  step({ kind: 'scheduled', host: 'h1', alternates: [] });
  step({ kind: 'spawned', host: 'h1', powerState: PowerState.RUNNING, at: 1 });
  t.equal(apiStatus(s.vmState, s.taskState), 'ACTIVE');
  step(ACTIONS.stop);
  t.equal(apiStatus(s.vmState, s.taskState), 'ACTIVE', 'powering-off shows ACTIVE');
  t.match(transition(s, ACTIONS.stop), { ok: false, attr: 'task_state', value: 'powering-off' }, 'no second stop meanwhile');
  step({ kind: 'powered', op: 'stop', powerState: PowerState.SHUTDOWN });
  t.equal(apiStatus(s.vmState, s.taskState), 'SHUTOFF');
  t.match(transition(s, ACTIONS.reboot_soft), { ok: false, attr: 'vm_state', value: 'stopped' }, 'no soft reboot when stopped');
  step(ACTIONS.start);
  step({ kind: 'powered', op: 'start', powerState: PowerState.RUNNING });
  t.equal(apiStatus(s.vmState, s.taskState), 'ACTIVE');
  step(ACTIONS.reboot_soft);
  t.equal(apiStatus(s.vmState, s.taskState), 'REBOOT');
  // A hard reboot may take over a soft one that hangs (Nova allows it in `rebooting`).
  t.same(step(ACTIONS.reboot_hard), [notify('reboot.start'), { kind: 'power', host: 'h1', op: 'reboot_hard' }]);
  t.equal(apiStatus(s.vmState, s.taskState), 'HARD_REBOOT');
  t.same(step({ kind: 'powered', op: 'reboot_soft', powerState: PowerState.RUNNING }), [], 'the superseded soft outcome is ignored');
  t.equal(s.taskState, 'rebooting_hard');
  t.same(step({ kind: 'powered', op: 'reboot_hard', powerState: PowerState.RUNNING }), [notify('reboot.end')]);
  t.equal(apiStatus(s.vmState, s.taskState), 'ACTIVE');
  t.same(step(ACTIONS.delete), [notify('delete.start'), { kind: 'destroy', host: 'h1' }]);
  t.same(step({ kind: 'destroyed' }), [{ kind: 'release' }]);
  t.same(step({ kind: 'released' }), [notify('delete.end')]);
  t.equal(s.vmState, 'deleted');
  t.equal(apiStatus(s.vmState, s.taskState), 'DELETED');
});
