/** Image data in and out of the store, for `novact_image_bytes_received_total` and `novact_image_bytes_sent_total`. */
import type { Metrics } from '../../runtime/metrics/metrics.js';

export type ByteSource = 'upload' | 'snapshot';
export type ByteReader = 'api' | 'host';

export interface ImageBytes {
  received(source: ByteSource, n: number): void;
  sent(reader: ByteReader, n: number): void;
}

export function imageBytes(metrics: Metrics | undefined): ImageBytes | undefined {
  if (!metrics) return undefined;
  const m = metrics.m;
  const received = { upload: m.imageBytesIn.child('upload'), snapshot: m.imageBytesIn.child('snapshot') };
  const sent = { api: m.imageBytesOut.child('api'), host: m.imageBytesOut.child('host') };
  return { received: (source, n) => received[source].inc(n), sent: (reader, n) => sent[reader].inc(n) };
}
