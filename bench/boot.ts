/**
 * Boot benchmark: N instances over H fake hosts with C builds in flight, end to end (request →
 * `create.end` event), against real NATS and PostgreSQL. Prints one JSON line.
 */
import { startBenchCluster } from './bench-cluster.js';
import { randomUUID } from 'node:crypto';
import type { Cluster } from '../cluster/cluster.js';
import { NetCreate, NetQuota } from '../protocols/catalog/network.js';
import { percentiles } from './percentiles.js';

/** A network with a /16 for the bench's servers (the builds' project is the client's `default`). */
async function benchNetwork(cluster: Cluster): Promise<string> {
  const by = { projectId: 'default', isAdmin: true };
  const call = (kind: string, attrs: Record<string, unknown>) => cluster.client.bridge.call(NetCreate, [kind], { by, attrs }, { timeoutMs: 10_000, idempotencyKey: randomUUID() });
  await cluster.client.bridge.call(NetQuota, ['quota'], { by, action: 'set', id: 'default', limits: { port: -1 } }, { timeoutMs: 10_000, idempotencyKey: randomUUID() });
  const net = (await call('network', { name: 'bench', project_id: 'default' })).item as { id: string };
  await call('subnet', { network_id: net.id, ip_version: 4, cidr: '10.64.0.0/16', project_id: 'default' });
  return net.id;
}

export interface BootBenchOptions {
  hosts: number;
  instances: number;
  concurrency: number;
  flavor: string;
  deleteAfter: boolean;
  /** Each server with one NIC on a /16 of the bench project (the network step's cost). */
  nic?: boolean;
}

export async function bootBench(o: BootBenchOptions): Promise<Record<string, unknown>> {
  const cluster = await startBenchCluster(o.hosts);
  try {
    const { client, subjects } = cluster;
    const image = (await client.listImages())[0]!;
    const networks = o.nic ? [{ network: await benchNetwork(cluster) }] : undefined;
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let errors = 0;
    let finished = 0;
    // Workers and the main loop park here until a build finishes.
    let waiters: (() => void)[] = [];
    const wake = () => {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    };
    const parked = () => new Promise<void>((r) => waiters.push(r));
    const nc = client.bridge.nc;
    const sub = nc.subscribe(`${subjects.root}.evt.instance.*.create.*`, {
      callback: (_e, m) => {
        const [, , , id, , phase] = m.subject.split('.');
        if (phase === 'start' || !id) return;
        const t0 = sentAt.get(id);
        if (t0 === undefined) return;
        sentAt.delete(id);
        if (phase === 'end') latencies.push(performance.now() - t0);
        else errors++;
        finished++;
        wake();
      },
    });
    await nc.flush();

    const ids: string[] = [];
    const t0 = performance.now();
    let issued = 0;
    const worker = async () => {
      while (issued < o.instances) {
        const i = issued++;
        const start = performance.now();
        try {
          const s = await client.createServer({ name: `bench-${i}`, flavorRef: o.flavor, imageRef: image.id, ...(networks ? { networks } : {}) });
          ids.push(s.id);
          if (!sentAt.has(s.id) && latencies.length + errors < o.instances) sentAt.set(s.id, start);
        } catch {
          errors++;
          finished++;
          wake();
          continue;
        }
        // Keep `concurrency` builds in flight end to end, not just requests.
        while (ids.length - finished >= o.concurrency) await parked();
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, o.instances) }, worker));
    while (finished < o.instances) await parked();
    const seconds = (performance.now() - t0) / 1000;
    sub.unsubscribe();

    let deletesPerSec: number | undefined;
    if (o.deleteAfter) {
      const d0 = performance.now();
      const gone = ids.map((id) => client.waitForServer(id, (s) => s.status === 'DELETED', 300_000));
      for (let i = 0; i < ids.length; i += o.concurrency) {
        await Promise.all(ids.slice(i, i + o.concurrency).map((id) => client.deleteServer(id)));
      }
      await Promise.all(gone);
      deletesPerSec = Math.round((ids.length / ((performance.now() - d0) / 1000)) * 10) / 10;
    }
    const decisions = cluster.scheduler?.stats.decisionUs ?? [];
    return {
      bench: 'boot',
      hosts: o.hosts,
      instances: o.instances,
      concurrency: o.concurrency,
      nic: o.nic === true,
      active: latencies.length,
      errors,
      seconds: Math.round(seconds * 100) / 100,
      bootsPerSec: Math.round((latencies.length / seconds) * 10) / 10,
      timeToActiveMs: percentiles(latencies, [50, 95, 99]),
      schedulerDecisionUs: percentiles(decisions, [50, 99]),
      ...(deletesPerSec !== undefined ? { deletesPerSec } : {}),
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
    };
  } finally {
    await cluster.stop();
  }
}
