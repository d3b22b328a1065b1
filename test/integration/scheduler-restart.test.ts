/**
 * The only scheduler goes away in the middle of a burst of builds and a new one takes over (a
 * restart, an upgrade): builds wait (their selects are retried while nobody answers), the new
 * scheduler rebuilds its view from the ledger and the hosts' reports, and every build ends ACTIVE
 * with the ledger and the hypervisors in agreement.
 */
import t from 'tap';
import { startCluster, type Cluster } from '../../cluster/cluster.js';
import { startServers } from '../harness/servers.js';
import { settled, waitAll } from '../harness/cluster.js';

const servers = await startServers(t);
const common = { natsUrl: servers.nats.url, databaseUrl: servers.pg.url, logLevel: 'error' as const, requestTimeoutMs: 2_000 };
const startScheduler = () => startCluster({ ...common, roles: ['scheduler'] });

let scheduler: Cluster = await startScheduler();
const cluster = await startCluster({
  ...common,
  roles: ['conductor', 'compute', 'image'],
  hosts: 4,
  compute: { reportIntervalMs: 300, heartbeatIntervalMs: 100 },
  conductor: { convergeAttempts: 10, stuckAfterMs: 1_000, sweepIntervalMs: 250 },
});
t.teardown(async () => {
  await cluster.stop();
  await scheduler.stop();
});
await scheduler.waitForHosts(4);
const { client } = cluster;
const image = (await client.listImages())[0]!;

t.test('scheduler replaced mid-burst: every build ACTIVE, capacity honest', async (t) => {
  const created = await Promise.all(Array.from({ length: 30 }, (_, i) => client.createServer({ name: `s-${i}`, flavorRef: 'm1.tiny', imageRef: image.id })));
  // Stop it once it is busy: some builds decided (claims on their way to the ledger), others not yet.
  const first = scheduler.scheduler!;
  while (first.stats.decisions < 10) await new Promise((r) => setImmediate(r));
  const before = first.stats.decisions;
  await scheduler.stop();
  scheduler = await startScheduler();
  const done = await waitAll(cluster, created.map((s) => s.id), settled, 90_000);
  t.same(done.filter((s) => s.status !== 'ACTIVE').map((s) => s.fault), [], 'every build ACTIVE');
  t.comment(`decided by the first scheduler: ${before}, by its successor: ${scheduler.scheduler!.stats.decisions}`);

  const totals = await scheduler.ledger!.totals();
  t.equal(totals.MEMORY_MB, 30 * 512, 'the ledger holds the 30 builds, once each');
  t.equal(totals.allocations.MEMORY_MB, 30 * 512);
  for (const [name, { driver }] of cluster.compute!.hosts) {
    const guests = (await driver.listGuests()).map((g) => g.uuid).sort();
    t.same(guests, done.filter((s) => s.host === name).map((s) => s.id).sort(), `${name} runs exactly what the database places there`);
  }
  // The new scheduler's view agrees with the ledger: it places on top of what is there.
  const used = scheduler.scheduler!.states.all().reduce((sum, h) => sum + h.used.MEMORY_MB, 0);
  t.equal(used, 30 * 512, 'the new scheduler sees every claim');
});
