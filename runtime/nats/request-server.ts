/**
 * Answering one served request: the payload is parsed and validated into an envelope (and its body
 * against the route's schema) before the handler sees it; the handler's result or typed error
 * becomes the reply envelope (errors also set `Nats-Service-Error[-Code]`).
 *
 * Nothing a peer sends may take the process down: `dispatch` never rejects, header values are
 * sanitised (C1), and a reply over the bus's max payload becomes a typed error (C2).
 *
 * The request's scope (request ids, trace context) comes from its headers (runtime/trace/
 * nats-context.ts) and is active for the handler, inside a server span `<role> <verb>`.
 */
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from 'nats';
import { BadRequestError, InternalError, NovactError, OverLimitError, TimeoutError, asNovactError } from '../../protocols/errors.js';
import { errorReply, okReply, parseRequest, type RequestEnvelope } from '../../protocols/envelope.js';
import { firstError } from '../../protocols/catalog/define.js';
import type { Clock } from '../clock.js';
import { errorFields, type Logger } from '../log/logger.js';
import type { BridgeStats } from './bridge-stats.js';
import type { Handler } from './bridge-types.js';
import type { Route } from './bridge-routes.js';
import { headerValue } from './headers.js';
import { incomingScope } from '../trace/nats-context.js';
import { currentScope, runInScope } from '../trace/scope.js';
import { endSpan, inSpan, SpanKind, startSpan } from '../trace/tracing.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Room left under max_payload for the protocol line and headers of a reply. */
const REPLY_HEADROOM = 1024;

/** What one served request was: its verb, whether its route knows the verb, the error replied (null: ok). */
export interface Served {
  verb: string;
  known: boolean;
  error: NovactError | null;
}

export class RequestServer {
  constructor(
    private readonly nc: NatsConnection,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly stats: BridgeStats,
    private readonly defaultTimeoutMs: number,
    /** The serving role: the first word of its server spans. */
    private readonly role = 'novact',
  ) {}

  /**
   * Never rejects: whatever goes wrong is logged and counted. Resolves with what was served (the
   * verb, whether the route knows it, the error replied if any), for the endpoint stats and metrics.
   */
  async dispatch(msg: Msg, handler: Handler, route: Route, fixedVerb: string | undefined): Promise<Served> {
    const served: Served = { verb: fixedVerb ?? msg.subject.slice(msg.subject.lastIndexOf('.') + 1), known: false, error: null };
    try {
      const scope = incomingScope(msg.headers);
      await runInScope(scope, () => this.traced(msg, handler, route, served));
    } catch (err) {
      this.stats.handlerErrors++;
      this.log.error('request dispatch failed', { subject: msg.subject, ...errorFields(err) });
      served.error ??= asNovactError(err);
    }
    return served;
  }

  /** Answers inside a server span when one records; logs each served request at debug level. */
  private async traced(msg: Msg, handler: Handler, route: Route, served: Served): Promise<void> {
    const span = startSpan(`${this.role} ${served.verb}`, SpanKind.SERVER);
    if (!span.isRecording()) {
      await this.answer(msg, handler, route, served);
    } else {
      const requestId = currentScope()?.requestId;
      span.setAttributes({ 'messaging.system': 'nats', 'messaging.destination.name': msg.subject, ...(requestId ? { 'openstack.request_id': requestId } : {}) });
      try {
        await inSpan(span, () => this.answer(msg, handler, route, served));
      } finally {
        endSpan(span, served.error ?? undefined);
      }
    }
    if (this.log.isEnabled?.('debug')) this.log.debug('request served', { subject: msg.subject, verb: served.verb, ...(served.error ? { fault: served.error.name } : {}) });
  }

  private async answer(msg: Msg, handler: Handler, route: Route, served: Served): Promise<void> {
    const verb = served.verb;
    let result: unknown;
    try {
      const r = route(verb);
      if (!r) throw new BadRequestError(`unknown verb '${verb}'`);
      served.known = true;
      const envelope = parseRequest(dec.decode(msg.data), {
        type: verb,
        requireIdempotencyKey: r.mutating,
        now: this.clock.now(),
        defaultTimeoutMs: this.defaultTimeoutMs,
        newId: randomUUID,
      });
      if (envelope.deadline < this.clock.now()) throw new TimeoutError(`request ${envelope.id} arrived after its deadline`);
      if (r.body && !r.body.Check(envelope.body)) throw new BadRequestError(`invalid '${verb}' body at ${firstError(r.body, envelope.body)}`);
      result = okReply(await handler({ subject: msg.subject, verb, envelope: envelope as RequestEnvelope<Record<string, unknown>> }));
    } catch (err) {
      const e = asNovactError(err);
      if (!(err instanceof NovactError)) {
        this.stats.handlerErrors++;
        this.log.error('handler failed', { subject: msg.subject, err: e.message });
      }
      served.error = e;
      this.replyError(msg, e);
      return;
    }
    if (!msg.reply) return;
    let bytes: Uint8Array;
    try {
      bytes = enc.encode(JSON.stringify(result));
    } catch (err) {
      this.stats.handlerErrors++;
      this.log.error('reply not serialisable', { subject: msg.subject, ...errorFields(err) });
      served.error = new InternalError('reply could not be encoded');
      this.replyError(msg, served.error);
      return;
    }
    const max = this.maxReply();
    if (bytes.length > max) {
      this.stats.oversizeReplies++;
      this.log.error('reply too large for the bus', { subject: msg.subject, bytes: bytes.length, max });
      served.error = new OverLimitError(`reply too large: ${bytes.length} bytes exceed the bus limit of ${max}; ask for a smaller page`);
      this.replyError(msg, served.error);
      return;
    }
    this.respond(msg, bytes);
  }

  private maxReply(): number {
    const max = this.nc.info?.max_payload;
    return typeof max === 'number' && max > REPLY_HEADROOM ? max - REPLY_HEADROOM : Number.POSITIVE_INFINITY;
  }

  /** The typed error reply; header values sanitised (C1), and any failure here logged, never thrown. */
  private replyError(msg: Msg, e: NovactError): void {
    if (!msg.reply) return;
    let h: MsgHdrs | undefined;
    try {
      h = natsHeaders();
      h.set('Nats-Service-Error', headerValue(e.message));
      h.set('Nats-Service-Error-Code', String(e.code));
    } catch (err) {
      h = undefined;
      this.log.warn('error headers dropped', errorFields(err));
    }
    let bytes = enc.encode(JSON.stringify(errorReply(e.toWire())));
    if (bytes.length > this.maxReply()) {
      // An error whose own text is over the limit (a huge echoed value): keep the type, cut the text.
      this.stats.oversizeReplies++;
      bytes = enc.encode(JSON.stringify(errorReply({ ...e.toWire(), message: e.message.slice(0, 1_000), details: undefined })));
    }
    this.respond(msg, bytes, h);
  }

  private respond(msg: Msg, bytes: Uint8Array, headers?: MsgHdrs): void {
    try {
      msg.respond(bytes, headers ? { headers } : undefined);
    } catch (err) {
      this.stats.publishErrors++;
      this.log.error('reply failed', { subject: msg.subject, ...errorFields(err) });
    }
  }
}
