/**
 * The bridge between NATS subjects and actors, one per connection. Serving (endpoints, plain
 * subscriptions): each request goes through runtime/nats/request-server.ts, validated before any
 * handler sees it. Requesting: runtime/nats/requester.ts (deadline, idempotency key, typed errors);
 * `call` also validates the reply against its catalog definition. Fire-and-forget messages:
 * `subscribe`/`on` in, `publish`/`emit` out. Subscriptions: runtime/nats/subscription-tracker.ts.
 *
 * Nothing a peer sends may take the process down: every callback ends in a catch that logs and
 * counts, and a subscription the server's permissions refuse is logged at error level, never silent.
 */
import type { Msg, NatsConnection, NatsError, Service, ServiceMsg } from 'nats';
import { BadRequestError, InternalError } from '../../protocols/errors.js';
import { firstError, type BodyOf, type MessageDef, type ReplyOf, type RequestDef, type RequestFamily } from '../../protocols/catalog/define.js';
import { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../clock.js';
import { errorFields, type Logger } from '../log/logger.js';
import { newBridgeStats, type BridgeStats } from './bridge-stats.js';
import { defRoute, familyRoute, legacyRoute, type Route } from './bridge-routes.js';
import type { BridgeSubscription, DefServeOptions, Handler, IncomingRequest, RequestOptions, ServeOptions } from './bridge-types.js';
import { RequestMux } from './request-mux.js';
import { sendRequest } from './requester.js';
import { RequestServer } from './request-server.js';
import { SubscriptionTracker } from './subscription-tracker.js';

export type { BridgeStats } from './bridge-stats.js';
export * from './bridge-types.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Bridge {
  readonly stats: BridgeStats = newBridgeStats();
  private readonly services: Service[] = [];
  private readonly mux: RequestMux;
  private readonly subs: SubscriptionTracker;
  private readonly server: RequestServer;

  constructor(
    readonly nc: NatsConnection,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly defaultTimeoutMs = 5_000,
    readonly subjects: Subjects = new Subjects(),
  ) {
    this.mux = new RequestMux(nc);
    this.subs = new SubscriptionTracker(nc, log, this.stats);
    this.server = new RequestServer(nc, clock, log, this.stats, defaultTimeoutMs);
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
    return this.subs.track(subject, queue, (msg) => {
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
    return this.subs.track(def.pattern(this.subjects), queue, (msg) => {
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
  request<R>(subject: string, type: string, body: unknown, opts: RequestOptions): Promise<R> {
    return sendRequest<R>(this.mux, this.clock, subject, type, body, opts);
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
    this.subs.unsubscribeAll();
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
        if (accept === undefined || accept(msg.subject)) void this.server.dispatch(msg, handler, route, fixedVerb);
      },
    };
    if (queue) ep.queue = queue;
    svc.addEndpoint(name, ep);
  }

  private serveRoute(subject: string, handler: Handler, route: Route, fixedVerb: string | undefined, queue: string | undefined, accept: ((s: string) => boolean) | undefined): BridgeSubscription {
    return this.subs.track(subject, queue, (msg: Msg) => {
      if (accept === undefined || accept(msg.subject)) void this.server.dispatch(msg, handler, route, fixedVerb);
    });
  }
}
