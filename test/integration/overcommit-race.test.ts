import t from 'tap';
import { startCluster } from '../../cluster/cluster.js';
import { startTestCluster } from '../harness/cluster.js';

// 20 hosts × 25,600 MB at ratio 1.0, nothing reserved: exactly 50 m1.tiny (512 MB) each, 1,000 in all.
const capacity = { cpuAllocationRatio: 16, ramAllocationRatio: 1, diskAllocationRatio: 1, reservedHostMemoryMb: 0, reservedHostDiskGb: 0, reservedHostCpus: 0 };
const scheduler = { capacity, maxInstancesPerHost: 1_000 };
// Generous timeouts: under a loaded machine a 5 s spawn timeout turns a build into ERROR (not
// NoValidHost) with its allocation held, and this test is about the race, not about speed.
const slow = { requestTimeoutMs: 60_000, conductor: { spawnTimeoutMs: 60_000, powerTimeoutMs: 60_000 } };
const { cluster, servers } = await startTestCluster(t, { hosts: 20, fakeHost: { memoryMb: 25_600, vcpus: 64 }, scheduler, ...slow });

// Two more scheduler replicas, each a process-like cluster of its own running only the scheduler role.
const replicas = await Promise.all(
  [1, 2].map(() => startCluster({ natsUrl: servers.nats.url, databaseUrl: servers.pg.url, roles: ['scheduler'], logLevel: 'error', scheduler, requestTimeoutMs: slow.requestTimeoutMs })),
);
t.teardown(() => Promise.all(replicas.map((r) => r.stop())));
await Promise.all(replicas.map((r) => r.waitForHosts(20)));

t.test('3 schedulers race 2,000 boots onto room for 1,000: exactly 1,000 succeed, nothing overcommits', async (t) => {
  const { client, subjects } = cluster;
  const image = (await client.listImages())[0]!;
  const outcome = new Map<string, string>();
  let settle!: () => void;
  const allSettled = new Promise<void>((r) => (settle = r));
  const sub = client.bridge.nc.subscribe(`${subjects.root}.evt.instance.*.create.*`, {
    callback: (_e, m) => {
      const parts = m.subject.split('.');
      const phase = parts[5]!;
      if (phase === 'start') return;
      outcome.set(parts[3]!, phase);
      if (outcome.size === 2_000) settle();
    },
  });
  await client.bridge.nc.flush();
  const created = await Promise.all(
    Array.from({ length: 2_000 }, (_, i) => client.createServer({ name: `race-${i}`, flavorRef: 'm1.tiny', imageRef: image.id })),
  );
  t.equal(new Set(created.map((s) => s.id)).size, 2_000, '2,000 builds accepted');
  await allSettled;
  sub.unsubscribe();

  const ends = [...outcome.values()];
  t.equal(ends.filter((p) => p === 'end').length, 1_000, 'exactly 1,000 ACTIVE');
  t.equal(ends.filter((p) => p === 'error').length, 1_000, 'the other 1,000 failed');
  const errored = await client.listServers({ status: 'ERROR', limit: 1000 });
  t.ok(errored.every((s) => /No valid host/.test(s.fault?.message ?? '')), 'each with NoValidHost');

  const totals = await cluster.ledger!.totals();
  t.equal(totals.MEMORY_MB, 1_000 * 512, 'the ledger holds exactly the capacity');
  t.same(totals.allocations, { VCPU: 1_000, MEMORY_MB: 512_000, DISK_GB: 1_000 });

  // Every host: ledger, scheduler view and hypervisor agree, and none is over its capacity.
  const inventories = (await cluster.orm!.em.getConnection().execute(`select provider, used from inventories where resource_class = 'MEMORY_MB'`)) as { provider: string; used: number }[];
  const ledgerUse = new Map(inventories.map((r) => [r.provider, r.used]));
  for (const [name, { driver }] of cluster.compute!.hosts) {
    const usage = await driver.usage();
    t.equal(ledgerUse.get(name), usage.memoryMbUsed, `${name}: ledger = hypervisor`);
    t.ok(usage.memoryMbUsed <= 25_600, `${name}: within capacity (${usage.memoryMbUsed} MB)`);
  }
  const decided = [cluster, ...replicas].map((c) => c.scheduler!.stats.decisions);
  t.ok(decided.every((n) => n > 0), `every replica took part (${decided.join(', ')} decisions)`);
});
