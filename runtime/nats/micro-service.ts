/**
 * A NATS micro service (ADR-32, `io.nats.micro.v1`): what `nats micro ls/info/stats` read. Written
 * here rather than taken from nats.js's `services.add`, whose replies do not fit the published
 * schemas (nats-io/jsm.go `schemas/micro/v1`): its stats leave out `last_error` (required), its
 * `metadata` is absent unless given, and since our handlers answer asynchronously its per-endpoint
 * `processing_time` was ~0 and `num_errors` never counted the typed errors we reply. Here the
 * bridge reports each request when its reply has gone (`EndpointStats.record`).
 *
 * Subjects: `$SRV.<VERB>`, `$SRV.<VERB>.<name>`, `$SRV.<VERB>.<name>.<id>` for PING, INFO and
 * STATS, no queue group (every instance answers); endpoints in their queue group (default `q`, as
 * in every micro client). nats.conf lets each role subscribe those for its own service name only,
 * and only the operator's `client` user ask them.
 */
import { nuid, type Msg, type NatsConnection, type NatsError, type Subscription } from 'nats';

export const MICRO_VERBS = ['PING', 'INFO', 'STATS'] as const;
export const DEFAULT_QUEUE = 'q';
const enc = new TextEncoder();

export interface MicroServiceConfig {
  name: string;
  version: string;
  description: string;
  /** Always sent (never null): `{}` at least. */
  metadata: Record<string, string>;
  /** The service's own statistics, sent as the first endpoint's `data` in STATS. */
  statsData?: () => unknown;
}

export interface EndpointOptions {
  subject: string;
  queue?: string;
  metadata?: Record<string, string>;
  handler: (msg: Msg) => void;
}

/** One endpoint's counters, in the units of the schema (nanoseconds, integers). */
export class EndpointStats {
  numRequests = 0;
  numErrors = 0;
  lastError = '';
  processingNs = 0;

  /** One request answered after `ns`; `error`: what it replied instead of a result. */
  record(ns: number, error: { code: number; message: string } | null): void {
    this.numRequests++;
    this.processingNs += ns;
    if (error) {
      this.numErrors++;
      // Go's micro writes "<code>:<description>"; bounded, a message can echo a large value.
      this.lastError = `${error.code}:${error.message}`.slice(0, 512);
    }
  }
}

interface Endpoint {
  name: string;
  subject: string;
  queue: string;
  metadata: Record<string, string>;
  stats: EndpointStats;
  handler: (msg: Msg) => void;
}

const NAME = /^[a-zA-Z0-9_-]+$/;

export class MicroService {
  readonly id = nuid.next();
  readonly started = new Date().toISOString();
  /** Resolves when the service stops: null when asked to (or its connection closed), the error when a subscription failed. */
  readonly stopped: Promise<Error | null>;
  private readonly endpoints: Endpoint[] = [];
  private readonly subs: Subscription[] = [];
  private stopping = false;
  private resolveStopped!: (e: Error | null) => void;

  constructor(
    private readonly nc: NatsConnection,
    readonly config: MicroServiceConfig,
  ) {
    if (!NAME.test(config.name)) throw new Error(`invalid micro service name '${config.name}'`);
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    for (const verb of MICRO_VERBS) {
      const answer = (msg: Msg) => void this.answer(verb, msg);
      for (const subject of [`$SRV.${verb}`, `$SRV.${verb}.${config.name}`, `$SRV.${verb}.${config.name}.${this.id}`]) this.subscribe(subject, undefined, answer);
    }
  }

  get name(): string {
    return this.config.name;
  }

  /** Adds an endpoint (its subscription starts at once); its stats are what the caller records. */
  addEndpoint(name: string, o: EndpointOptions): EndpointStats {
    if (!NAME.test(name)) throw new Error(`invalid endpoint name '${name}'`);
    if (this.endpoints.some((e) => e.name === name)) throw new Error(`endpoint '${name}' already exists in ${this.config.name}`);
    const ep: Endpoint = { name, subject: o.subject, queue: o.queue ?? DEFAULT_QUEUE, metadata: o.metadata ?? {}, stats: new EndpointStats(), handler: o.handler };
    this.endpoints.push(ep);
    this.subscribe(ep.subject, ep.queue, ep.handler);
    return ep.stats;
  }

  ping() {
    const { name, version, metadata } = this.config;
    return { type: 'io.nats.micro.v1.ping_response', name, id: this.id, version, metadata };
  }

  info() {
    const { name, version, description, metadata } = this.config;
    return {
      type: 'io.nats.micro.v1.info_response', name, id: this.id, version, description, metadata,
      endpoints: this.endpoints.map((e) => ({ name: e.name, subject: e.subject, queue_group: e.queue, metadata: e.metadata })),
    };
  }

  async stats() {
    const { name, version, metadata } = this.config;
    const data = this.config.statsData ? await this.config.statsData() : undefined;
    return {
      type: 'io.nats.micro.v1.stats_response', name, id: this.id, version, started: this.started, metadata,
      endpoints: this.endpoints.map((e, i) => ({
        name: e.name,
        subject: e.subject,
        queue_group: e.queue,
        num_requests: e.stats.numRequests,
        num_errors: e.stats.numErrors,
        last_error: e.stats.lastError,
        processing_time: e.stats.processingNs,
        average_processing_time: e.stats.numRequests === 0 ? 0 : Math.round(e.stats.processingNs / e.stats.numRequests),
        ...(i === 0 && data !== undefined ? { data } : {}),
      })),
    };
  }

  async stop(): Promise<void> {
    this.end(null);
    await this.stopped;
  }

  private async answer(verb: (typeof MICRO_VERBS)[number], msg: Msg): Promise<void> {
    try {
      const body = verb === 'PING' ? this.ping() : verb === 'INFO' ? this.info() : await this.stats();
      msg.respond(enc.encode(JSON.stringify(body)));
    } catch {
      // A closed connection or stats that would not encode: the asker times out, nothing else breaks.
    }
  }

  private subscribe(subject: string, queue: string | undefined, onMsg: (msg: Msg) => void): void {
    const sub = this.nc.subscribe(subject, {
      ...(queue ? { queue } : {}),
      callback: (err: NatsError | null, msg: Msg) => {
        if (err) {
          this.end(err);
          return;
        }
        onMsg(msg);
      },
    });
    this.subs.push(sub);
    // A subscription that ends on its own (refused by permissions) stops the service, as in every
    // micro client: a service missing an endpoint must not look healthy.
    void sub.closed.then(
      () => {
        if (!this.stopping && !this.nc.isClosed() && !this.nc.isDraining()) this.end(new Error(`required subscription ${subject} stopped`));
        else this.end(null);
      },
      (err: unknown) => this.end(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private end(err: Error | null): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const s of this.subs) {
      try {
        s.unsubscribe();
      } catch {
        // the connection is already closed
      }
    }
    this.resolveStopped(err);
  }
}
