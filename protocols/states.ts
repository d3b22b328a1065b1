/** Nova's instance state vocabulary (nova/objects/fields.py), and the API status derived from it. */

export const VM_STATES = [
  'active', 'building', 'paused', 'suspended', 'stopped', 'rescued', 'resized',
  'soft-delete', 'deleted', 'error', 'shelved', 'shelved_offloaded',
] as const;
export type VmState = (typeof VM_STATES)[number];

/** The task states novact drives today; Nova's full list grows here as actions are added. */
export const TASK_STATES = [
  'scheduling', 'spawning', 'deleting', 'powering-off', 'powering-on',
  'rebooting', 'rebooting_hard', 'reboot_pending', 'reboot_started', 'reboot_pending_hard',
  'reboot_started_hard', 'pausing', 'unpausing', 'suspending', 'resuming',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** Nova's power_state integers. */
export const PowerState = {
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  CRASHED: 6,
  SUSPENDED: 7,
} as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];

export type ApiStatus =
  | 'ACTIVE' | 'BUILD' | 'SHUTOFF' | 'PAUSED' | 'SUSPENDED' | 'RESCUE' | 'VERIFY_RESIZE'
  | 'ERROR' | 'DELETED' | 'SOFT_DELETED' | 'SHELVED' | 'SHELVED_OFFLOADED'
  | 'REBOOT' | 'HARD_REBOOT' | 'UNKNOWN';

const BY_VM: Record<VmState, ApiStatus> = {
  active: 'ACTIVE', building: 'BUILD', stopped: 'SHUTOFF', paused: 'PAUSED', suspended: 'SUSPENDED',
  rescued: 'RESCUE', resized: 'VERIFY_RESIZE', error: 'ERROR', deleted: 'DELETED',
  'soft-delete': 'SOFT_DELETED', shelved: 'SHELVED', shelved_offloaded: 'SHELVED_OFFLOADED',
};

/** Nova's `_STATE_MAP`: vm_state gives the status, some task states override it while they run. */
export function apiStatus(vm: VmState, task: TaskState | null): ApiStatus {
  if (vm === 'active' && task !== null) {
    if (task === 'rebooting' || task === 'reboot_pending' || task === 'reboot_started') return 'REBOOT';
    if (task === 'rebooting_hard' || task === 'reboot_pending_hard' || task === 'reboot_started_hard') return 'HARD_REBOOT';
  }
  return BY_VM[vm] ?? 'UNKNOWN';
}
