/**
 * REST request metrics: count and latency per route pattern (never the concrete path: no ids),
 * method and status class. Children are found through nested maps, without allocation once seen.
 */
import type { CounterChild, HistogramChild } from './hot.js';
import type { Metrics } from './metrics.js';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** A request no route matched (unknown path): one label for all of them. */
export const UNMATCHED = 'unmatched';

type Pair = readonly [CounterChild, HistogramChild];

export class HttpMetrics {
  private readonly routes = new Map<string, Map<string, Pair[]>>();

  constructor(private readonly metrics: Metrics) {}

  record(route: string | undefined, method: string, status: number, seconds: number): void {
    const r = route ?? UNMATCHED;
    const cls = Math.min(4, Math.max(0, Math.floor(status / 100) - 1));
    let methods = this.routes.get(r);
    if (!methods) this.routes.set(r, (methods = new Map()));
    let byClass = methods.get(method);
    if (!byClass) methods.set(method, (byClass = []));
    let p = byClass[cls];
    if (!p) {
      const label = CLASSES[cls]!;
      p = byClass[cls] = [this.metrics.m.httpRequests.child(r, method, label), this.metrics.m.httpSeconds.child(r, method, label)];
    }
    p[0].inc();
    p[1].observe(seconds);
  }
}
