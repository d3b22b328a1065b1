/**
 * Spans through the OpenTelemetry API (`trace.getTracer('novact')`): whatever provider is global
 * records them (an embedder's own, or the one runtime/trace/provider.ts installs when configured);
 * with none, the API's no-op tracer answers and nothing here allocates attributes or switches the
 * request scope. A span's parent is the active request scope's trace context (runtime/trace/scope.ts),
 * not the API's context manager, so the parent chain holds whether or not one is registered.
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { activeTrace, runInScope, scopeWith } from './scope.js';

/**
 * The tracer, asked for again when the global provider object changes: a tracer handed out by one
 * provider keeps delegating to it, even after `trace.disable()` (a cluster that stopped its tracing).
 */
let cached: { provider: TracerProvider; tracer: Tracer } | undefined;
function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (cached?.provider !== provider) cached = { provider, tracer: provider.getTracer('novact') };
  return cached.tracer;
}

/** Starts a span whose parent is the active scope's span (or `parent`'s, when given). */
export function startSpan(name: string, kind: SpanKind = SpanKind.INTERNAL, parent = activeTrace()): Span {
  return tracer().startSpan(name, { kind }, parent);
}

/** Ends a span, recording `err` (a failure) on it when it records. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined && span.isRecording()) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

/** Runs `fn` with `span` as the active span (the parent of the spans `fn` starts). */
export function inSpan<T>(span: Span, fn: () => T): T {
  return runInScope(scopeWith({ trace: trace.setSpan(activeTrace(), span) }), fn);
}

/**
 * Runs `fn` in a span of its own, ended when `fn`'s promise settles. `attrs` is called only when the
 * span records, so a caller's attribute object costs nothing with tracing off.
 */
export function traced<T>(name: string, attrs: (() => Attributes) | undefined, fn: () => Promise<T>): Promise<T> {
  const span = startSpan(name);
  if (!span.isRecording()) return fn();
  if (attrs) span.setAttributes(attrs());
  return inSpan(span, () => {
    let p: Promise<T>;
    try {
      p = fn();
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
    return p.then((v) => {
      span.end();
      return v;
    }, (err: unknown) => {
      endSpan(span, err);
      throw err;
    });
  });
}

/** `traced` for synchronous work (the scheduler's decision). */
export function tracedSync<T>(name: string, attrs: (() => Attributes) | undefined, fn: (span: Span) => T): T {
  const span = startSpan(name);
  if (!span.isRecording()) return fn(span);
  if (attrs) span.setAttributes(attrs());
  try {
    return inSpan(span, () => fn(span));
  } catch (err) {
    endSpan(span, err);
    throw err;
  } finally {
    // An ended span no longer records: this ends it once, on success.
    if (span.isRecording()) span.end();
  }
}

export { SpanKind };
