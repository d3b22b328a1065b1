/**
 * What must still hold after a fuzz run: every instance settles (none left in BUILD or a task), the
 * ledger charges each host exactly for the guests its hypervisor runs (consumers and MEMORY_MB), no
 * guest runs on two hypervisors, no consumer is charged on two providers, and the cluster boots a
 * new server to ACTIVE and deletes it. Each returns the violations it found (empty: it holds).
 */
import type { Cluster } from '../../../cluster/cluster.js';
import { until } from '../../harness/poll.js';


/** Waits until no instance is building or in a task; answers the ones still unsettled. */
export async function settle(cluster: Cluster, timeoutMs = 30_000): Promise<string[]> {
  let busy: string[] = [];
  await until(async () => {
    const all = await cluster.client.listServers({ limit: 1000 });
    busy = all.filter((s) => s.status === 'BUILD' || s.taskState !== null).map((s) => `${s.id} ${s.status}/${s.taskState}`);
    return busy.length === 0;
  }, timeoutMs, 200);
  return busy;
}

/** Ledger = hypervisors; one host per guest; one provider per consumer. */
export async function capacityViolations(cluster: Cluster): Promise<string[]> {
  const out: string[] = [];
  const conn = cluster.orm!.em.getConnection();
  const rows = (await conn.execute(`select consumer::text as consumer, provider, resource_class, used from allocations`)) as { consumer: string; provider: string; resource_class: string; used: number }[];
  const providersOf = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = providersOf.get(r.consumer) ?? new Set();
    set.add(r.provider);
    providersOf.set(r.consumer, set);
  }
  for (const [c, p] of providersOf) if (p.size > 1) out.push(`consumer ${c} charged on ${[...p].join(' and ')}`);
  const servers = new Map((await cluster.client.listServers({ limit: 1000 })).map((s) => [s.id, s]));
  const hostOf = new Map<string, string>();
  for (const [name, { driver }] of cluster.compute!.hosts) {
    const guests = (await driver.listGuests()).map((g) => g.uuid);
    for (const g of guests) {
      const other = hostOf.get(g);
      if (other) out.push(`guest ${g} runs on ${other} and ${name}`);
      hostOf.set(g, name);
    }
    const charged = rows.filter((r) => r.provider === name && r.resource_class === 'MEMORY_MB');
    const want = guests.map((g) => servers.get(g)?.flavor.ram ?? Number.NaN).reduce((a, b) => a + b, 0);
    const got = charged.reduce((a, r) => a + Number(r.used), 0);
    if (want !== got) out.push(`${name}: ledger MEMORY_MB ${got}, its guests' flavors ${want}`);
    const consumers = charged.map((r) => r.consumer).sort();
    if (JSON.stringify(consumers) !== JSON.stringify([...guests].sort())) out.push(`${name}: ledger consumers [${consumers.join(',')}] ≠ guests [${[...guests].sort().join(',')}]`);
    const placed = [...servers.values()].filter((s) => s.host === name && s.status !== 'ERROR').map((s) => s.id).sort();
    if (JSON.stringify(placed) !== JSON.stringify([...guests].sort())) out.push(`${name}: database places [${placed.join(',')}] but the hypervisor runs [${[...guests].sort().join(',')}]`);
  }
  for (const c of providersOf.keys()) if (!hostOf.has(c)) out.push(`consumer ${c} charged but runs nowhere`);
  return out;
}

/** Boots one server through the NATS client, waits for ACTIVE, deletes it; answers what went wrong. */
export async function bootAndDelete(cluster: Cluster, timeoutMs = 20_000): Promise<string[]> {
  try {
    const image = (await cluster.client.listImages()).find((i) => i.status === 'active');
    if (!image) return ['no active image to boot'];
    const s = await cluster.client.createServer({ name: `fz-after-${Date.now()}`, flavorRef: 'm1.tiny', imageRef: image.id });
    const done = await cluster.client.waitForServer(s.id, (x) => x.status !== 'BUILD', timeoutMs);
    if (done.status !== 'ACTIVE') return [`boot ended ${done.status}: ${JSON.stringify(done.fault ?? null)}`];
    await cluster.client.deleteServer(s.id);
    const gone = await until(async () => (await cluster.client.getServer(s.id).then((x) => x.status, () => 'DELETED')) === 'DELETED', timeoutMs, 100);
    return gone ? [] : ['the server was not deleted'];
  } catch (err) {
    return [`boot failed: ${(err as Error).message}`];
  }
}
