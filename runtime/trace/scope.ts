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

export interface RequestScope {
  /** The request id the client saw (`x-openstack-request-id`), or the bus peer's. */
  readonly requestId?: string;
  /** A caller's own `X-OpenStack-Request-ID` (Nova's global_request_id). */
  readonly globalRequestId?: string;
  readonly instance?: string;
  readonly host?: string;
  /** The OpenTelemetry context: the active span, as parent of the spans this work starts. */
  readonly trace: Context;
  /** What every log line in this scope carries (built once per scope, not per line). */
  readonly fields: Readonly<Record<string, string>>;
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

type ScopeParts = Omit<RequestScope, 'fields'>;

const FIELD_NAMES: readonly [keyof ScopeParts, string][] = [
  ['requestId', 'request_id'], ['globalRequestId', 'global_request_id'], ['instance', 'instance_uuid'], ['host', 'host'],
];

export function makeScope(parts: ScopeParts): RequestScope {
  const fields: Record<string, string> = {};
  for (const [k, name] of FIELD_NAMES) {
    const v = parts[k];
    if (typeof v === 'string') fields[name] = v;
  }
  return { ...parts, fields };
}

/** The active scope with some parts replaced (a trace context, the instance, the host). */
export function scopeWith(change: Partial<ScopeParts>): RequestScope {
  const s = store.getStore();
  return makeScope({ ...(s ?? { trace: ROOT_CONTEXT }), ...change });
}

/** Runs `fn` with the instance and host known (added to every log line within it). */
export function withSubject<T>(subject: { instance?: string; host?: string }, fn: () => T): T {
  const s = store.getStore();
  const change: { instance?: string; host?: string } = {};
  if (subject.instance !== undefined && subject.instance !== s?.instance) change.instance = subject.instance;
  if (subject.host !== undefined && subject.host !== s?.host) change.host = subject.host;
  if (change.instance === undefined && change.host === undefined) return fn();
  return store.run(scopeWith(change), fn);
}
