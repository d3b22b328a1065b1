/**
 * Sending a request: every one carries a deadline (its timeout) and, when given, an idempotency
 * key; the reply envelope becomes a value or the typed error the server replied, and a NATS failure
 * (no responders, timeout, lost connection, oversize) a typed error too.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, type Msg, type NatsError } from 'nats';
import { BadRequestError, NovactError, OverLimitError, TimeoutError, UnavailableError, asNovactError, fromWire } from '../../protocols/errors.js';
import { PROTOCOL_VERSION, parseReply, type RequestEnvelope } from '../../protocols/envelope.js';
import type { Clock } from '../clock.js';
import type { RequestOptions } from './bridge-types.js';
import { noResponders, type RequestMux } from './request-mux.js';
import { currentScope } from '../trace/scope.js';
import { endSpan, SpanKind, startSpan } from '../trace/tracing.js';
import { outgoingHeaders } from '../trace/nats-context.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Sends one request in a client span of its own (`request <verb>`); the active request scope's ids
 * and that span's trace context go in the message headers (runtime/trace/nats-context.ts).
 */
export async function sendRequest<R>(mux: RequestMux, clock: Clock, subject: string, type: string, body: unknown, opts: RequestOptions): Promise<R> {
  const scope = currentScope();
  const span = startSpan(`request ${type}`, SpanKind.CLIENT, scope?.trace);
  if (span.isRecording()) span.setAttributes({ 'messaging.system': 'nats', 'messaging.destination.name': subject, ...(scope?.requestId ? { 'openstack.request_id': scope.requestId } : {}) });
  try {
    const r = await exchange<R>(mux, clock, subject, type, body, opts, outgoingHeaders(scope, span));
    span.end();
    return r;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

async function exchange<R>(mux: RequestMux, clock: Clock, subject: string, type: string, body: unknown, opts: RequestOptions, headers: ReturnType<typeof outgoingHeaders>): Promise<R> {
  const env: RequestEnvelope = {
    type,
    v: PROTOCOL_VERSION,
    id: randomUUID(),
    deadline: clock.now() + opts.timeoutMs,
    body,
  };
  if (opts.idempotencyKey !== undefined) env.idempotencyKey = opts.idempotencyKey;
  let msg: Msg;
  try {
    msg = await mux.request(subject, enc.encode(JSON.stringify(env)), opts.timeoutMs, headers);
  } catch (err) {
    throw err instanceof NovactError ? err : translateNatsError(err, subject, opts.timeoutMs);
  }
  const reply = parseReply(dec.decode(msg.data));
  if (reply.ok) return reply.body as R;
  throw fromWire(reply.error);
}

function translateNatsError(err: unknown, subject: string, timeoutMs: number): NovactError {
  const code = (err as NatsError | undefined)?.code;
  if (code === ErrorCode.NoResponders) return noResponders(subject);
  if (code === ErrorCode.Timeout) return new TimeoutError(`${subject} did not answer within ${timeoutMs} ms`);
  if (code === ErrorCode.ConnectionClosed || code === ErrorCode.Disconnect) return new UnavailableError(`NATS connection lost: ${subject}`);
  if (code === ErrorCode.BadSubject) return new BadRequestError(`invalid subject ${subject}`);
  if (code === ErrorCode.MaxPayloadExceeded) return new OverLimitError(`request to ${subject} is too large for the bus`);
  return asNovactError(err);
}
