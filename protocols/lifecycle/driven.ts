/**
 * The task states novact drives: each has exactly one step in `steps.ts` (the compiler checks it,
 * both ways). Nova's other task states (states.ts) may appear in a database but are never begun.
 */
export const DRIVEN_TASK_STATES = [
  'scheduling', 'spawning', 'deleting',
  'powering-off', 'powering-on', 'rebooting', 'rebooting_hard',
  'pausing', 'unpausing', 'suspending', 'resuming',
  // --- live migration (phases in ctx), evacuate (phases in ctx) ---
  'migrating', 'rebuilding',
] as const;
export type DrivenTaskState = (typeof DRIVEN_TASK_STATES)[number];

const DRIVEN = new Set<string>(DRIVEN_TASK_STATES);
export const isDriven = (task: string | null): task is DrivenTaskState => task !== null && DRIVEN.has(task);
