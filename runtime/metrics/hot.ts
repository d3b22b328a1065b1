/**
 * Counters and histograms cheap enough for every request. prom-client's own children build a label
 * object, validate it and hash it on every `inc`/`observe`; here a child is found once (by the
 * caller, who keeps it) and `inc`/`observe` only touch numbers. Both register on a prom-client
 * `Registry` as any metric does (name, help, type, `get()`), so the exposition text is prom-client's.
 */
import type { Registry } from 'prom-client';

/** What prom-client's registry reads from a metric to render it. */
interface Exposed {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { metricName?: string; labels: Record<string, string | number>; value: number }[];
}

export class CounterChild {
  value = 0;

  inc(n = 1): void {
    this.value += n;
  }
}

export class HistogramChild {
  count = 0;
  sum = 0;
  /** Observations per bucket (not cumulative; `get()` sums them). */
  readonly counts: Float64Array;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(v: number): void {
    this.count++;
    this.sum += v;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

const SEP = '\u0001';

abstract class Family<C> {
  private readonly children = new Map<string, { labels: Record<string, string>; child: C }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** The child for these label values (in `labelNames` order), made on first use and kept. */
  child(...values: string[]): C {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name} takes ${this.labelNames.length} labels, got ${values.length}`);
    const key = values.join(SEP);
    let entry = this.children.get(key);
    if (!entry) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      entry = { labels, child: this.make() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  /** Every child with its labels (tests, `novact status`). */
  entries(): { labels: Record<string, string>; child: C }[] {
    return [...this.children.values()];
  }

  register(registry: Registry): this {
    registry.registerMetric(this as never);
    return this;
  }

  protected abstract make(): C;
}

export class HotCounter extends Family<CounterChild> {
  readonly type = 'counter';

  protected make(): CounterChild {
    return new CounterChild();
  }

  /** The sum over children whose labels include `match` (tests read counters through this). */
  total(match: Record<string, string> = {}): number {
    let n = 0;
    for (const { labels, child } of this.entries()) if (matches(labels, match)) n += child.value;
    return n;
  }

  async get(): Promise<Exposed> {
    return { name: this.name, help: this.help, type: 'counter', aggregator: 'sum', values: this.entries().map(({ labels, child }) => ({ labels, value: child.value })) };
  }
}

export class HotHistogram extends Family<HistogramChild> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }

  protected make(): HistogramChild {
    return new HistogramChild(this.buckets);
  }

  /** Observations over children whose labels include `match`. */
  count(match: Record<string, string> = {}): number {
    let n = 0;
    for (const { labels, child } of this.entries()) if (matches(labels, match)) n += child.count;
    return n;
  }

  async get(): Promise<Exposed> {
    const values: Exposed['values'] = [];
    for (const { labels, child } of this.entries()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += child.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: child.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: child.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}

function matches(labels: Record<string, string>, match: Record<string, string>): boolean {
  for (const k in match) if (labels[k] !== match[k]) return false;
  return true;
}
