/**
 * Moves benchmark: resize+confirm and cold migrate+confirm end to end (request → ACTIVE on the new
 * host), over H fake hosts sharing a migration fabric, with C moves in flight, against real NATS
 * and PostgreSQL. Prints one JSON line with p50/p99 of each.
 */
import { startBenchCluster } from './bench-cluster.js';
import { percentiles } from './percentiles.js';

export interface MovesBenchOptions {
  hosts: number;
  instances: number;
  concurrency: number;
}

export async function movesBench(o: MovesBenchOptions): Promise<Record<string, unknown>> {
  const cluster = await startBenchCluster(o.hosts);
  try {
    const { client } = cluster;
    const image = (await client.listImages())[0]!;
    const ids: string[] = [];
    for (let i = 0; i < o.instances; i += 100) {
      const n = Math.min(100, o.instances - i);
      const batch = await client.createServers({ name: `mv-${i}`, flavorRef: 'm1.tiny', imageRef: image.id, minCount: n, maxCount: n });
      ids.push(...batch.map((s) => s.id));
    }
    await Promise.all(ids.map((id) => client.waitForServer(id, (s) => s.status !== 'BUILD', 300_000)));
    const idle = (status: string) => (s: { status: string; taskState: string | null }) => s.taskState === null && (s.status === status || s.status === 'ERROR');

    const measure = async (move: (id: string) => Promise<unknown>) => {
      const latencies: number[] = [];
      let errors = 0;
      let next = 0;
      const t0 = performance.now();
      const worker = async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          const start = performance.now();
          try {
            await move(id);
            const v = await client.waitForServer(id, idle('VERIFY_RESIZE'), 120_000);
            if (v.status !== 'VERIFY_RESIZE') throw new Error(`${id} ended ${v.status}`);
            await client.serverAction(id, 'confirmResize');
            const a = await client.waitForServer(id, idle('ACTIVE'), 120_000);
            if (a.status !== 'ACTIVE') throw new Error(`${id} ended ${a.status}`);
            latencies.push(performance.now() - start);
          } catch {
            errors++;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(o.concurrency, ids.length) }, worker));
      const seconds = (performance.now() - t0) / 1000;
      return { moves: latencies.length, errors, seconds: Math.round(seconds * 100) / 100, ms: percentiles(latencies, [50, 99]) };
    };
    const resize = await measure((id) => client.serverAction(id, 'resize', { flavorRef: 'm1.small' }));
    const migrate = await measure((id) => client.serverAction(id, 'migrate', null));
    return { bench: 'moves', hosts: o.hosts, instances: o.instances, concurrency: o.concurrency, resizeConfirm: resize, coldMigrateConfirm: migrate };
  } finally {
    await cluster.stop();
  }
}
