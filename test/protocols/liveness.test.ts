import t from 'tap';
import { FAST_LIVENESS, NOVA_LIVENESS, heardWithin, leaseLapsed, livenessEdges, livenessProblems, renewedLease } from '../../protocols/liveness.js';
import { livenessOverrides } from '../../cluster/liveness-options.js';

t.test('the presets are safe; unsafe timings are named', async (t) => {
  t.same(livenessProblems(NOVA_LIVENESS), []);
  t.same(livenessProblems(FAST_LIVENESS), []);
  t.match(livenessProblems({ ...FAST_LIVENESS, leaseMs: 2_800 }), [/could still run an evacuated instance/], 'lease + margin past down-after');
  t.same(livenessProblems({ ...FAST_LIVENESS, leaseMs: 2_800, evacuationDelayMs: 1_000 }), [], 'an evacuation delay buys the lease room');
  t.match(livenessProblems({ ...FAST_LIVENESS, leaseMs: 1_500 }), [/at least two heartbeats/], 'one lost heartbeat must not fence');
  t.match(livenessProblems({ ...FAST_LIVENESS, downAfterMs: 0 }), [/downAfterMs must be a positive/]);
  t.match(livenessProblems({ ...FAST_LIVENESS, fenceMarginMs: -1 }), [/must not be negative/]);
  t.throws(() => livenessOverrides({ preset: 'fast', leaseMs: 5_000 }), /liveness: leaseMs/);
  const o = livenessOverrides({ preset: 'fast', fence: 'power-off' });
  t.same(o.scheduler, { serviceDownTimeMs: 3_000, hostLeaseMs: 2_500 });
  t.same(o.compute, { heartbeatIntervalMs: 1_000, fence: 'power-off' });
  t.equal(o.conductor.serviceDownTimeMs, 3_000, 'os-services agrees with the scheduler');
});

t.test('a lease counts from the send time and never shrinks', async (t) => {
  let until = renewedLease(0, 1_000, 2_500);
  t.equal(until, 3_500);
  t.notOk(leaseLapsed(until, 3_499));
  t.ok(leaseLapsed(until, 3_500));
  until = renewedLease(until, 500, 2_500);
  t.equal(until, 3_500, 'a late answer to an older heartbeat does not shorten it');
  until = renewedLease(until, 2_000, 2_500);
  t.equal(until, 4_500);
  // The safety argument: acknowledged at send s, heard by the scheduler at h >= s; the host fences
  // by s + lease, the scheduler declares it down at h + downAfter.
  const s = 10_000;
  const h = s + 40;
  const fencedAt = renewedLease(0, s, FAST_LIVENESS.leaseMs) + FAST_LIVENESS.fenceMarginMs;
  const downAt = h + FAST_LIVENESS.downAfterMs + 1;
  t.ok(fencedAt <= downAt, 'fenced before anyone may evacuate');
  t.notOk(heardWithin(h, downAt, FAST_LIVENESS.downAfterMs));
});

t.test('edges: down once, up once, nothing for hosts never heard', async (t) => {
  const seen = new Map<string, boolean>();
  const hosts = [{ host: 'a', lastSeenAt: 1_000 }, { host: 'b', lastSeenAt: 1_000 }, { host: 'c', lastSeenAt: 0 }];
  t.same(livenessEdges(hosts, seen, 1_200, 300), { down: [], up: [] }, 'first sight up: no event');
  t.same(livenessEdges(hosts, seen, 1_300, 300), { down: [], up: [] }, 'exactly at the bound: still up');
  t.same(livenessEdges(hosts, seen, 1_301, 300), { down: ['a', 'b'], up: [] });
  t.same(livenessEdges(hosts, seen, 1_400, 300), { down: [], up: [] }, 'announced once');
  hosts[0]!.lastSeenAt = 1_390;
  t.same(livenessEdges(hosts, seen, 1_400, 300), { down: [], up: ['a'] });
  const fresh = new Map<string, boolean>();
  t.same(livenessEdges([{ host: 'd', lastSeenAt: 100 }], fresh, 1_000, 300), { down: ['d'], up: [] }, 'first sight down (warmed, never heard again) is an edge');
});
