/**
 * The instance lifecycle (pure): the action table, the step table keyed by task_state, and the
 * transition function over them. See `lifecycle/` for each part.
 */
export { ACTIONS, ACTION_NAMES, NOVA_SERVER_ACTIONS, actionOfApi, isActionName, type ActionArgs, type ActionName, type ActionSpec, type RestAnswer, type RestContext } from './lifecycle/actions.js';
export { DRIVEN_TASK_STATES, isDriven, type DrivenTaskState } from './lifecycle/driven.js';
export type { CallBudget, Effect, EffectKind, GuestOverride, HostQuery, ImageOrigin, ImageOwner, Outcome, OutcomeKind, PowerOp } from './lifecycle/effects.js';
export type { QuerySpec } from './lifecycle/query.js';
export { DEFAULT_LIFECYCLE_CONFIG, type Env, type Finished, type MigrationWrite, type LifecycleConfig, type Refusal, type Step, type Transition } from './lifecycle/kit.js';
export { EMPTY_CONTEXT, initialState, type Caller, type CallerLimits, type FlavorRef, type LifecycleState, type Lock, type SnapshotTask, type TaskContext, type Token } from './lifecycle/state.js';
export { STEPS } from './lifecycle/steps.js';
export { DEFAULT_ENV, transition, type ActionEvent, type LifecycleEvent, type ResumeEvent } from './lifecycle/transition.js';
export { SYNC_RULES, observationMatters, observe, syncAction, type ObservedEvent, type SyncAction, type SyncView } from './lifecycle/power-sync.js';
