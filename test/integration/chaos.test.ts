/**
 * Chaos: the database and the message bus die in the middle of a burst of builds and come back.
 * Every build must still end ACTIVE (the outage is waited out, none stuck in BUILD), and capacity must
 * stay honest: the ledger holds exactly the flavors of the ACTIVE instances, and every hypervisor
 * runs exactly the guests the database places on it.
 */
import t, { type Test } from 'tap';
import type { Cluster } from '../../cluster/cluster.js';
import { startTestCluster, waitAll, settled } from '../harness/cluster.js';

const { cluster, servers } = await startTestCluster(t, {
  hosts: 4,
  // The periodic sweep resumes what a crash left half-done; fast here, so the test does not wait minutes.
  conductor: { stuckAfterMs: 1_000, sweepIntervalMs: 250, convergeAttempts: 8 },
});
const { client } = cluster;
const image = (await client.listImages())[0]!;

async function burst(n: number, tag: string): Promise<string[]> {
  const created = await Promise.all(
    Array.from({ length: n }, (_, i) => client.createServer({ name: `${tag}-${i}`, flavorRef: i % 2 ? 'm1.small' : 'm1.tiny', imageRef: image.id })),
  );
  return created.map((s) => s.id);
}

/** Capacity honesty after the dust settles: ledger = ACTIVE flavors; hypervisors = database. */
async function assertHonest(t: Test, c: Cluster): Promise<void> {
  const live = await client.listServers({ status: 'ACTIVE', limit: 1000 });
  const totals = await c.ledger!.totals();
  const wantMb = live.reduce((sum, s) => sum + s.flavor.ram, 0);
  t.equal(totals.MEMORY_MB, wantMb, 'ledger RAM = the ACTIVE instances\' flavors');
  t.equal(totals.allocations.MEMORY_MB, wantMb, 'allocations = the ACTIVE instances\' flavors');
  t.equal(totals.VCPU, live.length, 'one VCPU each');
  for (const [name, { driver }] of c.compute!.hosts) {
    const guests = (await driver.listGuests()).map((g) => g.uuid).sort();
    t.same(guests, live.filter((s) => s.host === name).map((s) => s.id).sort(), `${name} runs exactly what the database places there`);
  }
}

// A restart takes ~0.1 s here; the conductor retries retryable failures for several seconds, so an
// outage costs no build.
for (const [what, server] of [['PostgreSQL', servers.pg], ['nats-server', servers.nats]] as const) {
  t.test(`${what} killed during a burst of builds, then restarted`, async (t) => {
    const ids = await burst(24, what);
    await server.kill();
    await server.restart();
    const done = await waitAll(cluster, ids, settled, 90_000);
    t.equal(done.length, 24, 'every build settled (none stuck in BUILD)');
    t.same(done.filter((s) => s.status !== 'ACTIVE').map((s) => s.fault), [], 'every build ACTIVE: the outage was waited out');
    await assertHonest(t, cluster);
  });
}
