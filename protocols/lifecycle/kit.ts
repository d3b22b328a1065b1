/**
 * The vocabulary steps and actions are written in: a transition's result, entering a step (which
 * issues its one effect under a fresh token), finishing a task, refusing.
 */
import type { TaskState, VmState } from '../states.js';
import type { MigrationStatus, MigrationType } from '../migrations.js';
import type { DrivenTaskState } from './driven.js';
import type { Effect, HostQuery, Outcome, OutcomeKind } from './effects.js';
import type { FlavorRef, LifecycleState, TaskContext, Token } from './state.js';

/** Settings the lifecycle reads (Nova's names). */
export interface LifecycleConfig {
  /** > 0 makes delete soft (SOFT_DELETED) for that many seconds. */
  reclaimInstanceIntervalS: number;
  /** Resizes left unconfirmed this long are confirmed automatically (0 = never). */
  resizeConfirmWindowS: number;
  /** Shelved servers are offloaded after this long (0 = at once, -1 = never). */
  shelvedOffloadTimeS: number;
  allowResizeToSameHost: boolean;
}

export const DEFAULT_LIFECYCLE_CONFIG: LifecycleConfig = {
  reclaimInstanceIntervalS: 0,
  resizeConfirmWindowS: 0,
  shelvedOffloadTimeS: 0,
  allowResizeToSameHost: false,
};

export interface Env {
  now: number;
  config: LifecycleConfig;
  /** The flavor a reference names (resize), from the conductor's catalog; undefined when unknown. */
  flavor?: (ref: string) => FlavorRef | undefined;
  /** A fresh uuid (a move's migration record, a snapshot's image); the conductor gives randomUUID. */
  newId?: () => string;
  /** Whether a host's compute service is down or forced down (evacuate), as the conductor knows it now. */
  hostDown?: (host: string) => boolean;
}

/** The instance action a task's end closes (written with the state that ends it). */
export interface Finished {
  action: string;
  result: 'Success' | 'Error';
  message: string | null;
}

/**
 * `args`: the action's arguments do not fit the instance (a 400; `value` is Nova's message).
 * `service`: the source host's compute service is still up (evacuate; Nova's ComputeServiceInUse, a
 * 400); `migration`: the migration named is not the instance's or not in a state the action accepts
 * (Nova's InvalidMigrationState, a 400; `value` is the message).
 */
export type Refusal = { ok: false; action: string; attr: 'vm_state' | 'task_state' | 'launched_at' | 'locked' | 'admin' | 'args' | 'host' | 'power_state' | 'service' | 'migration'; value: string };
/**
 * A change to the move's migration record, written by the instance actor right after the state it
 * goes with (records, like instance actions; the ledger and the guest follow the state, not these).
 */
export type MigrationWrite =
  | { op: 'create'; uuid: string; type: MigrationType; source: string | null; dest: string | null; oldFlavorId: string | null; newFlavorId: string | null; status?: MigrationStatus }
  | { op: 'status'; uuid: string; from: readonly MigrationStatus[]; to: MigrationStatus; dest?: string };

export interface Accepted {
  ok: true;
  next: LifecycleState;
  effects: Effect[];
  finished?: Finished;
  migration?: MigrationWrite;
  /** Set by `goto`: the engine issues the step's effect under a fresh token. */
  enter?: true;
  /** A query action: the host call whose reply answers the caller (no state change). */
  query?: HostQuery;
}
export type Transition = Accepted | Refusal;

export type Handler<K extends OutcomeKind> = (s: LifecycleState, o: Extract<Outcome, { kind: K }>, env: Env) => Transition;

/** One task state: the effect that (re)starts it, and what each outcome of that effect leads to. */
export interface Step {
  effect: (s: LifecycleState, token: Token, env: Env) => Effect;
  on: { [K in OutcomeKind]?: Handler<K> };
}

export function ok(next: LifecycleState, effects: Effect[] = [], finished?: Finished): Transition {
  return finished ? { ok: true, next, effects, finished } : { ok: true, next, effects };
}

export function refuse(action: string, attr: Refusal['attr'], value: string): Refusal {
  return { ok: false, action, attr, value };
}

export const notify = (event: string): Effect => ({ kind: 'notify', event });

export const sameToken = (a: Token | null, b: Token): boolean => a !== null && a.step === b.step && a.attempt === b.attempt;

/** The event prefix of the task under way (`create`, `pause`, …), for its end notifications. */
export const eventOf = (s: LifecycleState): string => s.ctx.event ?? 'update';

/**
 * Ends the task: idle, context cleared, with the notification `<event>.end` (or `.error` when a
 * fault is given), and the instance action's finish.
 */
export function finish(s: LifecycleState, patch: Partial<LifecycleState>, fault?: { code: number; message: string }): Transition {
  const event = eventOf(s);
  const next: LifecycleState = { ...s, ...patch, taskState: null, ctx: { attempt: s.ctx.attempt }, running: null, ...(fault ? { fault } : {}) };
  const finished: Finished = { action: s.ctx.action ?? 'create', result: fault ? 'Error' : 'Success', message: fault?.message ?? null };
  return ok(next, [notify(`${event}.${fault ? 'error' : 'end'}`)], finished);
}

/**
 * Moves to step `task` (the program counter): the engine then issues that step's effect under a
 * fresh token. `before` runs first (notifications, cleanups that await nothing).
 */
export function goto(s: LifecycleState, task: DrivenTaskState, patch: Partial<LifecycleState> = {}, before: Effect[] = []): Accepted {
  return { ok: true, next: { ...s, ...patch, taskState: task }, effects: before, enter: true };
}

/** Stale or unexpected outcome: nothing changes. */
export const ignore = (s: LifecycleState): Transition => ok(s);

export type StepTable = Record<DrivenTaskState, Step>;

/** Guards as Nova's `@check_instance_state`: 'any' admits every value. */
export interface Guard {
  vm: readonly VmState[] | 'any';
  task: readonly (TaskState | null)[] | 'any';
  /** Nova's must_have_launched (default true). */
  launched?: boolean;
}

export const IDLE: readonly (TaskState | null)[] = [null];

export function checkGuard(s: LifecycleState, action: string, g: Guard): Refusal | undefined {
  if (g.vm !== 'any' && !g.vm.includes(s.vmState)) return refuse(action, 'vm_state', s.vmState);
  if (g.task !== 'any' && !g.task.includes(s.taskState)) return refuse(action, 'task_state', String(s.taskState));
  if (g.launched !== false && s.launchedAt === null) return refuse(action, 'launched_at', 'None');
  return undefined;
}

export type ContextPatch = Omit<TaskContext, 'attempt'>;

/** What an action's `prepare` gives the task it begins: context, and a migration record to write. */
export interface Prepared {
  ctx?: ContextPatch;
  migration?: MigrationWrite;
}
