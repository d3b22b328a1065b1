/**
 * The bridge between NATS subjects and actors. Serving: a payload is parsed and validated into an
 * envelope (and, for catalog definitions, its body against the definition's schema) before any
 * handler sees it; the handler's result or typed error becomes a reply envelope (errors also set
 * the NATS service error headers `Nats-Service-Error[-Code]`). Requesting: every request carries a
 * deadline (timeout) and, for mutating verbs, an idempotency key; replies are turned back into
 * values or typed errors.
 *
 * Nothing a peer sends may take the process down: every callback ends in a catch that logs and
 * counts, header values are sanitised, replies over the bus's max payload become typed errors, and
 * a subscription the server's permissions refuse is logged at error level, never silent.
 */
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type NatsError,
  type Service,
  type ServiceMsg,
  type Subscription,
} from 'nats';
import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import {
  BadRequestError,
  InternalError,
  NovactError,
  OverLimitError,
  TimeoutError,
  UnavailableError,
  asNovactError,
  fromWire,
} from '../../protocols/errors.js';
import { PROTOCOL_VERSION, errorReply, okReply, parseReply, parseRequest, type RequestEnvelope } from '../../protocols/envelope.js';
import { firstError, type BodyOf, type MessageDef, type ReplyOf, type RequestDef, type RequestFamily } from '../../protocols/catalog/define.js';
import { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../clock.js';
import { errorFields, type Logger } from '../log/logger.js';
import { newBridgeStats, type BridgeStats } from './bridge-stats.js';
import { headerValue } from './headers.js';
import { RequestMux } from './request-mux.js';

export type { BridgeStats } from './bridge-stats.js';

export interface IncomingRequest<B = Record<string, unknown>> {
  subject: string;
  verb: string;
  envelope: RequestEnvelope<B>;
}

export type Handler = (req: IncomingRequest) => unknown | Promise<unknown>;

export interface ServeOptions {
  queue?: string;
  /** The verb when the subject does not end in one (defaults to the subject's last token). */
  verb?: string;
  /** Verbs that change state: they must carry an idempotency key. */
  isMutating: (verb: string) => boolean;
  /**
   * Under a wildcard, whether this server answers a subject at all: a message it does not accept is
   * dropped unanswered (another process that shares the wildcard answers it). Default: every one.
   */
  accept?: (subject: string) => boolean;
  /** A compiled body schema checked before the handler runs (a 400 on mismatch). */
  body?: TypeCheck<TSchema>;
}

/** Options for the catalog-typed serving methods. */
export interface DefServeOptions {
  queue?: string;
  /** The endpoint's name in the NATS micro service (default: the verb; must be unique per service). */
  name?: string;
  accept?: (subject: string) => boolean;
}

export interface RequestOptions {
  timeoutMs: number;
  /** Required for anything that changes state; the owner deduplicates on it. */
  idempotencyKey?: string;
}

/** A subscription the bridge tracks until it is unsubscribed (then it forgets it: no leak, L2). */
export interface BridgeSubscription {
  unsubscribe(): void;
  readonly subject: string;
  isClosed(): boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Room left under max_payload for the protocol line and headers of a reply. */
const REPLY_HEADROOM = 1024;

/** Read-only verbs; everything else is treated as mutating unless a server says otherwise. */
export const READ_VERBS = new Set(['get', 'list', 'show', 'actions', 'hosts', 'zones', 'ping']);
export const isMutatingVerb = (verb: string): boolean => !READ_VERBS.has(verb);

/** How a request's verb is checked: whether it mutates, and its body schema (undefined: unknown verb). */
type Route = (verb: string) => { mutating: boolean; body?: TypeCheck<TSchema> | undefined } | undefined;

export class Bridge {
  readonly stats: BridgeStats = newBridgeStats();
  private readonly services: Service[] = [];
  private readonly subs = new Set<Subscription>();
  private readonly mux: RequestMux;

  constructor(
    readonly nc: NatsConnection,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly defaultTimeoutMs = 5_000,
    readonly subjects: Subjects = new Subjects(),
  ) {
    this.mux = new RequestMux(nc);
    void this.watchStatus();
  }

  /** Registers a NATS micro service (visible to `nats micro ls/info/stats`). */
  async addService(name: string, description: string, statsData?: () => unknown): Promise<Service> {
    const cfg: Parameters<NatsConnection['services']['add']>[0] = { name, version: '0.1.0', description };
    if (statsData) cfg.statsHandler = async () => statsData();
    const svc = await this.nc.services.add(cfg);
    this.services.push(svc);
    // nats.js stops the whole service when one endpoint's subscription is refused: say so loudly.
    void svc.stopped.then((err) => {
      // A connection draining or closed (the role stopping) ends its services too: that is no refusal.
      if (err && !this.nc.isDraining() && !this.nc.isClosed()) {
        this.stats.deniedSubscriptions++;
        this.log.error('NATS service stopped: an endpoint subscription failed (permissions?)', { service: name, err: errorFields(err).err });
      }
    }, () => undefined);
    return svc;
  }

  /**
   * Adds an endpoint to a service. With a catalog definition the body is validated against its
   * schema before `handler` runs; the legacy form takes a name, a subject and a raw handler.
   */
  endpoint<D extends RequestDef>(svc: Service, def: D, handler: (body: BodyOf<D>, req: IncomingRequest<BodyOf<D>>) => ReplyOf<D> | Promise<ReplyOf<D>>, opts?: DefServeOptions): void;
  endpoint(svc: Service, name: string, subject: string, handler: Handler, opts: ServeOptions): void;
  endpoint(svc: Service, a: RequestDef | string, b: unknown, c?: unknown, d?: unknown): void {
    if (typeof a === 'string') {
      const opts = d as ServeOptions;
      this.addEndpoint(svc, a, b as string, c as Handler, opts.queue, legacyRoute(opts), opts.verb);
      return;
    }
    const handler = b as (body: unknown, req: IncomingRequest) => unknown;
    const opts = (c ?? {}) as DefServeOptions;
    this.addEndpoint(svc, opts.name ?? a.verb, a.pattern(this.subjects), (req) => handler(req.envelope.body, req), opts.queue, defRoute(a), a.verb, opts.accept);
  }

  /** One endpoint for a family of verbs under a wildcard (instance, image verbs): each verb's body is validated. */
  endpointFamily(svc: Service, family: RequestFamily, handler: Handler, opts: DefServeOptions = {}): void {
    this.addEndpoint(svc, opts.name ?? family.name, family.pattern(this.subjects), handler, opts.queue, familyRoute(family), undefined, opts.accept);
  }

  /** A plain subscription with the same request pipeline (for per-host subjects in bulk, upload sessions). */
  serve(subject: string, handler: Handler, opts: ServeOptions): BridgeSubscription {
    return this.serveRoute(subject, handler, legacyRoute(opts), opts.verb, opts.queue, opts.accept);
  }

  /** `serve` for a family of catalog verbs on `subject` (which may be narrower than the family's pattern). */
  serveFamily(subject: string, family: RequestFamily, handler: Handler, opts: DefServeOptions = {}): BridgeSubscription {
    return this.serveRoute(subject, handler, familyRoute(family), undefined, opts.queue, opts.accept);
  }

  /** Fire-and-forget messages (reports, events) without a catalog schema: JSON in. */
  subscribe<T>(subject: string, onMessage: (data: T, subject: string) => void, queue?: string): BridgeSubscription {
    return this.track(subject, queue, (msg) => {
      let data: T;
      try {
        data = JSON.parse(dec.decode(msg.data)) as T;
      } catch {
        this.stats.droppedMalformed++;
        this.log.warn('dropped a malformed message', { subject: msg.subject });
        return;
      }
      onMessage(data, msg.subject);
    });
  }

  /**
   * Fire-and-forget messages of a catalog definition: a message that is not JSON, does not fit the
   * schema or whose subject disagrees with its body is dropped and counted, never handed on.
   */
  on<D extends MessageDef>(def: D, handler: (body: BodyOf<D>, subject: string) => void, queue?: string): BridgeSubscription {
    return this.track(def.pattern(this.subjects), queue, (msg) => {
      let data: unknown;
      try {
        data = JSON.parse(dec.decode(msg.data));
      } catch {
        data = undefined;
      }
      if (data === undefined || !def.check.Check(data) || (def.matches !== undefined && !def.matches(this.subjects, msg.subject, data as BodyOf<D>))) {
        this.stats.droppedMalformed++;
        this.log.warn('dropped an invalid message', { subject: msg.subject, message: def.name });
        return;
      }
      handler(data as BodyOf<D>, msg.subject);
    });
  }

  /** Publishes JSON; a failure (oversize, closed connection) is logged and counted, never thrown. */
  publish(subject: string, data: unknown): void {
    try {
      this.nc.publish(subject, enc.encode(JSON.stringify(data)));
    } catch (err) {
      this.stats.publishErrors++;
      this.log.error('publish failed', { subject, ...errorFields(err) });
    }
  }

  /** Publishes a catalog message (typed body). */
  emit<D extends MessageDef>(def: D, args: readonly string[], body: BodyOf<D>): void {
    let subject: string;
    try {
      subject = def.subject(this.subjects, ...args);
    } catch (err) {
      this.stats.publishErrors++;
      this.log.error('publish failed: bad subject', { message: def.name, ...errorFields(err) });
      return;
    }
    this.publish(subject, body);
  }

  /** Sends a request and returns the reply body, or throws the typed error the server replied. */
  async request<R>(subject: string, type: string, body: unknown, opts: RequestOptions): Promise<R> {
    const env: RequestEnvelope = {
      type,
      v: PROTOCOL_VERSION,
      id: randomUUID(),
      deadline: this.clock.now() + opts.timeoutMs,
      body,
    };
    if (opts.idempotencyKey !== undefined) env.idempotencyKey = opts.idempotencyKey;
    let msg: Msg;
    try {
      msg = await this.mux.request(subject, enc.encode(JSON.stringify(env)), opts.timeoutMs);
    } catch (err) {
      throw err instanceof NovactError ? err : translateNatsError(err, subject, opts.timeoutMs);
    }
    const reply = parseReply(dec.decode(msg.data));
    if (reply.ok) return reply.body as R;
    throw fromWire(reply.error);
  }

  /** A typed request of a catalog definition: `args` fill the subject, the reply is validated. */
  async call<D extends RequestDef>(def: D, args: readonly string[], body: BodyOf<D>, opts: RequestOptions): Promise<ReplyOf<D>> {
    if (def.mutating && opts.idempotencyKey === undefined) throw new BadRequestError(`'${def.verb}' changes state and needs an idempotencyKey`);
    const reply = await this.request<unknown>(def.subject(this.subjects, ...args), def.verb, body, opts);
    if (!def.checkReply.Check(reply)) throw new InternalError(`the reply to '${def.verb}' does not match its schema (${firstError(def.checkReply, reply)})`);
    return reply as ReplyOf<D>;
  }

  /** Subscriptions still open through this bridge (upload sessions come and go: this must not only grow). */
  get openSubscriptions(): number {
    return this.subs.size;
  }

  async close(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    this.subs.clear();
    await Promise.allSettled(this.services.map((s) => s.stop()));
  }

  private addEndpoint(svc: Service, name: string, subject: string, handler: Handler, queue: string | undefined, route: Route, fixedVerb?: string, accept?: (s: string) => boolean): void {
    const ep: { subject: string; handler: (err: NatsError | null, msg: ServiceMsg) => void; queue?: string } = {
      subject,
      handler: (err, msg) => {
        if (err) {
          this.log.error('service endpoint failed', { endpoint: name, subject, err: err.message });
          return;
        }
        if (accept === undefined || accept(msg.subject)) void this.dispatch(msg, handler, route, fixedVerb);
      },
    };
    if (queue) ep.queue = queue;
    svc.addEndpoint(name, ep);
  }

  private serveRoute(subject: string, handler: Handler, route: Route, fixedVerb: string | undefined, queue: string | undefined, accept: ((s: string) => boolean) | undefined): BridgeSubscription {
    return this.track(subject, queue, (msg) => {
      if (accept === undefined || accept(msg.subject)) void this.dispatch(msg, handler, route, fixedVerb);
    });
  }

  /**
   * Subscribes with a callback that can never throw into nats.js's reader loop (one exception there
   * deafened the whole connection, C3), and that reports a refused subscription loudly.
   */
  private track(subject: string, queue: string | undefined, onMsg: (msg: Msg) => void): BridgeSubscription {
    const opts: { callback: (err: NatsError | null, msg: Msg) => void; queue?: string } = {
      callback: (err, msg) => {
        if (err) {
          this.onSubscriptionError(subject, err);
          return;
        }
        try {
          onMsg(msg);
        } catch (e) {
          this.stats.handlerErrors++;
          this.log.error('message handler failed', { subject: msg.subject, ...errorFields(e) });
        }
      },
    };
    if (queue) opts.queue = queue;
    const sub = this.nc.subscribe(subject, opts);
    this.subs.add(sub);
    // Closed by unsubscribe, drain, a permission error or the connection: forget it either way.
    void sub.closed.then(() => this.subs.delete(sub), () => this.subs.delete(sub));
    const subs = this.subs;
    return {
      subject,
      unsubscribe: () => {
        subs.delete(sub);
        sub.unsubscribe();
      },
      isClosed: () => sub.isClosed(),
    };
  }

  private onSubscriptionError(subject: string, err: NatsError): void {
    if (err.code === ErrorCode.PermissionsViolation) {
      this.stats.deniedSubscriptions++;
      this.log.error('NATS refused a subscription: this role cannot hear it (check nats.conf)', { subject, err: err.message });
    } else {
      this.stats.handlerErrors++;
      this.log.error('subscription failed', { subject, err: err.message });
    }
  }

  /** Every permission violation the server reports on this connection (publishes included) goes to the log. */
  private async watchStatus(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        if (s.type !== 'error' || s.data !== ErrorCode.PermissionsViolation) continue;
        this.stats.permissionErrors++;
        const ctx = (s as { permissionContext?: { operation: string; subject: string; queue?: string } }).permissionContext;
        this.log.error('NATS permissions violation', { operation: ctx?.operation, subject: ctx?.subject, queue: ctx?.queue });
      }
    } catch (err) {
      this.log.warn('NATS status watch ended', errorFields(err));
    }
  }

  /** Never rejects: whatever goes wrong is logged and counted. */
  private async dispatch(msg: Msg, handler: Handler, route: Route, fixedVerb: string | undefined): Promise<void> {
    try {
      await this.answer(msg, handler, route, fixedVerb);
    } catch (err) {
      this.stats.handlerErrors++;
      this.log.error('request dispatch failed', { subject: msg.subject, ...errorFields(err) });
    }
  }

  private async answer(msg: Msg, handler: Handler, route: Route, fixedVerb: string | undefined): Promise<void> {
    const verb = fixedVerb ?? msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    let result: unknown;
    try {
      const r = route(verb);
      if (!r) throw new BadRequestError(`unknown verb '${verb}'`);
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
      this.replyError(msg, new InternalError('reply could not be encoded'));
      return;
    }
    const max = this.maxReply();
    if (bytes.length > max) {
      this.stats.oversizeReplies++;
      this.log.error('reply too large for the bus', { subject: msg.subject, bytes: bytes.length, max });
      this.replyError(msg, new OverLimitError(`reply too large: ${bytes.length} bytes exceed the bus limit of ${max}; ask for a smaller page`));
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

function legacyRoute(opts: ServeOptions): Route {
  const body = opts.body;
  return (verb) => ({ mutating: opts.isMutating(verb), body });
}

function defRoute(def: RequestDef): Route {
  const r = { mutating: def.mutating, body: def.checkBody };
  return () => r;
}

function familyRoute(family: RequestFamily): Route {
  const routes = new Map(Object.values(family.verbs).map((d) => [d.verb, { mutating: d.mutating, body: d.checkBody }]));
  return (verb) => routes.get(verb);
}

function translateNatsError(err: unknown, subject: string, timeoutMs: number): NovactError {
  const code = (err as NatsError | undefined)?.code;
  if (code === ErrorCode.NoResponders) return new UnavailableError(`no service answers ${subject}`);
  if (code === ErrorCode.Timeout) return new TimeoutError(`${subject} did not answer within ${timeoutMs} ms`);
  if (code === ErrorCode.ConnectionClosed || code === ErrorCode.Disconnect) return new UnavailableError(`NATS connection lost: ${subject}`);
  if (code === ErrorCode.BadSubject) return new BadRequestError(`invalid subject ${subject}`);
  if (code === ErrorCode.MaxPayloadExceeded) return new OverLimitError(`request to ${subject} is too large for the bus`);
  return asNovactError(err);
}
