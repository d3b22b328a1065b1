/**
 * The instance lifecycle as a pure function: `transition(state, event)` returns the next state and
 * the effects to run, or the reason the event is refused. The instance actor persists the next
 * state (compare-and-swap) and only then runs the effects, whose outcomes come back as events.
 *
 * Guards follow Nova's `@check_instance_state` table (nova/compute/api.py); a refused action is a
 * 409 `Cannot '<action>' instance <uuid> while it is in <attr> <state>`.
 *
 * `inFlight` (memory only, never persisted) says an effect with an outcome is running. A delete
 * that arrives meanwhile marks the task `deleting` and waits for that outcome, so a guest being
 * spawned is never leaked. After a restart nothing is in flight: the `resume` event re-issues the
 * effect of whatever task the database shows, relying on every effect being idempotent.
 */
import { PowerState, type TaskState, type VmState } from './states.js';

export type PowerOp = 'stop' | 'start' | 'reboot_soft' | 'reboot_hard';

export interface LifecycleState {
  vmState: VmState;
  taskState: TaskState | null;
  powerState: PowerState;
  host: string | null;
  /** Hosts still to try if the current build attempt fails (claimed by the scheduler on demand). */
  alternates: string[];
  fault: { code: number; message: string } | null;
  launchedAt: number | null;
  inFlight: boolean;
}

export type InstanceAction =
  | { kind: 'delete' }
  | { kind: 'stop' }
  | { kind: 'start' }
  | { kind: 'reboot'; hard: boolean };

export type Outcome =
  | { kind: 'scheduled'; host: string; alternates: string[] }
  | { kind: 'scheduleFailed'; message: string }
  | { kind: 'spawned'; host: string; powerState: PowerState; at: number }
  | { kind: 'spawnFailed'; host: string; message: string }
  | { kind: 'powered'; op: PowerOp; powerState: PowerState }
  | { kind: 'powerFailed'; op: PowerOp; message: string }
  | { kind: 'destroyed' }
  /** The instance's allocations are gone from the ledger. */
  | { kind: 'released' };

export type LifecycleEvent = InstanceAction | Outcome | { kind: 'resume' };

export type Effect =
  /** Ask the scheduler for a host and alternates; it claims the resources before answering. */
  | { kind: 'select' }
  /** Spawn on `host`; `claim` first moves the allocation there (alternates, resumes). */
  | { kind: 'spawn'; host: string; claim: boolean }
  | { kind: 'power'; host: string; op: PowerOp }
  | { kind: 'destroy'; host: string }
  /** Destroy after a failed attempt that moved to an alternate; retried, but no outcome is awaited. */
  | { kind: 'cleanup'; host: string }
  /** Drop every allocation of the instance in the ledger; answers `released`. */
  | { kind: 'release' }
  | { kind: 'notify'; event: string };

export type Transition =
  | { ok: true; next: LifecycleState; effects: Effect[] }
  | { ok: false; action: string; attr: 'vm_state' | 'task_state'; value: string };

const HARD_REBOOT_VM: readonly VmState[] = ['active', 'stopped', 'paused', 'suspended', 'error'];
const HARD_REBOOT_TASK: readonly (TaskState | null)[] = [
  null, 'rebooting', 'reboot_pending', 'reboot_started', 'resuming', 'rebooting_hard', 'unpausing', 'pausing', 'suspending',
];

const POWER_TASK: Record<PowerOp, TaskState> = {
  stop: 'powering-off',
  start: 'powering-on',
  reboot_soft: 'rebooting',
  reboot_hard: 'rebooting_hard',
};
/** The API action each power operation answers to (used in 409 messages). */
const POWER_ACTION: Record<PowerOp, string> = { stop: 'stop', start: 'start', reboot_soft: 'reboot', reboot_hard: 'reboot' };
const POWER_EVENT: Record<PowerOp, string> = {
  stop: 'power_off',
  start: 'power_on',
  reboot_soft: 'reboot',
  reboot_hard: 'reboot',
};
const OP_FOR_TASK = new Map<TaskState, PowerOp>(Object.entries(POWER_TASK).map(([op, task]) => [task, op as PowerOp]));

/** The state a new instance is created in (Nova: vm `building`, task `scheduling`). */
export function initialState(): LifecycleState {
  return {
    vmState: 'building',
    taskState: 'scheduling',
    powerState: PowerState.NOSTATE,
    host: null,
    alternates: [],
    fault: null,
    launchedAt: null,
    inFlight: false,
  };
}

/** Effects that start a new instance's build. */
export function buildEffects(): Effect[] {
  return [{ kind: 'select' }];
}

export function transition(s: LifecycleState, e: LifecycleEvent): Transition {
  switch (e.kind) {
    case 'delete':
      return onDelete(s);
    case 'stop':
      return guard(s, 'stop', ['active', 'error'], [null]) ?? power(s, 'stop');
    case 'start':
      return guard(s, 'start', ['stopped'], [null]) ?? power(s, 'start');
    case 'reboot':
      return e.hard
        ? guard(s, 'reboot', HARD_REBOOT_VM, HARD_REBOOT_TASK) ?? power(s, 'reboot_hard')
        : guard(s, 'reboot', ['active'], [null]) ?? power(s, 'reboot_soft');
    case 'resume':
      return onResume(s);
    default:
      return onOutcome(s, e);
  }
}

function guard(
  s: LifecycleState,
  action: string,
  vm: readonly VmState[],
  task: readonly (TaskState | null)[],
): Transition | undefined {
  if (!vm.includes(s.vmState)) return { ok: false, action, attr: 'vm_state', value: s.vmState };
  if (!task.includes(s.taskState)) return { ok: false, action, attr: 'task_state', value: String(s.taskState) };
  return undefined;
}

function ok(next: LifecycleState, effects: Effect[] = []): Transition {
  return { ok: true, next, effects };
}

function power(s: LifecycleState, op: PowerOp): Transition {
  if (s.host === null) return { ok: false, action: POWER_ACTION[op], attr: 'vm_state', value: s.vmState };
  return ok({ ...s, taskState: POWER_TASK[op], inFlight: true }, [
    { kind: 'notify', event: `${POWER_EVENT[op]}.start` },
    { kind: 'power', host: s.host, op },
  ]);
}

function onDelete(s: LifecycleState): Transition {
  if (s.vmState === 'deleted') return ok(s);
  if (s.taskState === 'deleting' && s.inFlight) return ok(s);
  const marked: LifecycleState = { ...s, taskState: 'deleting' };
  // An effect is running: its outcome will see `deleting` and finish the delete.
  if (s.inFlight) return ok(marked, [{ kind: 'notify', event: 'delete.start' }]);
  return startDestroy(marked, [{ kind: 'notify', event: 'delete.start' }]);
}

function startDestroy(s: LifecycleState, before: Effect[] = []): Transition {
  if (s.host === null) return releaseThenDelete(s, before);
  return ok({ ...s, taskState: 'deleting', inFlight: true }, [...before, { kind: 'destroy', host: s.host }]);
}

/**
 * The guest is gone: give the capacity back, and only then call the instance deleted, so that a
 * reader who sees DELETED also sees the capacity free.
 */
function releaseThenDelete(s: LifecycleState, before: Effect[] = []): Transition {
  return ok({ ...s, taskState: 'deleting', host: null, powerState: PowerState.NOSTATE, inFlight: true }, [...before, { kind: 'release' }]);
}

function onResume(s: LifecycleState): Transition {
  const idle = { ...s, inFlight: false };
  if (s.vmState === 'deleted') return ok(idle);
  switch (s.taskState) {
    case null:
      return ok(idle);
    case 'scheduling':
      return ok({ ...idle, inFlight: true }, [{ kind: 'select' }]);
    case 'spawning':
      // A failed build (fault set) still on a host was destroying its last attempt: finish that first.
      if (s.host !== null && s.fault !== null) return ok({ ...idle, inFlight: true }, [{ kind: 'destroy', host: s.host }]);
      if (s.host !== null) return ok({ ...idle, inFlight: true }, [{ kind: 'spawn', host: s.host, claim: true }]);
      // No host but a fault: the build failed and was releasing its claim.
      if (s.fault !== null) return ok({ ...idle, inFlight: true }, [{ kind: 'release' }]);
      return ok({ ...idle, taskState: 'scheduling', inFlight: true }, [{ kind: 'select' }]);
    case 'deleting':
      return startDestroy(idle);
    default: {
      const op = OP_FOR_TASK.get(s.taskState);
      if (op && s.host !== null) return ok({ ...idle, inFlight: true }, [{ kind: 'power', host: s.host, op }]);
      // A task novact does not drive (yet): clear it rather than leave the instance stuck.
      return ok({ ...idle, taskState: null });
    }
  }
}

function onOutcome(s: LifecycleState, e: Outcome): Transition {
  const deleting = s.taskState === 'deleting';
  const done: LifecycleState = { ...s, inFlight: false };
  switch (e.kind) {
    case 'scheduled':
      if (deleting) return releaseThenDelete(done);
      if (s.taskState !== 'scheduling') return ok(s);
      return ok({ ...done, taskState: 'spawning', host: e.host, alternates: e.alternates, inFlight: true }, [
        { kind: 'spawn', host: e.host, claim: false },
      ]);
    case 'scheduleFailed':
      if (deleting) return releaseThenDelete(done);
      if (s.taskState !== 'scheduling') return ok(s);
      return ok({ ...done, vmState: 'error', taskState: null, fault: { code: 500, message: e.message } }, [
        { kind: 'notify', event: 'create.error' },
      ]);
    case 'spawned':
      if (e.host !== s.host) return ok(s);
      if (deleting) return startDestroy(done);
      if (s.taskState !== 'spawning') return ok(s);
      return ok(
        { ...done, vmState: 'active', taskState: null, powerState: e.powerState, alternates: [], fault: null, launchedAt: e.at },
        [{ kind: 'notify', event: 'create.end' }],
      );
    case 'spawnFailed': {
      if (e.host !== s.host) return ok(s);
      // The attempt may have left a guest (a timed-out spawn): destroy it before the capacity is given back.
      if (deleting) return startDestroy(done);
      const cleanup: Effect = { kind: 'cleanup', host: e.host };
      if (s.taskState !== 'spawning') return ok(s);
      const [next, ...rest] = s.alternates;
      if (next !== undefined) {
        return ok({ ...done, host: next, alternates: rest, inFlight: true }, [cleanup, { kind: 'spawn', host: next, claim: true }]);
      }
      // Out of alternates: destroy what the last attempt left, release the claim, then settle in ERROR
      // (see `destroyed` and `released`).
      return ok(
        { ...done, inFlight: true, fault: { code: 500, message: `Exceeded maximum number of retries. Last failure: ${e.message}` } },
        [{ kind: 'destroy', host: e.host }],
      );
    }
    case 'powered':
    case 'powerFailed': {
      if (deleting) return startDestroy(done);
      if (s.taskState !== POWER_TASK[e.op]) return ok(s);
      if (e.kind === 'powerFailed') {
        return ok({ ...done, taskState: null, fault: { code: 500, message: e.message } }, [
          { kind: 'notify', event: `${POWER_EVENT[e.op]}.error` },
        ]);
      }
      const vmState: VmState = e.op === 'stop' ? 'stopped' : 'active';
      return ok({ ...done, vmState, taskState: null, powerState: e.powerState }, [
        { kind: 'notify', event: `${POWER_EVENT[e.op]}.end` },
      ]);
    }
    case 'destroyed':
      if (deleting) return releaseThenDelete(done);
      // A failed build's last attempt is gone: now its claim may be released.
      if (s.taskState === 'spawning' && s.fault !== null && s.host !== null) {
        return ok({ ...done, host: null, powerState: PowerState.NOSTATE, inFlight: true }, [{ kind: 'release' }]);
      }
      return ok(s);
    case 'released':
      if (deleting) {
        return ok({ ...done, vmState: 'deleted', taskState: null }, [{ kind: 'notify', event: 'delete.end' }]);
      }
      if (s.taskState === 'spawning' && s.host === null) {
        return ok({ ...done, vmState: 'error', taskState: null }, [{ kind: 'notify', event: 'create.error' }]);
      }
      return ok(s);
  }
}
