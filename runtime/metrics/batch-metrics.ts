/** A batcher's observer for `novact_db_batch_items` and `novact_db_batch_seconds` under one `batch` label. */
import type { BatchObserver } from '../batcher.js';
import type { Metrics } from './metrics.js';

export function batchObserver(metrics: Metrics | undefined, batch: string): BatchObserver | undefined {
  if (!metrics) return undefined;
  const items = metrics.m.batchItems.child(batch);
  const ok = metrics.m.batchSeconds.child(batch, 'ok');
  const failed = metrics.m.batchSeconds.child(batch, 'error');
  return (n, seconds, f) => {
    items.observe(n);
    (f ? failed : ok).observe(seconds);
  };
}
