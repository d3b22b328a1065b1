import t from 'tap';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import type { GuestInfo, GuestSpec } from '../../hosts/driver.js';
import { startTestCluster, settled } from '../harness/cluster.js';

/** A fake hypervisor whose spawns, once armed, wait at a gate the test opens and say when they started. */
class GatedDriver extends FakeDriver {
  private armed: { started: (uuid: string) => void; gate: Promise<void> } | undefined;

  arm(): { started: Promise<string>; open: () => void } {
    let started!: (uuid: string) => void;
    let open!: () => void;
    const startedP = new Promise<string>((r) => (started = r));
    const gate = new Promise<void>((r) => (open = r));
    this.armed = { started, gate };
    return { started: startedP, open };
  }

  override async spawn(spec: GuestSpec): Promise<GuestInfo> {
    if (this.armed) {
      this.armed.started(spec.uuid);
      await this.armed.gate;
    }
    return super.spawn(spec);
  }
}

// RAMWeigher ranks compute-1 (most free RAM), then compute-2, then compute-3; compute-1 fails every spawn.
const failing = new FakeDriver({ hostname: 'compute-1', memoryMb: 1_048_576, faultPlan: { rules: [{ op: 'spawn', action: 'fail', message: 'injected' }] } });
const healthy = new FakeDriver({ hostname: 'compute-2', memoryMb: 131_072 });
const gated = new GatedDriver({ hostname: 'compute-3', memoryMb: 65_536 });
const { cluster } = await startTestCluster(t, {
  hosts: [
    { name: 'compute-1', driver: failing },
    { name: 'compute-2', driver: healthy },
    { name: 'compute-3', driver: gated },
  ],
});
const { client } = cluster;
const image = (await client.listImages())[0]!;

t.test('a spawn fault on the chosen host reschedules to an alternate and ends ACTIVE', async (t) => {
  const s = await client.createServer({ name: 'resched', flavorRef: 'm1.small', imageRef: image.id });
  const done = await client.waitForServer(s.id, settled);
  t.equal(done.status, 'ACTIVE');
  t.not(done.host, 'compute-1', 'not on the failing host');
  t.same(await failing.listGuests(), [], 'the failed attempt left nothing behind');
  const held = cluster.scheduler!.states.allocationOf(s.id);
  t.equal(held?.host, done.host, 'the claim moved with the instance');
  const totals = await cluster.ledger!.totals();
  t.same(totals.allocations, { VCPU: 1, MEMORY_MB: 2048, DISK_GB: 20 }, 'exactly one flavor allocated');
  await client.deleteServer(s.id);
  await client.waitForServer(s.id, (x) => x.status === 'DELETED');
  t.same((await cluster.ledger!.totals()).allocations, { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 });
});

t.test('a host that keeps failing builds is weighed last (BuildFailureWeigher, from its reports)', async (t) => {
  // compute-1 failed the previous build; its next capacity report says so.
  while ((cluster.scheduler!.states.get('compute-1')?.failedBuilds ?? 0) === 0) {
    await new Promise<void>((resolve) => cluster.scheduler!.events.once('report', () => resolve()));
  }
  let attempts = 0;
  const counted = failing.spawn.bind(failing);
  failing.spawn = (spec) => {
    attempts++;
    return counted(spec);
  };
  const s = await client.createServer({ name: 'steered', flavorRef: 'm1.tiny', imageRef: image.id });
  const done = await client.waitForServer(s.id, settled);
  t.equal(done.status, 'ACTIVE');
  t.equal(attempts, 0, 'the failing host, though it has the most free RAM, was not tried first');
  failing.spawn = counted;
  await client.deleteServer(s.id);
  await client.waitForServer(s.id, (x) => x.status === 'DELETED');
});

t.test('when every host fails the build ends in ERROR with the reason, and nothing stays claimed', async (t) => {
  healthy.faults.addRule({ op: 'spawn', action: 'fail', times: 1, message: 'injected on compute-2' });
  gated.faults.addRule({ op: 'spawn', action: 'fail', times: 1, message: 'injected on compute-3' });
  const s = await client.createServer({ name: 'doomed', flavorRef: 'm1.tiny', imageRef: image.id });
  const done = await client.waitForServer(s.id, settled);
  t.equal(done.status, 'ERROR');
  t.match(done.fault?.message, /Exceeded maximum number of retries/);
  t.equal(done.taskState, null);
  t.same((await cluster.ledger!.totals()).allocations, { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 }, 'claim released');
  t.equal(cluster.scheduler!.states.allocationOf(s.id), undefined, 'scheduler view agrees');
  const actions = await client.serverActions(s.id);
  t.match(actions, [{ action: 'create', result: 'Error' }]);
  await client.deleteServer(s.id);
  t.equal((await client.waitForServer(s.id, (x) => x.status === 'DELETED')).status, 'DELETED', 'an ERROR instance can be deleted');
});

t.test('the conductor actor crashes mid-build: the instance still ends ACTIVE', async (t) => {
  // Only compute-3 (gated) may take the build.
  failing.faults.clear();
  failing.faults.addRule({ op: 'spawn', action: 'fail', message: 'still failing' });
  healthy.faults.addRule({ op: 'spawn', action: 'fail', message: 'not now' });
  const restartsBefore = cluster.actors.stats.restarts;
  const gate = gated.arm();
  const s = await client.createServer({ name: 'survivor', flavorRef: 'm1.tiny', imageRef: image.id });
  t.equal(await gate.started, s.id, 'the spawn reached the hypervisor');
  cluster.conductor!.crash();
  // The crash kills every instance actor; a `get` is answered by a rehydrated one.
  const during = await client.getServer(s.id);
  t.equal(during.status, 'BUILD', 'still building while the hypervisor works');
  gate.open();
  const done = await client.waitForServer(s.id, settled);
  t.equal(done.status, 'ACTIVE');
  t.equal(done.host, 'compute-3');
  t.ok(cluster.actors.stats.restarts > restartsBefore, 'the conductor actor was restarted');
  t.equal((await gated.listGuests()).length, 1, 'exactly one guest, despite the resumed spawn');
  await client.deleteServer(s.id);
  await client.waitForServer(s.id, (x) => x.status === 'DELETED');
});

t.test('an instance actor crash is supervised: restarted, state reloaded, still answering', async (t) => {
  healthy.faults.clear();
  const s = await client.createServer({ name: 'crashy', flavorRef: 'm1.tiny', imageRef: image.id });
  await client.waitForServer(s.id, settled);
  const before = cluster.actors.stats.restarts;
  cluster.conductor!.crashInstance(s.id);
  const after = await client.getServer(s.id);
  t.equal(after.status, 'ACTIVE');
  t.equal(cluster.actors.stats.restarts, before + 1);
  await client.serverAction(s.id, 'stop');
  t.equal((await client.waitForServer(s.id, (x) => x.taskState === null)).status, 'SHUTOFF', 'the restarted actor still acts');
});
