/**
 * M4: a delete that cannot reach its host keeps the capacity held and retries until the host
 * confirms or its compute service is down past the service down time; a host that comes back reaps
 * a guest whose instance was deleted while it was away. The compute role runs as a process of its
 * own (its own startCluster), stopped and started again around the same hypervisor.
 */
import t from 'tap';
import { waitFor } from '../harness/poll.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { startCluster, type Cluster } from '../../cluster/cluster.js';
import { createLogger } from '../../runtime/log/logger.js';
import { startTestCluster } from '../harness/cluster.js';

/** A hypervisor that outlives the compute process driving it (its guests keep running). */
class LastingDriver extends FakeDriver {
  override async close(): Promise<void> {}
}

const SERVICE_DOWN_MS = 4_000;
const HEARTBEAT_MS = 200;
const driver = new LastingDriver({ hostname: 'compute-1' });
const logged: string[] = [];
const waiters: { msg: string; resolve: () => void }[] = [];
const logger = createLogger('warn', (line) => {
  const msg = String(line.msg);
  logged.push(msg);
  for (const w of waiters.splice(0)) (w.msg === msg ? w.resolve : () => waiters.push(w))();
});
const logOnce = (msg: string) => new Promise<void>((resolve) => waiters.push({ msg, resolve }));

const { cluster, servers } = await startTestCluster(t, {
  roles: ['conductor', 'scheduler', 'image'],
  logger,
  conductor: { serviceDownTimeMs: SERVICE_DOWN_MS },
  scheduler: { serviceDownTimeMs: SERVICE_DOWN_MS },
});
const { client } = cluster;
const image = (await client.listImages())[0]!;

let compute: Cluster | undefined;
const startCompute = async () => {
  compute = await startCluster({
    natsUrl: servers.nats.url,
    roles: ['compute'],
    hosts: [{ name: 'compute-1', driver }],
    logLevel: 'error',
    requestTimeoutMs: 5_000,
    compute: { reportIntervalMs: 500, heartbeatIntervalMs: HEARTBEAT_MS, reconcileIntervalMs: 60_000 },
  });
  await cluster.waitForHosts(1);
};
const stopCompute = async () => {
  await compute!.stop();
  compute = undefined;
};
t.teardown(async () => {
  await compute?.stop();
});
await startCompute();

const allocated = async () => (await cluster.ledger!.totals()).allocations.MEMORY_MB;
const guestMemory = async () => (await driver.listGuests()).reduce((n, g) => n + g.memoryMb, 0);
const boot = async (name: string) => {
  const s = await client.createServer({ name, flavorRef: 'm1.tiny', imageRef: image.id });
  const done = await client.waitForServer(s.id, (x) => x.status !== 'BUILD');
  t.equal(done.status, 'ACTIVE', `${name} is ACTIVE`);
  return done;
};

t.test('a delete while the host is away holds the capacity until the host confirms', async (t) => {
  const s = await boot('away-returns');
  await stopCompute();
  const retrying = logOnce('destroy cannot reach its host; capacity stays held while retrying');
  await client.deleteServer(s.id);
  // Past the old budget (which gave up and released here): still deleting, still charged.
  await retrying;
  const mid = await client.getServer(s.id);
  t.equal(mid.taskState, 'deleting', 'visible as deleting while the host is unreachable');
  t.equal(await allocated(), 512, 'the capacity is still held');
  t.ok((await driver.listGuests()).some((g) => g.uuid === s.id), 'the guest still runs');
  await startCompute();
  await waitFor('DELETED', async () => (await client.getServer(s.id).catch(() => ({ status: 'DELETED' }))).status === 'DELETED');
  t.same(await driver.listGuests(), [], 'the host destroyed the guest');
  t.equal(await allocated(), 0, 'released only after the host confirmed');
  t.notOk(logged.includes('host down past the service down time; deleting locally'), 'no local delete was needed');
});

t.test('a host down past the service down time: local delete, then the returning host reaps the guest', async (t) => {
  const s = await boot('away-reaped');
  await stopCompute();
  const stoppedAt = Date.now();
  await client.deleteServer(s.id);
  t.equal((await client.getServer(s.id)).taskState, 'deleting');
  t.equal(await allocated(), 512, 'charged while the guest may still run');
  await waitFor('DELETED', async () => (await client.getServer(s.id).catch(() => ({ status: 'DELETED' }))).status === 'DELETED');
  const waited = Date.now() - stoppedAt;
  t.ok(waited >= SERVICE_DOWN_MS - HEARTBEAT_MS, `deleted locally only after the service down time (${waited} ms)`);
  t.ok(logged.includes('host down past the service down time; deleting locally'), 'said so in the log');
  t.equal(await allocated(), 0, 'released once the host is known down');
  t.ok((await driver.listGuests()).some((g) => g.uuid === s.id), 'the guest was left running on the unreachable host');

  // The host comes back: its start-up reconciliation finds a guest with no live instance.
  await startCompute();
  await waitFor('the reap', async () => (await driver.listGuests()).length === 0);
  t.ok(compute!.compute!.reaper.stats.reaped >= 1, 'reaped by the reconciliation');
  t.equal(await allocated(), await guestMemory(), 'ledger = hypervisor');
});

t.test('reconciliation keeps live guests and guests mid-build, reaps unknown ones', async (t) => {
  const live = await boot('kept');
  // A guest nobody asked for (left by an earlier life of this host).
  await driver.spawn({ uuid: '00000000-0000-4000-8000-00000000dead', name: 'stray', vcpus: 1, memoryMb: 64, diskGb: 1, image: { id: image.id, diskFormat: 'qcow2', properties: {} } });
  const reaped = await compute!.compute!.reaper.reconcile('compute-1');
  t.same(reaped, ['00000000-0000-4000-8000-00000000dead'], 'only the stray guest is reaped');
  t.same((await driver.listGuests()).map((g) => g.uuid), [live.id], 'the live instance keeps its guest');
  t.equal(await allocated(), await guestMemory(), 'ledger = hypervisor');
  await client.deleteServer(live.id);
  await waitFor('DELETED', async () => (await client.getServer(live.id).catch(() => ({ status: 'DELETED' }))).status === 'DELETED');
});
