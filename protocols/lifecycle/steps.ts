/**
 * The step table: task_state is the program counter. Each driven task state has one step (the
 * `satisfies` clause makes a missing or unknown one a compile error); flows with several steps live
 * in `flows/`.
 */
import type { StepTable } from './kit.js';
import { scheduling, spawning } from './flows/build.js';
import { deleting } from './flows/delete.js';
import { powerSteps } from './flows/power.js';
import { liveMigrationSteps } from './flows/live-migration.js';
import { evacuateSteps } from './flows/evacuate.js';

export const STEPS = {
  scheduling,
  spawning,
  deleting,
  ...powerSteps,
  ...liveMigrationSteps,
  ...evacuateSteps,
} satisfies StepTable;
