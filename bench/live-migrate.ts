/**
 * Live-migration benchmark: N instances booted over H fake hosts (one fabric), then each live
 * migrated to a scheduled host with C moves in flight, end to end (request → `live_migration.end`
 * event), against real NATS and PostgreSQL. Prints one JSON line; asserts nothing about time.
 */
import { startCluster } from '../cluster/cluster.js';
import { FakeFabric } from '../hosts/fake/fake-migration.js';
import { percentiles } from './percentiles.js';

export interface LiveMigrateBenchOptions {
  hosts: number;
  instances: number;
  concurrency: number;
  flavor: string;
}

export async function liveMigrateBench(o: LiveMigrateBenchOptions): Promise<Record<string, unknown>> {
  const cluster = await startCluster({
    hosts: o.hosts,
    logLevel: 'error',
    natsUrl: process.env.NATS_URL,
    databaseUrl: process.env.DATABASE_URL,
    fakeHost: { vcpus: 128, memoryMb: 1_048_576, diskGb: 65_536, fabric: new FakeFabric() },
    scheduler: { maxInstancesPerHost: 1_000 },
  } as Parameters<typeof startCluster>[0]);
  try {
    await cluster.waitForHosts(o.hosts, 120_000);
    const { client, subjects } = cluster;
    const image = (await client.listImages())[0]!;
    const ended = new Map<string, (ok: boolean) => void>();
    const nc = client.bridge.nc;
    const sub = nc.subscribe(`${subjects.root}.evt.instance.*.live_migration.*`, {
      callback: (_e, m) => {
        const [, , , id, , phase] = m.subject.split('.');
        if (!id || phase === 'start') return;
        ended.get(id)?.(phase === 'end');
      },
    });
    await nc.flush();

    const pool = async <T>(items: T[], f: (x: T) => Promise<void>) => {
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(o.concurrency, items.length) }, async () => {
        while (next < items.length) await f(items[next++]!);
      }));
    };
    const ids: string[] = [];
    await pool([...Array(o.instances).keys()], async (i) => {
      const s = await client.createServer({ name: `lm-${i}`, flavorRef: o.flavor, imageRef: image.id });
      await client.waitForServer(s.id, (x) => x.status !== 'BUILD', 120_000);
      ids.push(s.id);
    });

    const latencies: number[] = [];
    let errors = 0;
    const t0 = performance.now();
    await pool(ids, async (id) => {
      const start = performance.now();
      const done = new Promise<boolean>((r) => ended.set(id, r));
      try {
        await client.serverAction(id, 'liveMigrate', { host: null, block_migration: 'auto' });
        if (await done) latencies.push(performance.now() - start);
        else errors++;
      } catch {
        errors++;
      } finally {
        ended.delete(id);
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    sub.unsubscribe();
    return {
      bench: 'live-migrate', hosts: o.hosts, instances: o.instances, concurrency: o.concurrency, migrated: latencies.length, errors,
      seconds: Math.round(seconds * 100) / 100, perSecond: Math.round((latencies.length / seconds) * 10) / 10,
      latencyMs: percentiles(latencies, [50, 90, 99, 100]),
    };
  } finally {
    await cluster.stop();
  }
}
