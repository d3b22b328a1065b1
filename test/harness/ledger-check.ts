/**
 * Moves' invariant: the placement ledger equals the hypervisors. Per host, the ledger's consumers
 * and memory equal the guests the fake driver runs; every guest is on exactly one host, the one its
 * server row names.
 */
import type { Test } from 'tap';
import type { Cluster } from '../../cluster/cluster.js';
import type { FakeDriver } from '../../hosts/fake/fake-driver.js';

export async function ledgerMatchesHypervisors(t: Test, cluster: Cluster, drivers: Map<string, FakeDriver>, what: string): Promise<void> {
  const snap = new Map((await cluster.ledger!.snapshot()).map((s) => [s.provider, s]));
  const where = new Map<string, string[]>();
  for (const [host, d] of drivers) {
    const guests = await d.listGuests();
    for (const g of guests) where.set(g.uuid, [...(where.get(g.uuid) ?? []), host]);
    const s = snap.get(host);
    t.same({ consumers: s?.consumers ?? 0, memoryMb: s?.used.MEMORY_MB ?? 0 },
      { consumers: guests.length, memoryMb: guests.reduce((n, g) => n + g.memoryMb, 0) }, `${what}: ledger == hypervisor on ${host}`);
  }
  for (const [uuid, hosts] of where) {
    t.equal(hosts.length, 1, `${what}: guest ${uuid} on one host only (${hosts.join(', ')})`);
    const row = await cluster.client.getServer(uuid).catch(() => undefined);
    t.equal(row?.host, hosts[0], `${what}: guest ${uuid} is where its server says`);
  }
}
