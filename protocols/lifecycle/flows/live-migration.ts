/**
 * Live migration (Nova's `migrating`, one task state; the phase is the program counter):
 * select (scheduler `select` with `move`: the migration takes the source allocation, the instance
 * is claimed on the destination) → prepare (`prepare-incoming` on the destination) → migrate
 * (`live-migrate` on the source) → finish (`finish-incoming` on the destination; the instance's host
 * is the destination from here) → confirm (scheduler `confirm-move`: the source allocation is freed).
 * The record goes queued → preparing → running → post-migrating → completed.
 *
 * Abort (2.24; queued and preparing ones from 2.65) and failures roll back: `abort-live-migration` on
 * the source (if the transfer was running), `abort-incoming` on the destination, scheduler
 * `revert-move` (the instance's allocation back on the source); the record ends cancelled (abort) or
 * error (failure), the instance stays on the source in its vm state.
 */
import type { MigrationStatus } from '../../migrations.js';
import type { LifecycleState } from '../state.js';
import { refuse, type ContextPatch, type MigrationWrite, type Refusal } from '../kit.js';
import { endMove, phased, toPhase, type Phase } from './phases.js';

export type LivePhase = 'select' | 'prepare' | 'migrate' | 'finish' | 'confirm' | 'abort-source' | 'abort-dest' | 'revert';

/** The record's status while each forward phase runs (what abort and force-complete look at). */
export const LIVE_STATUS: Record<LivePhase, MigrationStatus> = {
  select: 'queued', prepare: 'preparing', migrate: 'running', finish: 'post-migrating', confirm: 'post-migrating',
  'abort-source': 'running', 'abort-dest': 'running', revert: 'running',
};
const UNDER_WAY: readonly MigrationStatus[] = ['queued', 'preparing', 'running', 'post-migrating'];

const mig = (s: LifecycleState) => s.ctx.migration!;
const phaseOf = (s: LifecycleState) => (s.ctx.phase ?? 'select') as LivePhase;
const status = (s: LifecycleState, from: MigrationStatus, to: MigrationStatus, dest?: string): MigrationWrite =>
  ({ op: 'status', uuid: mig(s).uuid, from: [from], to, ...(dest ? { dest } : {}) });
const to = (s: LifecycleState, phase: LivePhase, ctx: ContextPatch = {}, patch: Partial<LifecycleState> = {}, m?: MigrationWrite) =>
  toPhase(s, 'migrating', phase, ctx, patch, m);

/** A failure rolls back from the phase it happened in: the transfer's source first, else the destination. */
const rollback = (s: LifecycleState, from: 'migrate' | 'prepare', o: { code: number; message: string }) =>
  to(s, from === 'migrate' ? 'abort-source' : 'abort-dest', { failure: { code: o.code, message: o.message } });

const PHASES: Record<LivePhase, Phase> = {
  select: {
    effect: (s, token) => {
      const host = s.ctx.args?.host;
      return { kind: 'selectMigration', token, ...(typeof host === 'string' ? { targetHost: host } : {}) };
    },
    on: {
      scheduled: (s, o) => to(s, 'prepare', { migration: { ...mig(s), dest: o.host } }, {}, status(s, 'queued', 'preparing', o.host)),
      scheduleFailed: (s, o) => endMove(s, {}, { op: 'status', uuid: mig(s).uuid, from: UNDER_WAY, to: 'error' }, { code: 400, message: o.message }),
    },
  },
  prepare: {
    effect: (s, token) => ({ kind: 'host', token, host: mig(s).dest!, verb: 'prepare-incoming', body: {}, budget: 'move', guest: {} }),
    on: {
      done: (s) => to(s, 'migrate', {}, {}, status(s, 'preparing', 'running')),
      failed: (s, o) => rollback(s, 'prepare', o),
    },
  },
  migrate: {
    effect: (s, token) => ({ kind: 'host', token, host: mig(s).source, verb: 'live-migrate', body: { dest: { host: mig(s).dest! } }, budget: 'move' }),
    on: {
      done: (s) => to(s, 'finish', {}, {}, status(s, 'running', 'post-migrating')),
      // Not on the source: a resumed step whose transfer had already finished; the destination says.
      failed: (s, o) => (o.code === 404 ? to(s, 'finish', {}, {}, status(s, 'running', 'post-migrating')) : rollback(s, 'migrate', o)),
    },
  },
  finish: {
    effect: (s, token) => ({ kind: 'host', token, host: mig(s).dest!, verb: 'finish-incoming', body: {}, budget: 'move' }),
    on: {
      done: (s, o) => {
        const guest = (o.reply as { guest?: { powerState?: LifecycleState['powerState'] } }).guest;
        return to(s, 'confirm', {}, { host: mig(s).dest!, ...(guest?.powerState !== undefined ? { powerState: guest.powerState } : {}) });
      },
      failed: (s, o) => to(s, 'abort-dest', { failure: { code: o.code, message: o.message } }),
    },
  },
  confirm: {
    effect: (s, token) => ({ kind: 'scheduler', token, verb: 'confirm-move', body: { migrationUuid: mig(s).uuid } }),
    on: {
      done: (s) => endMove(s, { host: mig(s).dest! }, status(s, 'post-migrating', 'completed')),
      failed: (s, o) => endMove(s, { host: mig(s).dest! }, { op: 'status', uuid: mig(s).uuid, from: UNDER_WAY, to: 'error' }, { code: o.code, message: o.message }),
    },
  },
  'abort-source': {
    effect: (s, token) => ({ kind: 'host', token, host: mig(s).source, verb: 'abort-live-migration', body: {}, budget: 'move' }),
    on: {
      done: (s) => to(s, 'abort-dest'),
      // The guest left the source: the transfer finished before the abort reached it, so go forward.
      failed: (s, o) => (o.code === 404 ? to(s, 'finish', {}, {}, status(s, 'running', 'post-migrating')) : to(s, 'abort-dest')),
    },
  },
  'abort-dest': {
    effect: (s, token) => ({ kind: 'host', token, host: mig(s).dest!, verb: 'abort-incoming', body: {}, budget: 'move' }),
    on: {
      done: (s) => to(s, 'revert', { migration: mig(s) }),
      failed: (s) => to(s, 'revert'),
    },
  },
  revert: {
    effect: (s, token) => ({ kind: 'scheduler', token, verb: 'revert-move', body: { migrationUuid: mig(s).uuid }, withInstance: true }),
    on: {
      done: (s) => {
        const f = s.ctx.failure;
        return endMove(s, { host: mig(s).source }, { op: 'status', uuid: mig(s).uuid, from: UNDER_WAY, to: f ? 'error' : 'cancelled' }, f);
      },
    },
  },
};

export const liveMigrationSteps = { migrating: phased(PHASES, 'select') };

/** The action's start: a new live-migration record (queued), the source is where the instance is. */
export function startLiveMigration(s: LifecycleState, args: Record<string, unknown>, newId: (() => string) | undefined): { ctx: ContextPatch; migration: MigrationWrite } {
  const uuid = (newId ?? missingUuid)();
  const host = s.host!;
  return {
    ctx: { phase: 'select', args, previousVm: s.vmState, migration: { uuid, type: 'live-migration', source: host, dest: null } },
    migration: { op: 'create', uuid, type: 'live-migration', source: host, dest: null, oldFlavorId: s.flavor.id, newFlavorId: s.flavor.id },
  };
}

const missingUuid = (): string => {
  throw new Error('the conductor gives the lifecycle no uuid source (Env.newId)');
};

/** Checks that `uuid` is the instance's live migration and in a phase `allowed` admits. */
export function checkLivePhase(s: LifecycleState, action: string, uuid: string, allowed: readonly MigrationStatus[]): Refusal | undefined {
  const m = s.ctx.migration;
  if (!m || m.type !== 'live-migration' || m.uuid !== uuid.toLowerCase()) {
    return refuse(action, 'migration', `Migration ${uuid} is not the live migration in progress.`);
  }
  const st = LIVE_STATUS[phaseOf(s)];
  const forward = ['select', 'prepare', 'migrate'].includes(phaseOf(s));
  if (!forward || !allowed.includes(st)) {
    return refuse(action, 'migration', `Migration ${uuid} state of instance is ${forward ? st : 'being rolled back'}. Cannot ${action} while the migration is in this state.`);
  }
  return undefined;
}

/** Where an abort starts from: what the move has done so far is undone, newest first. */
export function abortPhase(s: LifecycleState): LivePhase {
  const p = phaseOf(s);
  return p === 'migrate' ? 'abort-source' : p === 'prepare' ? 'abort-dest' : 'revert';
}
