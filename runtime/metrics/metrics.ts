/**
 * One process's (one cluster object's) metrics: a prom-client `Registry` of its own, never the
 * global default (tests start several clusters in one process), holding every metric of
 * definitions.ts plus Node's process metrics. Gauges that describe state (hosts up, instances by
 * state, live actors, pool connections) are read at scrape time by collectors the roles register,
 * so nothing is kept up to date between scrapes.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS, type MetricDef } from './definitions.js';
import { HotCounter, HotHistogram } from './hot.js';

type Made<D> = D extends { type: 'counter' } ? HotCounter : D extends { type: 'histogram' } ? HotHistogram : D extends { type: 'gauge'; labels: readonly (infer L extends string)[] } ? Gauge<L> : never;
export type MetricSet = { readonly [K in keyof typeof METRICS]: Made<(typeof METRICS)[K]> };

/** Runs before each scrape; sets gauges (or counters mirrored from plain stats) from live state. */
export type Collector = () => void | Promise<void>;

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop lag, GC); default true. */
  process?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly m: MetricSet;
  private readonly collectors = new Set<Collector>();

  constructor(o: MetricsOptions = {}) {
    const made: Record<string, unknown> = {};
    for (const [key, def] of Object.entries(METRICS) as [string, MetricDef][]) made[key] = make(def, this.registry);
    this.m = made as MetricSet;
    if (o.process ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Adds a scrape-time collector; the returned function removes it (a role's stop). */
  onScrape(c: Collector): () => void {
    this.collectors.add(c);
    return () => this.collectors.delete(c);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. A collector that throws leaves its gauges as they were; the scrape still answers. */
  async scrape(): Promise<string> {
    await Promise.all([...this.collectors].map(async (c) => {
      try {
        await c();
      } catch {
        // A collector reading a role that is stopping: its last values stand.
      }
    }));
    return this.registry.metrics();
  }
}

function make(def: MetricDef, registry: Registry): unknown {
  if (def.type === 'counter') return new HotCounter(def.name, def.help, def.labels).register(registry);
  if (def.type === 'histogram') return new HotHistogram(def.name, def.help, def.labels, def.buckets ?? []).register(registry);
  return new Gauge({ name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] });
}
