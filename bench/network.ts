/**
 * The network role alone (real NATS and PostgreSQL): port creates per second with many in flight on
 * one big subnet, and the latency of an allocation on a nearly full subnet (create/delete cycles at
 * 99 % occupancy). Prints one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { startCluster } from '../cluster/cluster.js';
import { NetCreate, NetDelete, NetQuota } from '../protocols/catalog/network.js';
import type { RequestDef } from '../protocols/catalog/define.js';
import { percentiles } from './percentiles.js';

export interface NetworkBenchOptions {
  ports: number;
  concurrency: number;
}

export async function networkBench(o: NetworkBenchOptions): Promise<Record<string, unknown>> {
  const cluster = await startCluster({ roles: ['network'], logLevel: 'error', natsUrl: process.env.NATS_URL, databaseUrl: process.env.DATABASE_URL });
  try {
    const bus = cluster.client.bridge;
    const by = { projectId: 'bench', isAdmin: true };
    const ask = <D extends RequestDef>(def: D, kind: string, body: Record<string, unknown>) =>
      bus.call(def, [kind], body as never, { timeoutMs: 60_000, idempotencyKey: randomUUID() }) as Promise<Record<string, any>>;
    const create = async (kind: string, attrs: Record<string, unknown>) => (await ask(NetCreate, kind, { by, attrs })).item as Record<string, any>;
    await ask(NetQuota, 'quota', { by, action: 'set', id: 'bench', limits: { port: -1, network: -1, subnet: -1 } });
    const big = await create('network', { name: 'bench-big' });
    await create('subnet', { network_id: big.id, ip_version: 4, cidr: '10.128.0.0/16' });

    // 1. Port creates with `concurrency` in flight.
    const lat: number[] = [];
    let issued = 0;
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: o.concurrency }, async () => {
      while (issued < o.ports) {
        issued++;
        const s = performance.now();
        try {
          await create('port', { network_id: big.id });
          lat.push(performance.now() - s);
        } catch {
          failed++;
        }
      }
    }));
    const seconds = (performance.now() - t0) / 1000;

    // 2. A /22 (1021 addresses) kept 99 % full: each cycle deletes one port and creates one.
    const tight = await create('network', { name: 'bench-tight' });
    await create('subnet', { network_id: tight.id, ip_version: 4, cidr: '10.200.0.0/22' });
    const held: string[] = [];
    for (let i = 0; i < 1010; i += 64) {
      const batch = await Promise.all(Array.from({ length: Math.min(64, 1010 - i) }, () => create('port', { network_id: tight.id })));
      held.push(...batch.map((p) => p.id as string));
    }
    const nearlyFull: number[] = [];
    for (let i = 0; i < 500; i++) {
      const victim = held.splice(Math.floor(Math.random() * held.length), 1)[0]!;
      await ask(NetDelete, 'port', { by, id: victim });
      const s = performance.now();
      const p = await create('port', { network_id: tight.id });
      nearlyFull.push(performance.now() - s);
      held.push(p.id as string);
    }
    const writer = cluster.network!;
    return {
      bench: 'network',
      ports: o.ports,
      concurrency: o.concurrency,
      created: lat.length,
      failed,
      portsPerSec: Math.round((lat.length / seconds) * 10) / 10,
      portCreateMs: percentiles(lat, [50, 95, 99]),
      nearlyFullSubnet: { occupancy: '1010/1021', cycles: 500, createMs: percentiles(nearlyFull, [50, 99]) },
      resources: writer.state.rows.size,
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
    };
  } finally {
    await cluster.stop();
  }
}
