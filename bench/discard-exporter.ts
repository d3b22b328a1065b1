/**
 * A span exporter that only counts: `--tracing on` records every span and hands it through a
 * BatchSpanProcessor as a real deployment would, without a collector's network cost in the figures.
 */
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TracingOptions } from '../runtime/trace/provider.js';

export class DiscardExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

/** The cluster option for `--tracing on|off` (off: no provider, the API's no-op tracer). */
export const benchTracing = (on: boolean | undefined): TracingOptions => (on ? { exporter: new DiscardExporter() } : { enabled: false });
