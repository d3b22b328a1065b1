/** The bridge's public shapes (runtime/nats/bridge.ts re-exports them): requests served, options, subscriptions. */
import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { RequestEnvelope } from '../../protocols/envelope.js';

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

/** Read-only verbs; everything else is treated as mutating unless a server says otherwise. */
export const READ_VERBS = new Set(['get', 'list', 'show', 'actions', 'hosts', 'zones', 'ping']);
export const isMutatingVerb = (verb: string): boolean => !READ_VERBS.has(verb);
