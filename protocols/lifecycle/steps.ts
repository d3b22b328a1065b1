/**
 * The step table: task_state is the program counter. Each driven task state has one step (the
 * `satisfies` clause makes a missing or unknown one a compile error); flows with several steps live
 * in `flows/`.
 */
import type { StepTable } from './kit.js';
import { scheduling, spawning } from './flows/build.js';
import { deleting } from './flows/delete.js';
import { powerSteps } from './flows/power.js';
import { resizeSteps } from './flows/resize.js';
import { rebuildSteps } from './flows/rebuild.js';
import { snapshotSteps } from './flows/snapshot.js';
import { shelveSteps } from './flows/shelve.js';
import { softDeleteSteps } from './flows/soft-delete.js';
import { liveMigrationSteps } from './flows/live-migration.js';
import { rebuilding } from './flows/rebuilding.js';

export const STEPS = {
  scheduling,
  spawning,
  deleting,
  ...powerSteps,
  ...resizeSteps,
  ...rebuildSteps,
  ...snapshotSteps,
  ...shelveSteps,
  ...softDeleteSteps,
  ...liveMigrationSteps,
  rebuilding,
} satisfies StepTable;
