/** Nova's instance state vocabulary (nova/objects/fields.py), and the API status derived from it. */

export const VM_STATES = [
  'active', 'building', 'paused', 'suspended', 'stopped', 'rescued', 'resized',
  'soft-delete', 'deleted', 'error', 'shelved', 'shelved_offloaded',
] as const;
export type VmState = (typeof VM_STATES)[number];

/** Nova's task states (`InstanceTaskState`); the ones novact drives are in lifecycle/driven.ts. */
export const TASK_STATES = [
  'scheduling', 'block_device_mapping', 'networking', 'spawning', 'image_snapshot', 'image_snapshot_pending',
  'image_pending_upload', 'image_uploading', 'image_backup', 'updating_password', 'resize_prep', 'resize_migrating',
  'resize_migrated', 'resize_finish', 'resize_reverting', 'resize_confirming', 'rebooting', 'reboot_pending',
  'reboot_started', 'rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard', 'pausing', 'unpausing',
  'suspending', 'resuming', 'powering-off', 'powering-on', 'rescuing', 'unrescuing', 'rebuilding',
  'rebuild_block_device_mapping', 'rebuild_spawning', 'migrating', 'deleting', 'soft-deleting', 'restoring',
  'shelving', 'shelving_image_pending_upload', 'shelving_image_uploading', 'shelving_offloading', 'unshelving',
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
  | 'REBOOT' | 'HARD_REBOOT' | 'PASSWORD' | 'REBUILD' | 'MIGRATING' | 'RESIZE' | 'REVERT_RESIZE' | 'UNKNOWN';

const BY_VM: Record<VmState, ApiStatus> = {
  active: 'ACTIVE', building: 'BUILD', stopped: 'SHUTOFF', paused: 'PAUSED', suspended: 'SUSPENDED',
  rescued: 'RESCUE', resized: 'VERIFY_RESIZE', error: 'ERROR', deleted: 'DELETED',
  'soft-delete': 'SOFT_DELETED', shelved: 'SHELVED', shelved_offloaded: 'SHELVED_OFFLOADED',
};

const RESIZING = { resize_prep: 'RESIZE', resize_migrating: 'RESIZE', resize_migrated: 'RESIZE', resize_finish: 'RESIZE' } as const;
/** Nova's `_STATE_MAP` overrides: a task that changes the status of a vm state while it runs. */
const BY_TASK: Partial<Record<VmState, Partial<Record<TaskState, ApiStatus>>>> = {
  active: {
    rebooting: 'REBOOT', reboot_pending: 'REBOOT', reboot_started: 'REBOOT',
    rebooting_hard: 'HARD_REBOOT', reboot_pending_hard: 'HARD_REBOOT', reboot_started_hard: 'HARD_REBOOT',
    updating_password: 'PASSWORD', rebuilding: 'REBUILD', rebuild_block_device_mapping: 'REBUILD', rebuild_spawning: 'REBUILD',
    migrating: 'MIGRATING', ...RESIZING,
  },
  stopped: { ...RESIZING, rebuilding: 'REBUILD', rebuild_block_device_mapping: 'REBUILD', rebuild_spawning: 'REBUILD' },
  resized: { resize_reverting: 'REVERT_RESIZE' },
  paused: { migrating: 'MIGRATING' },
  error: { rebuilding: 'REBUILD', rebuild_block_device_mapping: 'REBUILD', rebuild_spawning: 'REBUILD' },
};

/** Nova's `_STATE_MAP`: vm_state gives the status, some task states override it while they run. */
export function apiStatus(vm: VmState, task: TaskState | null): ApiStatus {
  return (task !== null ? BY_TASK[vm]?.[task] : undefined) ?? BY_VM[vm] ?? 'UNKNOWN';
}
