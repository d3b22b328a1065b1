/**
 * Power sync end to end: hosts report what their hypervisor says, the conductor applies Nova's
 * rules. Three hosts, one zone each, so a test picks where its servers land:
 *  - `ev-1` reports by driver events only (its listings fail),
 *  - `ls-1` by periodic listings only (its driver emits no events), with a seeded guest fault plan
 *    that makes every running guest crash or shut itself down,
 *  - `q-1` both, and no faults but the ones a test makes.
 */
import t from 'tap';
import { startTestCluster, waitAll } from '../harness/cluster.js';
import { waitFor } from '../harness/poll.js';
import { DriverError, type GuestInfo } from '../../hosts/driver.js';
import { FakeDriver, type FakeDriverOptions } from '../../hosts/fake/fake-driver.js';
import { PowerState } from '../../protocols/states.js';
import type { ServerView } from '../../protocols/messages.js';

/** A host whose listings fail: what it says, it says by driver events alone. */
class EventsOnly extends FakeDriver {
  override listGuests(): Promise<GuestInfo[]> {
    return Promise.reject(new DriverError('failed', 'listing disabled by this test', true));
  }
}
/** A host whose driver emits no events: it is known by its periodic listings alone. */
class ListingsOnly extends FakeDriver {
  constructor(o: FakeDriverOptions) {
    super(o);
    Object.defineProperty(this, 'capabilities', { value: Object.freeze({ ...this.capabilities, emitsEvents: false }) });
  }
}

const ev = new EventsOnly({ hostname: 'ev-1' });
const ls = new ListingsOnly({ hostname: 'ls-1', faultPlan: { seed: 20261201, rules: [], guests: { everyMs: 100, crash: 0.3, shutdown: 0.3 } } });
const q = new FakeDriver({ hostname: 'q-1' });

const { cluster } = await startTestCluster(t, {
  hosts: [{ name: 'ev-1', driver: ev }, { name: 'ls-1', driver: ls }, { name: 'q-1', driver: q }],
  compute: { powerSyncIntervalMs: 200, powerSyncOnReport: false },
  conductor: { instanceIdleMs: 300 },
});
const { client } = cluster;
const conductor = cluster.conductor!;
const image = (await client.listImages())[0]!;
for (const [zone, host] of [['az-ev', 'ev-1'], ['az-ls', 'ls-1'], ['az-q', 'q-1']] as const) {
  const { aggregate } = await client.aggregate<{ aggregate: { id: number } }>('create', { name: zone, availabilityZone: zone });
  await client.aggregate('add-host', { id: aggregate.id, host });
}

async function boot(zone: string, n = 1): Promise<ServerView[]> {
  const made = await Promise.all(Array.from({ length: n }, (_, i) => client.createServer({ name: `${zone}-${i}`, flavorRef: 'm1.tiny', imageRef: image.id, availabilityZone: zone })));
  const up = await waitAll(cluster, made.map((s) => s.id), (s) => s.status !== 'BUILD' && s.taskState === null);
  for (const s of up) if (s.status !== 'ACTIVE') throw new Error(`${s.id} is ${s.status}: ${s.fault?.message}`);
  return up;
}
const shutoff = (s: ServerView) => s.status === 'SHUTOFF' && s.taskState === null;

/** The stops recorded on a server, finished, by whom. */
async function stops(id: string) {
  return (await client.serverActions(id)).filter((a) => a.action === 'stop' && a.finishTime !== null);
}

t.test('a guest that shuts itself down or crashes is stopped on its driver event', async (t) => {
  const [a, b] = await boot('az-ev', 2);
  t.ok(a!.host === 'ev-1' && b!.host === 'ev-1', 'both on the events-only host');
  const before = conductor.powerSync.stats.forwarded.event;
  ev.setPowerStateExternally(a!.id, PowerState.SHUTDOWN);
  ev.setPowerStateExternally(b!.id, PowerState.CRASHED);
  const [sa, sb] = await waitAll(cluster, [a!.id, b!.id], shutoff);
  t.equal(sa!.powerState, PowerState.SHUTDOWN, 'SHUTOFF, powered off');
  t.equal(sb!.powerState, PowerState.SHUTDOWN, 'the crashed guest too (the stop powers it off)');
  t.equal((await ev.getGuest(b!.id))?.powerState, PowerState.SHUTDOWN, 'the hypervisor agrees');
  t.ok(conductor.powerSync.stats.forwarded.event >= before + 2, 'the events reached the instances');
  for (const s of [a!, b!]) {
    const recorded = await stops(s.id);
    t.equal(recorded.length, 1, 'one stop recorded');
    t.match(recorded[0], { userId: 'system', result: 'Success' }, 'started by the system, as Nova records the sync\'s stop');
  }
});

t.test('seeded guest crashes and shutdowns are found by the periodic listing', async (t) => {
  const servers = await boot('az-ls', 3);
  t.ok(servers.every((s) => s.host === 'ls-1'), 'all on the listings-only host');
  const done = await waitAll(cluster, servers.map((s) => s.id), shutoff);
  t.ok(done.every((s) => s.powerState === PowerState.SHUTDOWN), 'every one SHUTOFF');
  for (const s of done) {
    const log = await ls.consoleOutput(s.id);
    t.match(log, /\((guest crashed|guest shut itself down)\)/, `${s.name}: the seeded plan did it`);
    t.equal((await stops(s.id)).length, 1, `${s.name}: one stop, by the system`);
  }
  t.ok(conductor.powerSync.stats.forwarded.periodic >= 3, 'by listings (this host emits no events)');
});

t.test('a guest gone from the hypervisor: the power state is NOSTATE, the server stays ACTIVE (Nova only logs it)', async (t) => {
  const [s] = await boot('az-q');
  await q.destroy(s!.id);
  const seen = await client.waitForServer(s!.id, (v) => v.powerState === PowerState.NOSTATE, 20_000);
  t.equal(seen.status, 'ACTIVE');
  t.equal(seen.taskState, null);
  t.equal((await stops(s!.id)).length, 0, 'no stop');
  t.ok(conductor.powerSync.stats.missing >= 1, 'the listing reported it missing');
  await client.deleteServer(s!.id);
  await client.waitForServer(s!.id, (v) => v.status === 'DELETED');
});

t.test('a stopped server whose guest runs again is force-stopped', async (t) => {
  const [s] = await boot('az-q');
  await client.serverAction(s!.id, 'stop');
  await client.waitForServer(s!.id, shutoff);
  q.setPowerStateExternally(s!.id, PowerState.RUNNING);
  await waitFor('the sync\'s second stop', async () => (await stops(s!.id)).length === 2);
  const after = await client.waitForServer(s!.id, shutoff);
  t.equal(after.powerState, PowerState.SHUTDOWN);
  t.equal((await q.getGuest(s!.id))?.powerState, PowerState.SHUTDOWN, 'the guest is off again');
  const [latest] = await stops(s!.id);
  t.match(latest, { userId: 'system', result: 'Success' }, 'the newest stop is the system\'s');
});

t.test('idle instances whose guests look as recorded cost no instance actor', async (t) => {
  await waitFor('instance actors to passivate', () => conductor.liveInstanceActors === 0);
  const { reports, forwarded } = conductor.powerSync.stats;
  const sent = forwarded.event + forwarded.periodic;
  await waitFor('more listings', () => conductor.powerSync.stats.reports >= reports + 6);
  t.equal(conductor.powerSync.stats.forwarded.event + conductor.powerSync.stats.forwarded.periodic, sent, 'nothing was forwarded');
  t.equal(conductor.liveInstanceActors, 0, 'and no actor was loaded');
});
