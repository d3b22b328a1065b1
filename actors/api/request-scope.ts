/**
 * Each REST request's scope (runtime/trace/scope.ts): its request id (`req.id`, answered as
 * `x-openstack-request-id`), the caller's own `X-OpenStack-Request-ID` as global request id when it
 * has Nova's `req-<uuid>` form (anything else is ignored, as oslo.middleware does), and a server
 * span `<METHOD> <route pattern>` under the caller's `traceparent` (a malformed one is ignored).
 * The scope is entered in onRequest and again after the body is read: a body arrives on the socket's
 * own async context, which would otherwise lose the scope before the handler runs.
 */
import { ROOT_CONTEXT, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { globalRequestId } from '../../protocols/trace-context.js';
import type { Logger } from '../../runtime/log/logger.js';
import { remoteTrace } from '../../runtime/trace/nats-context.js';
import { makeScope, runInScope, type RequestScope } from '../../runtime/trace/scope.js';
import { endSpan, SpanKind, startSpan } from '../../runtime/trace/tracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    scope: RequestScope | null;
    span: Span | null;
  }
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

/** Registers the scope hooks: call before any other hook, so that every later one runs inside it. */
export function addRequestScope(app: FastifyInstance, log: Logger): void {
  app.decorateRequest('scope', null);
  app.decorateRequest('span', null);
  app.addHook('onRequest', (req, _reply, done) => {
    const inbound = header(req, 'x-openstack-request-id');
    const globalId = globalRequestId(inbound);
    const parent = req.headers.traceparent === undefined ? ROOT_CONTEXT : remoteTrace(header(req, 'traceparent'), header(req, 'tracestate'));
    // Route patterns, never paths: span names must not carry ids.
    const span = startSpan(`${req.method} ${req.routeOptions.url ?? 'unmatched'}`, SpanKind.SERVER, parent);
    const recording = span.isRecording();
    if (recording) {
      req.span = span;
      span.setAttributes({
        'http.request.method': req.method, 'http.route': req.routeOptions.url ?? '', 'openstack.request_id': req.id,
        ...(globalId ? { 'openstack.global_request_id': globalId } : {}),
      });
    }
    req.scope = makeScope({ requestId: req.id, globalRequestId: globalId, trace: recording ? trace.setSpan(parent, span) : parent });
    runInScope(req.scope, () => {
      if (inbound !== undefined && globalId === undefined) log.debug('ignored an X-OpenStack-Request-ID not of the form req-<uuid>');
      done();
    });
  });
  app.addHook('preValidation', (req, _reply, done) => {
    if (req.scope) runInScope(req.scope, done);
    else done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = req.span;
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      endSpan(span, reply.statusCode >= 500 ? new Error(`HTTP ${reply.statusCode}`) : undefined);
    }
    if (log.isEnabled?.('debug') && req.scope) {
      runInScope(req.scope, () => log.debug('request answered', { method: req.method, route: req.routeOptions.url ?? null, status: reply.statusCode }));
    }
    done();
  });
}
