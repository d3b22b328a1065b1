/**
 * The scheduler's liveness detector on a manual clock: down once after `downAfterMs` of silence,
 * up again on the next heartbeat, announced on the role's events and as `evt.host.<h>.<state>`;
 * nothing judged on the sweep right after the scheduler's own stall. (The bus end to end is
 * test/integration/host-liveness.test.ts.)
 */
import t from 'tap';
import { EventEmitter } from 'node:events';
import { HostLiveness } from '../../actors/scheduler/host-liveness.js';
import { DEFAULT_CAPACITY_POLICY, HostStates } from '../../actors/scheduler/host-states.js';
import { ManualClock, type Clock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import type { RoleContext } from '../../runtime/role.js';
import type { CapacityReport } from '../../protocols/resources.js';

const report = (host: string): CapacityReport => ({
  host, node: host, hypervisorType: 'fake', hypervisorVersion: 1, cpuArch: 'x86_64', availabilityZone: null,
  vcpus: 8, memoryMb: 16_384, diskGb: 100, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0, seq: 1, sentAt: 0,
});

function setup(clock: Clock = new ManualClock(1_000)) {
  const published: { subject: string[]; body: { state: string; fencedBy: number | null } }[] = [];
  // What the detector uses of a role's context: clock, log, and the bridge's `emit` (recorded here).
  const ctx = { clock, log: createLogger('silent'), bridge: { emit: (_d: unknown, args: string[], body: never) => void published.push({ subject: args, body }) } } as unknown as RoleContext;
  const states = new HostStates(DEFAULT_CAPACITY_POLICY);
  const events = new EventEmitter();
  const seen: string[] = [];
  events.on('host-down', (h: string) => seen.push(`down ${h}`));
  events.on('host-up', (h: string) => seen.push(`up ${h}`));
  const live = new HostLiveness(ctx, states, events, 'r1', 1_000, 600);
  for (const h of ['a', 'b']) states.applyReport(report(h), clock.now());
  live.start();
  return { clock, states, live, seen, published };
}

t.test('down after the silence, once; up on the next heartbeat', async (t) => {
  const clock = new ManualClock(1_000);
  const { live, seen, published } = setup(clock);
  for (let i = 0; i < 15; i++) {
    clock.advance(100);
    live.heard('a', undefined);
  }
  t.same(seen, ['down b'], 'b (silent) is down after 1 s, a (heard every 100 ms) is not');
  t.same(published[0], { subject: ['b', 'down'], body: published[0]!.body });
  t.equal(published[0]!.body.fencedBy, 1_000 + 600, 'fenced by: last heard plus the lease');
  clock.advance(2_000);
  t.same(seen, ['down b', 'down a'], 'each announced once');
  live.heard('b', undefined);
  clock.advance(100);
  t.same(seen, ['down b', 'down a', 'up b']);
  t.equal(live.stats.heartbeats, 16);
  live.stop();
});

t.test('a stalled scheduler judges nothing on the sweep after the stall', async (t) => {
  // A clock whose sweep runs only when the test says, at the time the test set: a blocked process.
  let now = 1_000;
  let sweep: () => void = () => undefined;
  const clock: Clock = { now: () => now, setTimeout: () => ({ cancel: () => undefined }), setInterval: (fn) => ((sweep = fn), { cancel: () => undefined }), sleep: async () => undefined };
  const { live, seen } = setup(clock);
  now += 100;
  sweep();
  now += 5_000;
  sweep();
  t.same(seen, [], 'no verdict on the first sweep after a 5 s stall');
  live.heard('a', undefined);
  now += 100;
  sweep();
  t.same(seen, ['down b'], 'the next sweep judges: a was heard meanwhile, b was not');
});
