/**
 * Evacuate (Nova's `rebuilding` on the destination; the phase is the program counter), only once
 * the source host's compute service is down: select (scheduler `select` with `move`, away from the
 * source: the migration consumer takes the source allocation) → spawn (host `spawn` on the
 * destination from the row's spec; the instance's host is the destination from here) → power-off
 * (only when the instance ends stopped) → release (the migration consumer: the dead source's
 * allocation is freed). The record goes accepted → pre-migrating → done (failed or error otherwise).
 * The source's guest, if its host ever comes back, is not the instance's any more: the host's guest
 * reaper destroys it (the conductor names only the destination as the instance's host).
 */
import { PowerState } from '../../states.js';
import type { MigrationStatus } from '../../migrations.js';
import type { VmState } from '../../states.js';
import type { LifecycleState } from '../state.js';
import { refuse, type ContextPatch, type Env, type MigrationWrite, type Refusal } from '../kit.js';
import { endMove, phased, toPhase, type Phase } from './phases.js';

export type EvacuatePhase = 'select' | 'spawn' | 'power-off' | 'release' | 'revert';

const mig = (s: LifecycleState) => s.ctx.migration!;
const UNDER_WAY: readonly MigrationStatus[] = ['accepted', 'pre-migrating'];
const status = (s: LifecycleState, to: MigrationStatus, dest?: string): MigrationWrite =>
  ({ op: 'status', uuid: mig(s).uuid, from: UNDER_WAY, to, ...(dest ? { dest } : {}) });
const to = (s: LifecycleState, phase: EvacuatePhase, ctx: ContextPatch = {}, patch: Partial<LifecycleState> = {}, m?: MigrationWrite) =>
  toPhase(s, 'rebuilding', phase, ctx, patch, m);

/** Stopped stays stopped; from 2.95 (`targetState: 'stopped'`) every evacuated instance ends stopped. */
const endsIn = (s: LifecycleState): VmState => (s.ctx.previousVm === 'stopped' || s.ctx.args?.targetState === 'stopped' ? 'stopped' : 'active');

const PHASES: Record<EvacuatePhase, Phase> = {
  select: {
    effect: (s, token) => {
      const host = s.ctx.args?.host;
      return { kind: 'selectMigration', token, ...(typeof host === 'string' ? { targetHost: host } : {}) };
    },
    on: {
      scheduled: (s, o) => to(s, 'spawn', { migration: { ...mig(s), dest: o.host } }, {}, status(s, 'pre-migrating', o.host)),
      // Nothing moved: the instance stays as it was on its dead host, the record says why.
      scheduleFailed: (s, o) => endMove(s, {}, status(s, 'error'), { code: 400, message: o.message }),
    },
  },
  spawn: {
    effect: (s, token) => ({ kind: 'host', token, host: mig(s).dest!, verb: 'spawn', body: {}, budget: 'spawn', guest: {} }),
    on: {
      done: (s, o) => {
        const guest = (o.reply as { guest?: { powerState?: LifecycleState['powerState'] } }).guest;
        const patch = { host: mig(s).dest!, launchedAt: o.at, ...(guest?.powerState !== undefined ? { powerState: guest.powerState } : {}) };
        return to(s, endsIn(s) === 'stopped' ? 'power-off' : 'release', {}, patch);
      },
      // The attempt may have left a guest: destroy it while the allocation goes back to the source.
      failed: (s, o) => toPhase(s, 'rebuilding', 'revert', { failure: { code: o.code, message: o.message } }, {}, undefined, [{ kind: 'cleanup', host: mig(s).dest! }]),
    },
  },
  'power-off': {
    effect: (s, token) => ({ kind: 'power', token, host: mig(s).dest!, op: 'stop' }),
    on: {
      powered: (s, o) => to(s, 'release', {}, { powerState: o.powerState }),
      // The guest runs on the destination anyway: the evacuation is done, the fault says what failed.
      failed: (s, o) => to(s, 'release', { failure: { code: o.code, message: o.message } }),
    },
  },
  release: {
    effect: (s, token) => ({ kind: 'release', token, instance: false, migrations: [mig(s).uuid] }),
    on: {
      released: (s) => {
        const f = s.ctx.failure;
        return endMove(s, { vmState: f ? 'error' : endsIn(s), host: mig(s).dest!, ...(f ? { fault: f } : { fault: null }) }, status(s, 'done'), f);
      },
    },
  },
  revert: {
    effect: (s, token) => ({ kind: 'scheduler', token, verb: 'revert-move', body: { migrationUuid: mig(s).uuid }, withInstance: true }),
    on: {
      done: (s) => {
        const f = s.ctx.failure ?? { code: 500, message: 'evacuation failed' };
        return endMove(s, { vmState: 'error', host: mig(s).source, powerState: PowerState.NOSTATE, fault: f }, status(s, 'failed'), f);
      },
    },
  },
};

/** Evacuate's `rebuilding` (shared with rebuild: flows/rebuilding.ts picks by the task's migration). */
export const evacuateStep = phased(PHASES, 'select');

/** The action's start: only when the source's compute service is down (Nova's ComputeServiceInUse, a 400). */
export function startEvacuate(s: LifecycleState, args: Record<string, unknown>, env: Env): Refusal | { ctx: ContextPatch; migration: MigrationWrite } {
  const source = s.host;
  // Nova admits any task; a delete under way is the one novact does not let an evacuation overtake.
  if (s.taskState === 'deleting') return refuse('evacuate', 'task_state', 'deleting');
  if (source === null) return refuse('evacuate', 'vm_state', s.vmState);
  if (env.hostDown?.(source) !== true) return refuse('evacuate', 'service', source);
  if (!env.newId) throw new Error('the conductor gives the lifecycle no uuid source (Env.newId)');
  const uuid = env.newId();
  return {
    ctx: { phase: 'select', args, previousVm: s.vmState, migration: { uuid, type: 'evacuation', source, dest: null } },
    migration: { op: 'create', uuid, type: 'evacuation', source, dest: null, oldFlavorId: s.flavor.id, newFlavorId: s.flavor.id },
  };
}
