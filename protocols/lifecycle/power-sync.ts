/**
 * Power sync, the conductor's rules (Nova's `_sync_instance_power_state`, nova/compute/manager.py):
 * the host reports what its hypervisor says, the database's vm_state wins. An instance with a task
 * under way, or on another host, is left alone; otherwise the stored power_state takes the
 * observed one, and where vm_state and the guest disagree in the ways Nova acts on, a stop begins
 * (`compute_api.stop` / `force_stop`: task `powering-off`, instance action `stop`).
 */
import { PowerState, type VmState } from '../states.js';
import { goto, notify, ok, type Transition } from './kit.js';
import type { LifecycleState } from './state.js';

/** One observation of a guest by its host: a driver event or a line of a periodic listing. */
export type ObservedEvent = { kind: 'observed'; host: string; powerState: PowerState; at: number };

/** What Nova does about a (vm_state, observed power state) pair. */
export type SyncAction = 'none' | 'stop' | 'force_stop';

const { NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED } = PowerState;
const all = (a: SyncAction): Record<PowerState, SyncAction> =>
  ({ [NOSTATE]: a, [RUNNING]: a, [PAUSED]: a, [SHUTDOWN]: a, [CRASHED]: a, [SUSPENDED]: a });

/**
 * Nova's table. active: shut down / crashed ⇒ stop (delete if shutdown_terminate, which novact
 * has not), suspended ⇒ stop, paused and not found are only logged. stopped: anything but
 * NOSTATE / SHUTDOWN / CRASHED ⇒ force_stop. paused: shut down / crashed ⇒ force_stop. building,
 * rescued, resized, suspended, error, (soft-)deleted and the shelved states: nothing.
 */
export const SYNC_RULES: Record<VmState, Record<PowerState, SyncAction>> = {
  active: { ...all('none'), [SHUTDOWN]: 'stop', [CRASHED]: 'stop', [SUSPENDED]: 'stop' },
  stopped: { ...all('force_stop'), [NOSTATE]: 'none', [SHUTDOWN]: 'none', [CRASHED]: 'none' },
  paused: { ...all('none'), [SHUTDOWN]: 'force_stop', [CRASHED]: 'force_stop' },
  building: all('none'),
  rescued: all('none'),
  resized: all('none'),
  suspended: all('none'),
  error: all('none'),
  'soft-delete': all('none'),
  deleted: all('none'),
  shelved: all('none'),
  shelved_offloaded: all('none'),
};

/** The part of an instance the rules read (a lifecycle state, or a database row). */
export interface SyncView {
  vmState: VmState;
  taskState: string | null;
  powerState: number;
  host: string | null;
}

/** Whether the observation is Nova's business at all: no task under way, and the instance is on that host. */
const applies = (s: SyncView, e: ObservedEvent): boolean => s.taskState === null && s.host === e.host && s.vmState !== 'deleted';

/** The action an observation leads to (`none` when it is ignored). */
export function syncAction(s: SyncView, e: ObservedEvent): SyncAction {
  return applies(s, e) ? SYNC_RULES[s.vmState][e.powerState] : 'none';
}

/** Whether the observation would change anything: lets the conductor skip idle, matching instances without loading them. */
export function observationMatters(s: SyncView, e: ObservedEvent): boolean {
  return applies(s, e) && (s.powerState !== e.powerState || SYNC_RULES[s.vmState][e.powerState] !== 'none');
}

/**
 * The transition for an observation. Nova's `force_stop` differs from `stop` only in skipping the
 * API's state guard; the conductor acts as an admin (locks do not apply), so both begin the stop.
 */
export function observe(s: LifecycleState, e: ObservedEvent): Transition {
  if (!applies(s, e)) return ok(s);
  const synced: LifecycleState = s.powerState === e.powerState ? s : { ...s, powerState: e.powerState };
  if (syncAction(s, e) === 'none') return ok(synced);
  const ctx = { attempt: s.ctx.attempt, action: 'stop', event: 'power_off' };
  return goto(synced, 'powering-off', { ctx }, [notify('power_off.start')]);
}
