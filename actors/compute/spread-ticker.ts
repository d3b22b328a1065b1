/**
 * Runs something for every host once per interval, a slice of the hosts per step instead of all at
 * the same instant: 10,000 hosts reporting in one millisecond are a burst of 10,000 messages that
 * the scheduler and conductor then queue every other request behind (a latency spike every
 * interval). Spread over the interval, the same reports arrive as a steady trickle.
 */
import type { Clock, Timer } from '../../runtime/clock.js';

/** Steps per interval are at most this far apart. */
const STEP_MS = 100;

export function spreadTicker<T>(clock: Clock, items: readonly T[], intervalMs: number, each: (item: T) => void): Timer {
  const stepMs = Math.min(intervalMs, STEP_MS);
  // Hosts owed per step, fractional (2 hosts over 10 s: one every 50 steps), carried across steps.
  const perStep = (items.length * stepMs) / intervalMs;
  let owed = 0;
  let next = 0;
  return clock.setInterval(() => {
    owed = Math.min(owed + perStep, items.length);
    for (; owed >= 1 - 1e-9; owed--) {
      each(items[next]!);
      next = next + 1 === items.length ? 0 : next + 1;
    }
  }, stepMs);
}
