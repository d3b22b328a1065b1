/**
 * The task states novact drives: each has exactly one step in `steps.ts` (the compiler checks it,
 * both ways). Nova's other task states (states.ts) may appear in a database but are never begun.
 */
export const DRIVEN_TASK_STATES = [
  'scheduling', 'spawning', 'deleting',
  'powering-off', 'powering-on', 'rebooting', 'rebooting_hard',
  'pausing', 'unpausing', 'suspending', 'resuming',
  // resize / cold migrate (flows/resize.ts)
  'resize_prep', 'resize_migrating', 'resize_finish', 'resize_confirming', 'resize_reverting',
  // rebuild, rescue, password (flows/rebuild.ts)
  'rescuing', 'unrescuing', 'updating_password',
  // snapshot (flows/snapshot.ts): the image is created, then the host fills it
  'image_snapshot_pending', 'image_backup', 'image_uploading',
  // shelve
  'shelving', 'shelving_image_pending_upload', 'shelving_image_uploading', 'shelving_offloading', 'unshelving',
  // soft delete
  'soft-deleting', 'restoring',
  // --- live migration (phases in ctx); rebuilding is shared by rebuild and evacuate (flows/rebuilding.ts) ---
  'migrating', 'rebuilding',
] as const;
export type DrivenTaskState = (typeof DRIVEN_TASK_STATES)[number];

const DRIVEN = new Set<string>(DRIVEN_TASK_STATES);
export const isDriven = (task: string | null): task is DrivenTaskState => task !== null && DRIVEN.has(task);
