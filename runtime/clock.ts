// The clock moved to base/ (hosts/ uses it too); the runtime's importers keep this path.
export { systemClock, ManualClock } from '../base/clock.js';
export type { Clock, Timer } from '../base/clock.js';
