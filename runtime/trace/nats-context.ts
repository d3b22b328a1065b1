/**
 * A request's scope on the bus: the request ids and the W3C trace context written into the headers
 * of every request the bridge makes, and read back (validated: headers come from peers) by the
 * side that serves it. Nothing is written when there is nothing to carry, so a request made outside
 * any REST request with tracing off costs no headers at all.
 */
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { ROOT_CONTEXT, TraceFlags, createTraceState, trace, type Context, type Span } from '@opentelemetry/api';
import {
  GLOBAL_REQUEST_ID_HEADER, REQUEST_ID_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER,
  busRequestId, formatTraceParent, globalRequestId, parseTraceParent, parseTraceState,
} from '../../protocols/trace-context.js';
import { makeScope, type RequestScope } from './scope.js';

/** Headers for a request made in `scope` under the client span `span` (undefined: none needed). */
export function outgoingHeaders(scope: RequestScope | undefined, span: Span): MsgHdrs | undefined {
  const sc = span.spanContext();
  const traced = trace.isSpanContextValid(sc);
  if (!traced && scope?.requestId === undefined) return undefined;
  const h = natsHeaders();
  if (scope?.requestId !== undefined) h.set(REQUEST_ID_HEADER, scope.requestId);
  if (scope?.globalRequestId !== undefined) h.set(GLOBAL_REQUEST_ID_HEADER, scope.globalRequestId);
  if (traced) {
    h.set(TRACEPARENT_HEADER, formatTraceParent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags }));
    const state = sc.traceState?.serialize();
    if (state) h.set(TRACESTATE_HEADER, state);
  }
  return h;
}

/** The trace context a `traceparent`/`tracestate` pair names (the root context when malformed or absent). */
export function remoteTrace(traceparent: unknown, tracestate: unknown): Context {
  const p = parseTraceParent(traceparent);
  if (!p) return ROOT_CONTEXT;
  const state = parseTraceState(tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: p.traceId, spanId: p.spanId, traceFlags: p.flags & TraceFlags.SAMPLED, isRemote: true,
    ...(state ? { traceState: createTraceState(state) } : {}),
  });
}

/** The scope a served request's headers carry (undefined when they carry nothing). */
export function incomingScope(h: MsgHdrs | undefined): RequestScope | undefined {
  if (!h) return undefined;
  const requestId = busRequestId(h.get(REQUEST_ID_HEADER));
  const globalId = globalRequestId(h.get(GLOBAL_REQUEST_ID_HEADER));
  const parent = h.has(TRACEPARENT_HEADER) ? remoteTrace(h.get(TRACEPARENT_HEADER), h.get(TRACESTATE_HEADER)) : ROOT_CONTEXT;
  if (requestId === undefined && parent === ROOT_CONTEXT) return undefined;
  return makeScope({ trace: parent, requestId, globalRequestId: globalId });
}
