/**
 * The request a piece of work belongs to: its request ids, the instance and host it concerns, and
 * its trace context. Kept in one AsyncLocalStorage, so it follows every await of the request
 * without being threaded through calls; the logger reads it for every line (runtime/log/logger.ts),
 * the bridge writes it into the headers of every request it makes and restores it from the headers
 * of every request it serves (runtime/trace/nats-context.ts). Actor mailboxes break async context:
 * runtime/actors/system.ts captures the scope when a message is sent and restores it for its handler.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';

export interface ScopeParts {
  /** The request id the client saw (`x-openstack-request-id`), or the bus peer's. */
  readonly requestId?: string | undefined;
  /** A caller's own `X-OpenStack-Request-ID` (Nova's global_request_id). */
  readonly globalRequestId?: string | undefined;
  readonly instance?: string | undefined;
  readonly host?: string | undefined;
  /** The OpenTelemetry context: the active span, as parent of the spans this work starts. */
  readonly trace: Context;
}

/** One fixed shape (scopes are made per request and per span: this is a hot path). */
export class RequestScope implements ScopeParts {
  readonly requestId: string | undefined;
  readonly globalRequestId: string | undefined;
  readonly instance: string | undefined;
  readonly host: string | undefined;
  readonly trace: Context;
  private logFields: Readonly<Record<string, string>> | undefined;

  constructor(p: ScopeParts) {
    this.requestId = p.requestId;
    this.globalRequestId = p.globalRequestId;
    this.instance = p.instance;
    this.host = p.host;
    this.trace = p.trace;
  }

  /** What every log line in this scope carries: built at its first line, then kept. */
  get fields(): Readonly<Record<string, string>> {
    if (this.logFields) return this.logFields;
    const f: Record<string, string> = {};
    if (this.requestId !== undefined) f.request_id = this.requestId;
    if (this.globalRequestId !== undefined) f.global_request_id = this.globalRequestId;
    if (this.instance !== undefined) f.instance_uuid = this.instance;
    if (this.host !== undefined) f.host = this.host;
    return (this.logFields = f);
  }
}

const store = new AsyncLocalStorage<RequestScope>();

export const currentScope = (): RequestScope | undefined => store.getStore();

/** The active trace context (the root one outside any request). */
export const activeTrace = (): Context => store.getStore()?.trace ?? ROOT_CONTEXT;

/** Runs `fn` in `scope`; with none, outside any (so work that belongs to no request is not misattributed). */
export function runInScope<T>(scope: RequestScope | undefined, fn: () => T): T {
  if (scope) return store.run(scope, fn);
  return store.getStore() === undefined ? fn() : store.exit(fn);
}

export const makeScope = (parts: ScopeParts): RequestScope => new RequestScope(parts);

const EMPTY = new RequestScope({ trace: ROOT_CONTEXT });

/** The active scope with some parts replaced (a trace context, the instance, the host). */
export function scopeWith(change: Partial<ScopeParts>): RequestScope {
  const s = store.getStore() ?? EMPTY;
  return new RequestScope({
    requestId: s.requestId, globalRequestId: s.globalRequestId,
    instance: change.instance ?? s.instance, host: change.host ?? s.host, trace: change.trace ?? s.trace,
  });
}

/**
 * Runs `fn` with the instance and host known (added to every log line within it), inside a request
 * only. The fleet's own traffic (no request scope: NATS clients, sweeps, reports) stays outside
 * AsyncLocalStorage: on Node 20 the first `run` turns on promise hooks for the whole process, which
 * cost the in-process boot bench about 10 % of its boots/s (548 against 616-679, docs/architecture.md).
 */
export function withSubject<T>(subject: { instance?: string | undefined; host?: string | undefined }, fn: () => T): T {
  const s = store.getStore();
  if (s === undefined) return fn();
  const known = (subject.instance === undefined || subject.instance === s?.instance) && (subject.host === undefined || subject.host === s?.host);
  return known ? fn() : store.run(scopeWith(subject), fn);
}
