/**
 * The bridge between NATS subjects and actors. Serving: a payload is parsed and validated into an
 * envelope before any handler sees it, the handler's result or typed error becomes a reply envelope
 * (errors also set the NATS service error headers `Nats-Service-Error[-Code]`). Requesting: every
 * request carries a deadline (timeout) and, for mutating verbs, an idempotency key; replies are
 * turned back into values or typed errors.
 */
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  headers as natsHeaders,
  type Msg,
  type NatsConnection,
  type NatsError,
  type Service,
  type ServiceMsg,
  type Subscription,
} from 'nats';
import {
  BadRequestError,
  NovactError,
  TimeoutError,
  UnavailableError,
  asNovactError,
  fromWire,
} from '../../protocols/errors.js';
import { PROTOCOL_VERSION, errorReply, okReply, parseReply, parseRequest, type RequestEnvelope } from '../../protocols/envelope.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { RequestMux } from './request-mux.js';

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
}

export interface RequestOptions {
  timeoutMs: number;
  /** Required for anything that changes state; the owner deduplicates on it. */
  idempotencyKey?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Read-only verbs; everything else is treated as mutating unless a server says otherwise. */
export const READ_VERBS = new Set(['get', 'list', 'show', 'actions', 'hosts', 'zones', 'ping']);
export const isMutatingVerb = (verb: string): boolean => !READ_VERBS.has(verb);

export class Bridge {
  private readonly services: Service[] = [];
  private readonly subs: Subscription[] = [];
  private readonly mux: RequestMux;

  constructor(
    readonly nc: NatsConnection,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly defaultTimeoutMs = 5_000,
  ) {
    this.mux = new RequestMux(nc);
  }

  /** Registers a NATS micro service (visible to `nats micro ls/info/stats`). */
  async addService(name: string, description: string, statsData?: () => unknown): Promise<Service> {
    const cfg: Parameters<NatsConnection['services']['add']>[0] = { name, version: '0.1.0', description };
    if (statsData) cfg.statsHandler = async () => statsData();
    const svc = await this.nc.services.add(cfg);
    this.services.push(svc);
    return svc;
  }

  /** Adds an endpoint to a service: `subject` may contain wildcards; replies go through `handler`. */
  endpoint(svc: Service, name: string, subject: string, handler: Handler, opts: ServeOptions): void {
    const ep: { subject: string; handler: (err: NatsError | null, msg: ServiceMsg) => void; queue?: string } = {
      subject,
      handler: (err, msg) => {
        if (err) {
          this.log.error('service endpoint failed', { endpoint: name, err: err.message });
          return;
        }
        void this.dispatch(msg, handler, opts);
      },
    };
    if (opts.queue) ep.queue = opts.queue;
    svc.addEndpoint(name, ep);
  }

  /** A plain subscription with the same request pipeline (for per-host subjects in bulk). */
  serve(subject: string, handler: Handler, opts: ServeOptions): Subscription {
    const subOpts: { callback: (err: NatsError | null, msg: Msg) => void; queue?: string } = {
      callback: (err, msg) => {
        if (!err && (opts.accept === undefined || opts.accept(msg.subject))) void this.dispatch(msg, handler, opts);
      },
    };
    if (opts.queue) subOpts.queue = opts.queue;
    const sub = this.nc.subscribe(subject, subOpts);
    this.subs.push(sub);
    return sub;
  }

  /** Fire-and-forget messages (reports, events): JSON in, JSON out. */
  subscribe<T>(subject: string, onMessage: (data: T, subject: string) => void, queue?: string): Subscription {
    const opts: { callback: (err: NatsError | null, msg: Msg) => void; queue?: string } = {
      callback: (err, msg) => {
        if (err) return;
        let data: T;
        try {
          data = JSON.parse(dec.decode(msg.data)) as T;
        } catch {
          this.log.warn('dropped a malformed message', { subject: msg.subject });
          return;
        }
        onMessage(data, msg.subject);
      },
    };
    if (queue) opts.queue = queue;
    const sub = this.nc.subscribe(subject, opts);
    this.subs.push(sub);
    return sub;
  }

  publish(subject: string, data: unknown): void {
    this.nc.publish(subject, enc.encode(JSON.stringify(data)));
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

  async close(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    await Promise.allSettled(this.services.map((s) => s.stop()));
  }

  private async dispatch(msg: Msg, handler: Handler, opts: ServeOptions): Promise<void> {
    const verb = opts.verb ?? msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    let result: unknown;
    try {
      const envelope = parseRequest(dec.decode(msg.data), {
        type: verb,
        requireIdempotencyKey: opts.isMutating(verb),
        now: this.clock.now(),
        defaultTimeoutMs: this.defaultTimeoutMs,
        newId: randomUUID,
      });
      if (envelope.deadline < this.clock.now()) throw new TimeoutError(`request ${envelope.id} arrived after its deadline`);
      result = okReply(await handler({ subject: msg.subject, verb, envelope: envelope as RequestEnvelope<Record<string, unknown>> }));
    } catch (err) {
      const e = asNovactError(err);
      if (!(err instanceof NovactError)) this.log.error('handler failed', { subject: msg.subject, err: e.message });
      if (!msg.reply) return;
      const h = natsHeaders();
      h.set('Nats-Service-Error', e.message.slice(0, 200));
      h.set('Nats-Service-Error-Code', String(e.code));
      msg.respond(enc.encode(JSON.stringify(errorReply(e.toWire()))), { headers: h });
      return;
    }
    if (msg.reply) msg.respond(enc.encode(JSON.stringify(result)));
  }
}

function translateNatsError(err: unknown, subject: string, timeoutMs: number): NovactError {
  const code = (err as NatsError | undefined)?.code;
  if (code === ErrorCode.NoResponders) return new UnavailableError(`no service answers ${subject}`);
  if (code === ErrorCode.Timeout) return new TimeoutError(`${subject} did not answer within ${timeoutMs} ms`);
  if (code === ErrorCode.ConnectionClosed || code === ErrorCode.Disconnect) return new UnavailableError(`NATS connection lost: ${subject}`);
  if (code === ErrorCode.BadSubject) return new BadRequestError(`invalid subject ${subject}`);
  return asNovactError(err);
}
