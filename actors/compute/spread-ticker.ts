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
  // Hosts owed, fractional (2 hosts over 10 s: one every 50 steps), carried across steps and
  // counted from the time that really passed: a busy event loop that fires the step late must not
  // stretch every host's interval with it (heartbeats would then arrive slower than promised and a
  // loaded process would look dead).
  const perMs = items.length / intervalMs;
  let owed = 0;
  let next = 0;
  let last = clock.now();
  return clock.setInterval(() => {
    const now = clock.now();
    owed = Math.min(owed + perMs * Math.max(0, now - last), items.length);
    last = now;
    for (; owed >= 1 - 1e-9; owed--) {
      each(items[next]!);
      next = next + 1 === items.length ? 0 : next + 1;
    }
  }, stepMs);
}
