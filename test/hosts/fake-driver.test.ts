import t from 'tap';
import { DriverError, type DriverEvent } from '../../hosts/driver.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { FaultInjector, type FaultPlan, type FaultRule } from '../../hosts/fake/fault-plan.js';
import { FakeFabric } from '../../hosts/fake/fake-migration.js';
import { PowerState } from '../../protocols/states.js';
import { ManualClock } from '../../runtime/clock.js';
import { driverContract, guestSpec, rejectionKind } from '../../hosts/contract.js';

/** Lets every queued microtask (and promise chain) run; no wall-clock time passes. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled, without letting an expected rejection go unhandled. */
function track<T>(p: Promise<T>) {
  const s = { settled: false, p };
  p.then(() => { s.settled = true; }, () => { s.settled = true; });
  return s;
}

driverContract(t, 'FakeDriver', async () => new FakeDriver(), {
  hang: (d, op) => d.faults.addRule({ op, action: 'hang', times: 1 }),
  failNext: (d, op) => d.faults.addRule({ op, action: 'fail', times: 1 }),
  externalPower: (d, uuid, state) => d.setPowerStateExternally(uuid, state),
  pair: async () => {
    const fabric = new FakeFabric();
    return { source: new FakeDriver({ hostname: 'src', fabric }), dest: new FakeDriver({ hostname: 'dst', fabric }), target: { host: 'dst' } };
  },
});

t.test('hostInfo: an uptime line counted from the driver\'s start, on its clock; disk left at the least', async (t) => {
  const start = Date.UTC(2026, 0, 1, 8, 30, 0);
  const clock = new ManualClock(start);
  const d = new FakeDriver({ clock, diskGb: 100 });
  const at = async (upS: number) => {
    clock.advance(start + upS * 1000 - clock.now());
    return (await d.hostInfo()).uptime;
  };
  t.equal(await at(0), ' 08:30:00 up 0 min,  0 users,  load average: 0.00, 0.00, 0.00');
  t.equal(await at(3_900 + 9), ' 09:35:09 up  1:05,  0 users,  load average: 0.00, 0.00, 0.00');
  t.equal(await at(86_400 + 180), ' 08:33:00 up 1 day, 3 min,  0 users,  load average: 0.00, 0.00, 0.00');
  t.equal(await at(93 * 86_400 + 18 * 3_600 + 25 * 60), ' 02:55:00 up 93 days, 18:25,  0 users,  load average: 0.00, 0.00, 0.00');
  await d.spawn(guestSpec({ diskGb: 30 }));
  t.equal((await d.hostInfo()).diskAvailableLeastGb, 70, 'a guest\'s disk is held in full');
});

t.test('hostInfo reflects options and defaults', async (t) => {
  t.match(await new FakeDriver().hostInfo(), {
    hypervisorType: 'fake', hypervisorVersion: 1000, cpuArch: 'x86_64', vcpus: 64, memoryMb: 262144, diskGb: 4096, diskAvailableLeastGb: 4096,
  });
  const d = new FakeDriver({ hostname: 'h1', vcpus: 8, memoryMb: 1024, diskGb: 10, cpuArch: 'aarch64', hypervisorType: 'qemu', hypervisorVersion: 7, reportsUptime: false });
  t.same(await d.hostInfo(), { hypervisorType: 'qemu', hypervisorVersion: 7, cpuArch: 'aarch64', vcpus: 8, memoryMb: 1024, diskGb: 10, diskAvailableLeastGb: 10 }, 'no uptime when it cannot tell');
  t.equal(d.hostname, 'h1');
  t.same(d.capabilities, {
    supportsPause: true, supportsSuspend: true, supportsSnapshot: true, supportsMigration: true, supportsLiveMigration: true,
    supportsRescue: true, emitsEvents: true,
  });
});

t.test('fake-only transitions: powerOff/powerOn are idempotent, hard reboot recovers a crash', async (t) => {
  const d = new FakeDriver();
  const { uuid } = await d.spawn(guestSpec());
  t.equal((await d.powerOn(uuid)).powerState, PowerState.RUNNING, 'powerOn of a running guest');
  await d.powerOff(uuid);
  t.equal((await d.powerOff(uuid)).powerState, PowerState.SHUTDOWN, 'powerOff of a stopped guest');
  await d.powerOn(uuid);
  d.crashGuest(uuid);
  t.equal(await rejectionKind(t, d.reboot(uuid, false)), 'invalid-state', 'soft reboot of a crashed guest');
  t.equal((await d.reboot(uuid, true)).powerState, PowerState.RUNNING, 'hard reboot of a crashed guest');
});

t.test('fail: N times then succeed, leaving no guest behind', async (t) => {
  const d = new FakeDriver({ faultPlan: { rules: [{ op: 'spawn', action: 'fail', times: 2, message: 'boom', retryable: true }] } });
  const spec = guestSpec();
  for (const n of [1, 2]) {
    const err = await d.spawn(spec).catch((e: unknown) => e);
    t.ok(err instanceof DriverError, `attempt ${n} rejects with a DriverError`);
    t.match(err, { kind: 'failed', message: 'boom', retryable: true });
    t.equal(await d.getGuest(spec.uuid), undefined, `attempt ${n} left no guest`);
    t.equal((await d.usage()).vcpusUsed, 0, `attempt ${n} left no usage`);
  }
  t.equal((await d.spawn(spec)).powerState, PowerState.RUNNING, 'third attempt succeeds');
  t.equal(d.faults.size, 0, 'the exhausted rule is dropped');
});

t.test('fail: default message and retryable, uuid filter, added at runtime, clear', async (t) => {
  const d = new FakeDriver();
  const a = await d.spawn(guestSpec());
  const b = await d.spawn(guestSpec());
  d.faults.addRule({ op: 'reboot', action: 'fail', uuid: a.uuid });
  t.match(await d.reboot(a.uuid, true).catch((e: unknown) => e), { kind: 'failed', message: /reboot/, retryable: false });
  t.equal((await d.reboot(b.uuid, true)).powerState, PowerState.RUNNING, 'other guests are unaffected');
  t.equal(await rejectionKind(t, d.reboot(a.uuid, true)), 'failed', 'an unlimited rule keeps firing');
  d.faults.clear();
  t.equal((await d.reboot(a.uuid, true)).powerState, PowerState.RUNNING, 'clear removes the fault');
});

t.test('fail applies to destroy too; a failed destroy keeps the guest', async (t) => {
  const d = new FakeDriver({ faultPlan: { rules: [{ op: 'destroy', action: 'fail', times: 1 }] } });
  const { uuid } = await d.spawn(guestSpec());
  t.equal(await rejectionKind(t, d.destroy(uuid)), 'failed');
  t.ok(await d.getGuest(uuid), 'guest still there');
  await d.destroy(uuid);
  t.equal(await d.getGuest(uuid), undefined);
});

t.test('probability with a fixed seed is deterministic', async (t) => {
  const plan = (seed: number): FaultPlan => ({ seed, rules: [{ op: 'powerOn', action: 'fail', probability: 0.5 }] });
  const run = (inj: FaultInjector) => Array.from({ length: 64 }, () => inj.decide('powerOn', 'u').action).join(',');
  const a = run(new FaultInjector(plan(42)));
  t.equal(run(new FaultInjector(plan(42))), a, 'same seed, same sequence');
  t.ok(a.includes('fail') && a.includes('none'), 'probability 0.5 both fires and does not');
  t.not(run(new FaultInjector(plan(7))), a, 'another seed gives another sequence');
  const never = new FaultInjector({ rules: [{ op: 'powerOn', action: 'fail', probability: 0 }] });
  t.notOk(run(never).includes('fail'), 'probability 0 never fires');
  // Through the driver: the same plan gives the same outcomes on two hosts.
  const outcomes = async () => {
    const d = new FakeDriver({ faultPlan: { seed: 3, rules: [{ op: 'spawn', action: 'fail', probability: 0.3 }] } });
    const r: string[] = [];
    for (let i = 0; i < 20; i++) r.push(await d.spawn(guestSpec()).then(() => 'ok', () => 'fail'));
    return r.join(',');
  };
  t.equal(await outcomes(), await outcomes());
});

t.test('slow: held until the clock advances by delayMs', async (t) => {
  const clock = new ManualClock();
  const d = new FakeDriver({ clock, faultPlan: { rules: [{ op: 'powerOff', action: 'slow', delayMs: 100, times: 1 }] } });
  const { uuid } = await d.spawn(guestSpec());
  const op = track(d.powerOff(uuid));
  await flush();
  t.notOk(op.settled, 'pending before any time passes');
  clock.advance(99);
  await flush();
  t.notOk(op.settled, 'pending at 99ms');
  t.equal((await d.getGuest(uuid))?.powerState, PowerState.RUNNING, 'state unchanged while slow');
  clock.advance(1);
  t.equal((await op.p).powerState, PowerState.SHUTDOWN, 'completes at 100ms');
  t.equal((await d.powerOn(uuid)).powerState, PowerState.RUNNING, 'times: 1 means the next call is fast');
});

t.test('hang: pending until close, then rejects closed', async (t) => {
  const clock = new ManualClock();
  const d = new FakeDriver({ clock, faultPlan: { rules: [{ op: 'spawn', action: 'hang' }] } });
  const spawn = track(d.spawn(guestSpec()));
  clock.advance(1_000_000);
  await flush();
  t.notOk(spawn.settled, 'a hung spawn does not settle, whatever the time');
  await d.close();
  t.equal(await rejectionKind(t, spawn.p), 'closed', 'close rejects the hung spawn');
});

t.test('close rejects operations parked on slow faults and latency', async (t) => {
  const clock = new ManualClock();
  const d = new FakeDriver({ clock, latencyMs: { powerOff: 50 }, faultPlan: { rules: [{ op: 'pause', action: 'slow', delayMs: 10 }] } });
  const a = await d.spawn(guestSpec());
  const b = await d.spawn(guestSpec());
  const slow = d.pause(a.uuid);
  const latent = d.powerOff(b.uuid);
  const immediate = d.reboot(a.uuid, true); // zero latency, still on its microtask
  await d.close();
  t.equal(await rejectionKind(t, slow), 'closed');
  t.equal(await rejectionKind(t, latent), 'closed');
  t.equal(await rejectionKind(t, immediate), 'closed');
  t.equal(await rejectionKind(t, d.spawn(guestSpec())), 'closed');
});

t.test('latency: zero uses no timer, nonzero waits on the clock', async (t) => {
  const clock = new ManualClock();
  const d = new FakeDriver({ clock, latencyMs: { powerOff: 50 } });
  const { uuid } = await d.spawn(guestSpec()); // resolves with the clock stopped: no timer involved
  const op = track(d.powerOff(uuid));
  await flush();
  t.notOk(op.settled, 'powerOff waits for its latency');
  clock.advance(50);
  t.equal((await op.p).powerState, PowerState.SHUTDOWN);
  t.throws(() => new FakeDriver({ latencyMs: { spawn: -1 } }), /latencyMs\.spawn/);
});

t.test('spawn in flight: same uuid shares the promise, destroy cancels it', async (t) => {
  const clock = new ManualClock();
  const d = new FakeDriver({ clock, latencyMs: { spawn: 10 } });
  const spec = guestSpec();
  const p1 = d.spawn(spec);
  t.equal(d.spawn(spec), p1, 'same promise while in flight');
  const spawned = track(p1);
  await d.destroy(spec.uuid); // no clock advance needed: the destroy does not wait out the latency
  t.equal(await rejectionKind(t, p1), 'aborted', 'the spawn rejects aborted');
  t.ok(spawned.settled);
  t.equal(await d.getGuest(spec.uuid), undefined, 'the delete wins over the in-flight spawn');
});

t.test('enforceCapacity', async (t) => {
  const d = new FakeDriver({ enforceCapacity: true, vcpus: 4, memoryMb: 4096, diskGb: 100 });
  await d.spawn(guestSpec({ vcpus: 2, memoryMb: 2048, diskGb: 40 }));
  const big = guestSpec({ vcpus: 2, memoryMb: 4096, diskGb: 10 });
  t.match(await d.spawn(big).catch((e: unknown) => e), { kind: 'insufficient-resources', message: /memory/ });
  t.equal(await d.getGuest(big.uuid), undefined, 'rejected spawn leaves no guest');
  t.equal(await rejectionKind(t, d.spawn(guestSpec({ vcpus: 3, memoryMb: 1 }))), 'insufficient-resources', 'vcpus');
  t.equal(await rejectionKind(t, d.spawn(guestSpec({ vcpus: 1, memoryMb: 1, diskGb: 61 }))), 'insufficient-resources', 'disk');
  await d.spawn(guestSpec({ vcpus: 2, memoryMb: 2048, diskGb: 60 }));
  t.same(await d.usage(), { vcpusUsed: 4, memoryMbUsed: 4096, diskGbUsed: 100, runningVms: 2 }, 'fills exactly to capacity');
  // Concurrent spawns are checked when each guest is created, so they cannot both squeeze in.
  const e = new FakeDriver({ enforceCapacity: true, vcpus: 1 });
  const results = await Promise.allSettled([e.spawn(guestSpec()), e.spawn(guestSpec())]);
  t.same(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  // Default: overcommit allowed.
  const o = new FakeDriver({ vcpus: 1, memoryMb: 512 });
  await o.spawn(guestSpec({ vcpus: 4, memoryMb: 4096 }));
  t.equal((await o.usage()).vcpusUsed, 4, 'overcommits by default');
});

t.test('crashGuest and setPowerStateExternally emit events', async (t) => {
  const clock = new ManualClock(5000);
  const d = new FakeDriver({ clock });
  const { uuid } = await d.spawn(guestSpec());
  const events: DriverEvent[] = [];
  const off = d.onEvent((e) => events.push(e));
  d.crashGuest(uuid);
  t.same(events, [{ uuid, powerState: PowerState.CRASHED, at: 5000 }]);
  t.equal((await d.getGuest(uuid))?.powerState, PowerState.CRASHED);
  t.equal((await d.usage()).runningVms, 0, 'a crashed guest is not running');
  d.crashGuest(uuid);
  t.equal(events.length, 1, 'no event when the state does not change');
  clock.advance(10);
  d.setPowerStateExternally(uuid, PowerState.SHUTDOWN);
  t.same(events[1], { uuid, powerState: PowerState.SHUTDOWN, at: 5010 });
  off();
  d.setPowerStateExternally(uuid, PowerState.RUNNING);
  t.equal(events.length, 2, 'unsubscribed listeners hear nothing');
  const missing = (() => { try { d.crashGuest('nope'); } catch (e) { return e; } })();
  t.match(missing, { kind: 'not-found' }, 'crashing an absent guest is not-found');
});

t.test('consoleOutput records operations and honours lines', async (t) => {
  const d = new FakeDriver({ hostname: 'node-7' });
  const spec = guestSpec({ name: 'web-1' });
  await d.spawn(spec);
  const boot = await d.consoleOutput(spec.uuid);
  t.match(boot, /web-1 login:/);
  t.match(boot, /node-7/);
  await d.reboot(spec.uuid, false);
  await d.powerOff(spec.uuid);
  t.equal(await d.consoleOutput(spec.uuid, 2), 'reboot: Restarting system\nreboot: Power down');
  t.equal(await d.consoleOutput(spec.uuid, 0), '');
  for (let i = 0; i < 50; i++) await d.reboot(spec.uuid, true);
  t.ok((await d.consoleOutput(spec.uuid)).split('\n').length <= 20, 'the log is capped');
});

t.test('plan validation', async (t) => {
  const bad: [unknown, RegExp][] = [
    [{ op: 'boot', action: 'fail' }, /unknown op 'boot'/],
    [{ op: 'spawn', action: 'explode' }, /unknown action 'explode'/],
    [{ op: 'spawn', action: 'fail', times: -1 }, /times must be a non-negative integer/],
    [{ op: 'spawn', action: 'fail', times: 1.5 }, /times/],
    [{ op: 'spawn', action: 'slow', delayMs: -5 }, /delayMs must be a non-negative/],
    [{ op: 'spawn', action: 'slow' }, /needs delayMs/],
    [{ op: 'spawn', action: 'fail', probability: 1.5 }, /probability must be within \[0, 1\]/],
    [{ op: 'spawn', action: 'fail', probability: -0.1 }, /probability/],
    [{ op: 'spawn', action: 'fail', time: 3 }, /unknown field 'time'/],
  ];
  for (const [rule, msg] of bad) {
    t.throws(() => new FaultInjector({ rules: [rule as FaultRule] }), msg, JSON.stringify(rule));
    t.throws(() => new FakeDriver({ faultPlan: { rules: [rule as FaultRule] } }), msg, 'via the driver');
    t.throws(() => new FaultInjector().addRule(rule as FaultRule), msg, 'via addRule');
  }
  t.throws(() => new FaultInjector({ rules: [{ op: 'spawn', action: 'hang' }, { op: 'spawn', action: 'fail', times: -2 }] }),
    /fault plan rule 1: times/, 'the message names the offending rule');
  t.throws(() => new FaultInjector({ seed: Number.NaN, rules: [] }), /seed/);
  t.throws(() => new FaultInjector({} as FaultPlan), /rules must be an array/);
  const err = (() => { try { new FaultInjector({ rules: [{ op: 'boot' } as unknown as FaultRule] }); } catch (e) { return e; } })();
  t.ok(err instanceof Error && !(err instanceof DriverError), 'a plain Error, not a DriverError');
});
