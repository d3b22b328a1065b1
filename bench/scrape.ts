/**
 * `/metrics` at fleet size: an all-in-one cluster with H fake hosts reporting, N instances booted
 * (so instance states, actors and request series exist), then R scrapes over the operations port
 * (HTTP, as Prometheus does) and R in-process (`Metrics.scrape`, the text alone), each timed. Prints
 * the times, the size of the exposition and its number of series.
 */
import { performance } from 'node:perf_hooks';
import { startCluster } from '../cluster/cluster.js';
import { percentiles } from './percentiles.js';
import { progress, stopCollectingErrors } from './reports.js';

export interface ScrapeBenchOptions {
  hosts: number;
  instances: number;
  rounds: number;
}

const round = (x: number, d = 100) => Math.round(x * d) / d;

export async function scrapeBench(o: ScrapeBenchOptions): Promise<Record<string, unknown>> {
  const cluster = await startCluster({ hosts: o.hosts, logLevel: 'error', metrics: { port: 0 }, compute: { reportIntervalMs: 10_000, heartbeatIntervalMs: 10_000 } });
  try {
    await cluster.waitForHosts(o.hosts, 600_000);
    progress('hosts up', { hosts: o.hosts });
    const image = (await cluster.client.listImages())[0]!;
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < o.instances) {
        next++;
        await cluster.client.createServer({ name: `scrape-${next}`, flavorRef: 'm1.tiny', imageRef: image.id }).catch(() => undefined);
      }
    }));
    const status = await cluster.client.clusterStatus();
    progress('instances booted', { instances: status.instances.reduce((n, i) => n + i.count, 0) });
    const http: number[] = [];
    const inProcess: number[] = [];
    let text = '';
    for (let i = 0; i < o.rounds; i++) {
      let t0 = performance.now();
      text = await (await fetch(`${cluster.opsUrl}/metrics`)).text();
      http.push(performance.now() - t0);
      t0 = performance.now();
      await cluster.metrics!.scrape();
      inProcess.push(performance.now() - t0);
    }
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    return {
      bench: 'scrape',
      hosts: o.hosts,
      instances: o.instances,
      rounds: o.rounds,
      httpMs: { ...percentiles(http, [50, 99]), max: round(Math.max(...http)) },
      inProcessMs: { ...percentiles(inProcess, [50, 99]), max: round(Math.max(...inProcess)) },
      bytes: text.length,
      series,
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
    };
  } finally {
    await stopCollectingErrors(() => cluster.stop());
  }
}
