/**
 * Resize and cold migrate (one path; migrate keeps the flavor), with confirm and revert.
 *
 *   resize_prep        scheduler `select` with `move`: the instance's allocation goes to the
 *                      destination (new flavor), the source's to the migration consumer
 *   resize_migrating   source `migrate-out` (powers off, copies, keeps the guest for a revert)
 *   resize_finish      destination `finish-migration` (new flavor) → vm `resized`, host = dest
 *   resize_confirming  source `confirm-migration`, then scheduler `confirm-move` (source freed)
 *   resize_reverting   dest `revert-migration`, source `finish-revert`, scheduler `revert-move`
 *
 * A task state with several calls names the one under way in `ctx.moveStage`, so a resume re-issues
 * exactly that call. A failure before the move is finished rolls back along the revert path (the
 * guest back on the source, the source allocation back to the instance) and ends in the previous
 * vm state with the fault; a failure of the rollback or of a confirm ends in ERROR and keeps the
 * move's context, so a delete destroys on both hosts and releases both consumers.
 */
import type { MigrationStatus } from '../../migrations.js';
import type { PowerState } from '../../states.js';
import type { DrivenTaskState } from '../driven.js';
import type { Effect, Outcome } from '../effects.js';
import { finish, goto, refuse, type Accepted, type Env, type MigrationWrite, type Prepared, type Refusal, type Step, type Transition } from '../kit.js';
import type { FlavorRef, LifecycleState, TaskContext } from '../state.js';

type Move = NonNullable<TaskContext['migration']>;
type Fault = { code: number; message: string };

const move = (s: LifecycleState): Move => {
  const m = s.ctx.migration;
  if (!m) throw new Error(`task ${String(s.taskState)} has no migration in its context`);
  return m;
};
const powerOn = (s: LifecycleState): boolean => s.ctx.previousVm !== 'stopped';
const guestPower = (o: Extract<Outcome, { kind: 'done' }>, fallback: PowerState): PowerState =>
  ((o.reply.guest as { powerState?: PowerState } | undefined)?.powerState ?? fallback);

/** Every status a move record may have before it ends (a rollback sets `error` from any of them). */
const OPEN: readonly MigrationStatus[] = ['pre-migrating', 'migrating', 'post-migrating', 'finished', 'confirming', 'reverting'];
const status = (s: LifecycleState, from: readonly MigrationStatus[], to: MigrationStatus, dest?: string): MigrationWrite =>
  ({ op: 'status', uuid: move(s).uuid, from, to, ...(dest ? { dest } : {}) });

/**
 * Each forward status is written from any earlier one: a write lost to a crash between the state's
 * CAS and the record's is then made good by the next, instead of refusing it forever.
 */
const FORWARD: readonly MigrationStatus[] = ['pre-migrating', 'migrating', 'post-migrating', 'finished'];
const after = (to: MigrationStatus): readonly MigrationStatus[] => FORWARD.slice(0, FORWARD.indexOf(to));

const withMigration = (t: Accepted, w: MigrationWrite): Accepted => ({ ...t, migration: w });

/** Ends the task but keeps the move in the context (VERIFY_RESIZE, or ERROR for a delete to clean up). */
function finishKeeping(s: LifecycleState, patch: Partial<LifecycleState>, w: MigrationWrite, fault?: Fault): Accepted {
  const t = finish(s, patch, fault) as Accepted;
  const ctx: TaskContext = { attempt: t.next.ctx.attempt, migration: move(s), ...(s.ctx.previousVm ? { previousVm: s.ctx.previousVm } : {}) };
  return withMigration({ ...t, next: { ...t.next, ctx } }, w);
}

/** The move could not be finished nor rolled back: ERROR, allocations and guests left for a delete to clean. */
const broken = (s: LifecycleState, o: Extract<Outcome, { kind: 'failed' }>): Transition =>
  finishKeeping(s, { vmState: 'error' }, status(s, OPEN, 'error'), { code: o.code, message: o.message });

/** Rolls back along the revert path from `stage`, remembering the fault the task ends with. */
function rollBack(s: LifecycleState, fault: Fault, stage: 'dest' | 'ledger'): Transition {
  const from = stage === 'dest' && move(s).dest === null ? 'ledger' : stage;
  return goto(s, 'resize_reverting', { ctx: { ...s.ctx, moveStage: from, undo: fault } });
}

// ---------------------------------------------------------------------------------------------
// Actions (the rows in actions.ts call these after Nova's guard).

function startMove(s: LifecycleState, type: Move['type'], newFlavor: FlavorRef, env: Env, targetHost?: string): Prepared {
  if (!env.newId) throw new Error('a move needs env.newId (the migration uuid)');
  const uuid = env.newId();
  const migration: Move = { uuid, type, source: s.host!, dest: null, oldFlavor: s.flavor, newFlavor };
  return {
    ctx: { previousVm: s.vmState, migration, ...(targetHost ? { args: { host: targetHost } } : {}) },
    migration: { op: 'create', uuid, type, source: s.host, dest: null, oldFlavorId: s.flavor.id, newFlavorId: newFlavor.id, status: 'pre-migrating' },
  };
}

export function prepareResize(s: LifecycleState, a: { flavorRef: string | number }, env: Env): Prepared | Refusal {
  const f = env.flavor?.(String(a.flavorRef));
  if (!f) return refuse('resize', 'args', 'Unable to locate requested flavor.');
  if (f.id === s.flavor.id) return refuse('resize', 'args', 'When resizing, instances must change flavor!');
  if (f.rootGb < s.flavor.rootGb) return refuse('resize', 'args', 'Server disk was unable to be resized because: Resize to a smaller disk flavor is not allowed.');
  return startMove(s, 'resize', f, env);
}

export function prepareMigrate(s: LifecycleState, a: { host?: string | null } | null, env: Env): Prepared | Refusal {
  const target = a?.host ?? undefined;
  if (target !== undefined && target === s.host) return refuse('migrate', 'args', 'Unable to migrate instance to the same host.');
  return startMove(s, 'migration', s.flavor, env, target);
}

/** Confirm and revert act on the finished move the context still holds. */
function onFinishedMove(action: string, to: MigrationStatus, stage: 'source' | 'dest') {
  return (s: LifecycleState): Prepared | Refusal => {
    if (!s.ctx.migration) return refuse(action, 'args', 'Instance has not been resized.');
    return {
      ctx: { migration: s.ctx.migration, moveStage: stage, ...(s.ctx.previousVm ? { previousVm: s.ctx.previousVm } : {}) },
      migration: { op: 'status', uuid: s.ctx.migration.uuid, from: ['finished'], to },
    };
  };
}
export const prepareConfirm = onFinishedMove('confirmResize', 'confirming', 'source');
export const prepareRevert = onFinishedMove('revertResize', 'reverting', 'dest');

// ---------------------------------------------------------------------------------------------
// Steps.

const resize_prep: Step = {
  effect: (s, token, env): Effect => {
    const m = move(s);
    const target = s.ctx.args?.host;
    return {
      kind: 'selectMove', token, migrationUuid: m.uuid, source: m.source, flavor: m.newFlavor ?? s.flavor,
      // Nova: a cold migration never lands on its source; a resize only with allow_resize_to_same_host.
      allowSameHost: m.type === 'resize' && env.config.allowResizeToSameHost,
      ...(typeof target === 'string' ? { targetHost: target } : {}),
    };
  },
  on: {
    scheduled: (s, o) => withMigration(
      goto(s, 'resize_migrating', { ctx: { ...s.ctx, migration: { ...move(s), dest: o.host } } }),
      status(s, after('migrating'), 'migrating', o.host),
    ),
    // The allocations may have moved (a lost reply): revert-move puts back whatever did.
    scheduleFailed: (s, o) => rollBack(s, { code: 500, message: o.message }, 'ledger'),
  },
};

const resize_migrating: Step = {
  effect: (s, token) => {
    const m = move(s);
    return { kind: 'host', token, host: m.source, verb: 'migrate-out', body: { dest: { host: m.dest! } }, budget: 'move' };
  },
  on: {
    // The row names the destination before the guest is built there (Nova does too), so the
    // destination's reconciliation never takes the arriving guest for a stray.
    done: (s) => withMigration(goto(s, 'resize_finish', { host: move(s).dest! }), status(s, after('post-migrating'), 'post-migrating')),
    failed: (s, o) => rollBack(s, { code: o.code, message: o.message }, 'dest'),
  },
};

const resize_finish: Step = {
  effect: (s, token) => {
    const m = move(s);
    return { kind: 'host', token, host: m.dest!, verb: 'finish-migration', body: { powerOn: powerOn(s) }, budget: 'move', guest: { flavor: m.newFlavor ?? s.flavor } };
  },
  on: {
    done: (s, o) => {
      const m = move(s);
      return finishKeeping(s, { vmState: 'resized', host: m.dest!, flavor: m.newFlavor ?? s.flavor, powerState: guestPower(o, s.powerState), fault: null },
        status(s, after('finished'), 'finished'));
    },
    failed: (s, o) => rollBack(s, { code: o.code, message: o.message }, 'dest'),
  },
};

const resize_confirming: Step = {
  effect: (s, token): Effect => {
    const m = move(s);
    if (s.ctx.moveStage === 'ledger') return { kind: 'scheduler', token, verb: 'confirm-move', body: { migrationUuid: m.uuid } };
    return { kind: 'host', token, host: m.source, verb: 'confirm-migration', body: {}, budget: 'request' };
  },
  on: {
    done: (s) => {
      if (s.ctx.moveStage !== 'ledger') return goto(s, 'resize_confirming', { ctx: { ...s.ctx, moveStage: 'ledger' } });
      return withMigration(finish(s, { vmState: s.ctx.previousVm ?? 'active', fault: null }) as Accepted, status(s, ['finished', 'confirming'], 'confirmed'));
    },
    failed: broken,
  },
};

const resize_reverting: Step = {
  effect: (s, token): Effect => {
    const m = move(s);
    switch (s.ctx.moveStage) {
      case 'ledger': return { kind: 'scheduler', token, verb: 'revert-move', body: { migrationUuid: m.uuid }, withInstance: true };
      case 'source': return { kind: 'host', token, host: m.source, verb: 'finish-revert', body: { powerOn: powerOn(s) }, budget: 'move' };
      default: return { kind: 'host', token, host: m.dest!, verb: 'revert-migration', body: {}, budget: 'request' };
    }
  },
  on: {
    done: (s, o) => {
      const m = move(s);
      switch (s.ctx.moveStage) {
        case 'source': return goto(s, 'resize_reverting', { powerState: guestPower(o, s.powerState), ctx: { ...s.ctx, moveStage: 'ledger' } });
        case 'ledger': {
          const back = { vmState: s.ctx.previousVm ?? 'active', host: m.source, flavor: m.oldFlavor ?? s.flavor };
          const undo = s.ctx.undo;
          if (undo) return withMigration(finish(s, back, undo) as Accepted, status(s, OPEN, 'error'));
          return withMigration(finish(s, { ...back, fault: null }) as Accepted, status(s, ['finished', 'reverting'], 'reverted'));
        }
        // The destination is clean: the row names the source again before its guest comes back.
        default: return goto(s, 'resize_reverting', { host: m.source, ctx: { ...s.ctx, moveStage: 'source' } });
      }
    },
    failed: broken,
  },
};

export const resizeSteps = {
  resize_prep, resize_migrating, resize_finish, resize_confirming, resize_reverting,
} satisfies Partial<Record<DrivenTaskState, Step>>;
