/**
 * The bridge between NATS subjects and actors, one per connection. Serving (endpoints, plain
 * subscriptions): each request goes through runtime/nats/request-server.ts, validated before any
 * handler sees it. Requesting: runtime/nats/requester.ts (deadline, idempotency key, typed errors);
 * `call` also validates the reply against its catalog definition. Fire-and-forget messages:
 * `subscribe`/`on` in, `publish`/`emit` out. Subscriptions: runtime/nats/subscription-tracker.ts.
 *
 * Nothing a peer sends may take the process down: every callback ends in a catch that logs and
 * counts, and a subscription the server's permissions refuse is logged at error level, never silent.
 *
 * Services are NATS micro services (runtime/nats/micro-service.ts); every request served or made
 * is counted and timed here, once, for the endpoint's micro stats and for the metrics
 * (runtime/nats/bridge-metrics.ts) when the bridge was given them.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Msg, NatsConnection } from 'nats';
import { BadRequestError, InternalError, NovactError, asNovactError } from '../../protocols/errors.js';
import { firstError, type BodyOf, type MessageDef, type ReplyOf, type RequestDef, type RequestFamily } from '../../protocols/catalog/define.js';
import { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../clock.js';
import { errorFields, type Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { BridgeMetrics, type ServedRecorder } from './bridge-metrics.js';
import { newBridgeStats, type BridgeStats } from './bridge-stats.js';
import { defRoute, familyRoute, legacyRoute, type Route } from './bridge-routes.js';
import type { BridgeSubscription, DefServeOptions, Handler, IncomingRequest, RequestOptions, ServeOptions } from './bridge-types.js';
import { RequestMux } from './request-mux.js';
import { sendRequest } from './requester.js';
import { RequestServer } from './request-server.js';
import { SubscriptionTracker } from './subscription-tracker.js';
import { MicroService, type EndpointStats } from './micro-service.js';

export type { BridgeStats } from './bridge-stats.js';
export * from './bridge-types.js';
/** A role's NATS micro service, as `addService` returns it. */
export type Service = MicroService;

export interface BridgeOptions {
  /** Count and time what this bridge serves and asks (absent: not instrumented, e.g. a CLI client). */
  metrics?: Metrics;
  /** The `role` label of those metrics, and the services' metadata. */
  role?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Bridge {
  readonly stats: BridgeStats = newBridgeStats();
  private readonly services: Service[] = [];
  private readonly mux: RequestMux;
  private readonly subs: SubscriptionTracker;
  private readonly server: RequestServer;
  private readonly metrics: BridgeMetrics | undefined;

  constructor(
    readonly nc: NatsConnection,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly defaultTimeoutMs = 5_000,
    readonly subjects: Subjects = new Subjects(),
    private readonly opts: BridgeOptions = {},
  ) {
    this.mux = new RequestMux(nc);
    this.subs = new SubscriptionTracker(nc, log, this.stats);
    this.server = new RequestServer(nc, clock, log, this.stats, defaultTimeoutMs, opts.role);
    if (opts.metrics) {
      const mux = this.mux;
      const bridge = this;
      this.metrics = new BridgeMetrics(opts.metrics, opts.role ?? 'unknown', {
        stats: this.stats,
        get connected() { return bridge.connected; },
        get openSubscriptions() { return bridge.openSubscriptions; },
        get pendingRequests() { return mux.size; },
      });
    }
  }

  /** Connected to NATS now (not between a disconnect and its reconnect, not draining or closed). */
  get connected(): boolean {
    return this.subs.connected;
  }

  /**
   * Registers a NATS micro service (visible to `nats micro ls/info/stats`). Its metadata always
   * carries the role, host name and pid (`novact status` tells replicas apart by them).
   */
  async addService(name: string, description: string, statsData?: () => unknown, metadata: Record<string, string> = {}): Promise<Service> {
    const svc = new MicroService(this.nc, {
      name,
      version: '0.1.0',
      description,
      metadata: { ...(this.opts.role ? { role: this.opts.role } : {}), hostname: hostname(), pid: String(process.pid), ...metadata },
      ...(statsData ? { statsData } : {}),
    });
    this.services.push(svc);
    // A service stops when one endpoint's subscription is refused (micro-service.ts): say so loudly.
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
    this.addEndpoint(svc, opts.name ?? a.verb, a.pattern(this.subjects), (req) => handler(req.envelope.body, req), opts.queue, defRoute(a), a.verb, opts.accept, {
      verb: a.verb, mutating: String(a.mutating),
    });
  }

  /** One endpoint for a family of verbs under a wildcard (instance, image verbs): each verb's body is validated. */
  endpointFamily(svc: Service, family: RequestFamily, handler: Handler, opts: DefServeOptions = {}): void {
    this.addEndpoint(svc, opts.name ?? family.name, family.pattern(this.subjects), handler, opts.queue, familyRoute(family), undefined, opts.accept, {
      verbs: String(Object.keys(family.verbs).length),
    });
  }

  /** A plain subscription with the same request pipeline (for per-host subjects in bulk, upload sessions). */
  serve(subject: string, handler: Handler, opts: ServeOptions): BridgeSubscription {
    return this.serveRoute(subject, handler, legacyRoute(opts), opts.verb, opts.queue, opts.accept, opts.verb ?? 'subscription');
  }

  /** `serve` for a family of catalog verbs on `subject` (which may be narrower than the family's pattern). */
  serveFamily(subject: string, family: RequestFamily, handler: Handler, opts: DefServeOptions = {}): BridgeSubscription {
    return this.serveRoute(subject, handler, familyRoute(family), undefined, opts.queue, opts.accept, opts.name ?? family.name);
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
  on<D extends MessageDef>(def: D, handler: (body: BodyOf<D>, subject: string, reply: string | undefined) => void, queue?: string): BridgeSubscription {
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
      // A message sent as a request (a heartbeat asking for its lease) carries where to answer.
      handler(data as BodyOf<D>, msg.subject, msg.reply || undefined);
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
    const p = sendRequest<R>(this.mux, this.clock, subject, type, body, opts);
    const m = this.metrics;
    if (!m) return p;
    const t0 = performance.now();
    return p.then(
      (r) => {
        m.recordSent(type, null, (performance.now() - t0) / 1000);
        return r;
      },
      (err: unknown) => {
        m.recordSent(type, err instanceof NovactError ? err : asNovactError(err), (performance.now() - t0) / 1000);
        throw err;
      },
    );
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
    this.metrics?.close();
    this.subs.unsubscribeAll();
    await Promise.allSettled(this.services.map((s) => s.stop()));
  }

  private addEndpoint(svc: Service, name: string, subject: string, handler: Handler, queue: string | undefined, route: Route, fixedVerb?: string, accept?: (s: string) => boolean, metadata: Record<string, string> = {}): void {
    const recorder = this.metrics?.served(name);
    // Messages arrive on later turns, after `stats` is assigned.
    const stats: EndpointStats = svc.addEndpoint(name, {
      subject,
      ...(queue ? { queue } : {}),
      metadata,
      handler: (msg) => {
        if (accept === undefined || accept(msg.subject)) this.dispatch(msg, handler, route, fixedVerb, stats, recorder);
      },
    });
  }

  private serveRoute(subject: string, handler: Handler, route: Route, fixedVerb: string | undefined, queue: string | undefined, accept: ((s: string) => boolean) | undefined, label: string): BridgeSubscription {
    const recorder = this.metrics?.served(label);
    return this.subs.track(subject, queue, (msg: Msg) => {
      if (accept === undefined || accept(msg.subject)) this.dispatch(msg, handler, route, fixedVerb, undefined, recorder);
    });
  }

  /** Serves one request; when its reply has gone, counts it in the endpoint's micro stats and the metrics. */
  private dispatch(msg: Msg, handler: Handler, route: Route, fixedVerb: string | undefined, stats: EndpointStats | undefined, recorder: ServedRecorder | undefined): void {
    const t0 = performance.now();
    void this.server.dispatch(msg, handler, route, fixedVerb).then((served) => {
      const ms = performance.now() - t0;
      stats?.record(Math.round(ms * 1e6), served.error);
      recorder?.record(served.verb, served.known, served.error, ms / 1000);
    });
  }
}
