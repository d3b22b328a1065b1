import t from 'tap';
import type { DriverEvent } from '../../hosts/driver.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { fakeDiskBytes, FAKE_SNAPSHOT_CHUNKS } from '../../hosts/fake/fake-guest-ops.js';
import { FakeFabric } from '../../hosts/fake/fake-migration.js';
import { FaultInjector } from '../../hosts/fake/fault-plan.js';
import { guestSpec, MemorySink, rejectionKind } from '../../hosts/contract.js';
import { PowerState } from '../../protocols/states.js';
import { ManualClock } from '../../runtime/clock.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Byte equality without tap's element-by-element deep compare (slow on 16 KiB arrays). */
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

t.test('snapshot bytes are derived from the guest and its image', async (t) => {
  const d = new FakeDriver();
  const spec = guestSpec();
  await d.spawn(spec);
  const before = new MemorySink();
  await d.snapshot(spec.uuid, before);
  t.equal(before.chunks.length, FAKE_SNAPSHOT_CHUNKS);
  before.chunks.forEach((c, i) => t.ok(sameBytes(c, fakeDiskBytes(spec.uuid, spec.image.id, i)), `chunk ${i}`));
  await d.rebuild({ ...spec, image: { ...spec.image, id: 'other' } });
  const after = new MemorySink();
  await d.snapshot(spec.uuid, after);
  t.ok(sameBytes(after.chunks[0], fakeDiskBytes(spec.uuid, 'other', 0)), 'after a rebuild the disk holds the new image');
  t.notOk(sameBytes(after.chunks[0], before.chunks[0]!), 'and not the old one');
});

t.test('deadlines run on the driver clock; a slow op past its deadline never lands', async (t) => {
  const clock = new ManualClock();
  const d = new FakeDriver({ clock, faultPlan: { rules: [{ op: 'rescue', action: 'slow', delayMs: 100, times: 1 }] } });
  const { uuid } = await d.spawn(guestSpec());
  const p = d.rescue(uuid, 'rescue-img', 'pw', { deadlineMs: 50 });
  const kind = rejectionKind(t, p);
  await flush();
  clock.advance(50);
  t.equal(await kind, 'timeout');
  clock.advance(100);
  await flush();
  const log = await d.consoleOutput(uuid);
  t.notMatch(log, /rescue boot/, 'the timed-out rescue did not happen');
  t.equal((await d.rescue(uuid, 'rescue-img', 'pw')).powerState, PowerState.RUNNING, 'a retry succeeds');
});

t.test('faults apply to every new op', async (t) => {
  const fabric = new FakeFabric();
  const src = new FakeDriver({ hostname: 'a', fabric, faultPlan: { rules: [{ op: 'migrateOut', action: 'fail', times: 1, retryable: true }] } });
  new FakeDriver({ hostname: 'b', fabric });
  const { uuid } = await src.spawn(guestSpec());
  t.match(await src.migrateOut(uuid, { host: 'b' }).catch((e: unknown) => e), { kind: 'failed', retryable: true });
  t.equal((await src.getGuest(uuid))?.powerState, PowerState.RUNNING, 'a failed migrateOut leaves the guest running');
  t.match(await src.migrateOut(uuid, { host: 'nowhere' }).catch((e: unknown) => e), { kind: 'failed', message: /unreachable/ });
  t.equal((await src.migrateOut(uuid, { host: 'b' })).powerState, PowerState.SHUTDOWN);
  t.throws(() => new FaultInjector({ rules: [{ op: 'teleport' as never, action: 'fail' }] }), /unknown op/);
});

t.test('seeded guest faults crash or stop running guests and emit events', async (t) => {
  const run = async (seed: number) => {
    const clock = new ManualClock(1000);
    const d = new FakeDriver({ clock, faultPlan: { seed, rules: [], guests: { everyMs: 1000, crash: 0.2, shutdown: 0.2 } } });
    const events: DriverEvent[] = [];
    d.onEvent((e) => events.push(e));
    const uuids: string[] = [];
    for (let i = 0; i < 8; i++) uuids.push((await d.spawn(guestSpec({ uuid: `00000000-0000-4000-8000-00000000000${i}` }))).uuid);
    for (let i = 0; i < 5; i++) clock.advance(1000);
    const listed = await d.listGuests();
    await d.close();
    return { events, listed };
  };
  const a = await run(11);
  t.ok(a.events.length > 0, 'some guests failed');
  t.ok(a.events.every((e) => e.powerState === PowerState.CRASHED || e.powerState === PowerState.SHUTDOWN), 'crash or shutdown');
  for (const e of a.events) {
    t.equal(a.listed.find((g) => g.uuid === e.uuid)?.powerState, e.powerState, 'listGuests agrees with the event');
  }
  t.same((await run(11)).events, a.events, 'the same seed replays the same faults');
  t.throws(() => new FakeDriver({ faultPlan: { rules: [], guests: { everyMs: 0 } } }), /everyMs/);
  t.throws(() => new FakeDriver({ faultPlan: { rules: [], guests: { everyMs: 1, crash: 0.7, shutdown: 0.7 } } }), /sum/);
});

t.test('health follows the simulated connection', async (t) => {
  const d = new FakeDriver();
  t.same(await d.health(), { state: 'up' });
  d.setHealthy(false);
  t.match(await d.health(), { state: 'down' });
  await d.close();
  t.same(await d.health(), { state: 'closed' });
});
