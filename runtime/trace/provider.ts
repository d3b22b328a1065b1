/**
 * Installing a tracer provider, only when asked: by the cluster's `tracing` option or by the
 * standard OpenTelemetry environment (`OTEL_TRACES_EXPORTER=otlp`, with `OTEL_EXPORTER_OTLP_ENDPOINT`
 * or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_SERVICE_NAME`; `OTEL_SDK_DISABLED=true` turns it
 * all off). Nothing is installed by default, and an embedder's own global provider is left alone:
 * our spans go to it (runtime/trace/tracing.ts asks the API, never a provider of ours directly).
 */
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface TracingOptions {
  /** Record spans in this process (default: when an exporter is given or `OTEL_TRACES_EXPORTER` names otlp). */
  enabled?: boolean;
  /** Where spans go (default: OTLP over HTTP, configured by the `OTEL_EXPORTER_OTLP_*` environment). */
  exporter?: SpanExporter;
  /** Export each span as it ends instead of in batches (tests that read an in-memory exporter). */
  simple?: boolean;
  /** `service.name` (default `OTEL_SERVICE_NAME`, else `novact`). */
  serviceName?: string;
}

export interface InstalledTracing {
  /** Flushes what is queued and uninstalls the provider. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** Whether tracing is asked for, by the options first and then the environment. */
export function tracingWanted(o: TracingOptions, env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (o.enabled !== undefined) return o.enabled;
  if (o.exporter) return true;
  return (env.OTEL_TRACES_EXPORTER ?? '').split(',').some((e) => e.trim() === 'otlp');
}

/** Installs a global provider when tracing is wanted and no one else has; undefined otherwise. */
export function installTracing(o: TracingOptions = {}, env: Env = process.env): InstalledTracing | undefined {
  if (!tracingWanted(o, env)) return undefined;
  const exporter = o.exporter ?? new OTLPTraceExporter();
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': o.serviceName ?? env.OTEL_SERVICE_NAME ?? 'novact' })),
    spanProcessors: [o.simple ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  if (!trace.setGlobalTracerProvider(provider)) {
    // An embedder's provider is already global: it records our spans; ours is not needed.
    void provider.shutdown();
    return undefined;
  }
  return {
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
    },
  };
}
