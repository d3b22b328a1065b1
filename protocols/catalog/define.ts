/**
 * How one NATS subject is described in the catalog: its subject (built from `Subjects`), whether it
 * changes state, the TypeBox schema of its body (and of its reply, for requests), and which roles
 * serve, call, publish or subscribe it. Schemas are compiled once here, at definition time, so a
 * receiver's check is one compiled function call per message.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { Subjects } from '../subjects.js';

/** The NATS users of nats.conf (one per role, plus operators' `client`). */
export type BusRole = 'conductor' | 'scheduler' | 'compute' | 'image' | 'network' | 'api' | 'client';

export interface RequestDef<B extends TSchema = TSchema, R extends TSchema = TSchema> {
  readonly kind: 'request';
  /** The endpoint name (NATS micro) and the envelope's `type`: the subject's last token. */
  readonly verb: string;
  /** The subject a server subscribes (may hold wildcards). */
  readonly pattern: (s: Subjects) => string;
  /** A concrete subject a caller sends to; `args` are the entity tokens (instance id, host, …). */
  readonly subject: (s: Subjects, ...args: string[]) => string;
  /** Needs an idempotency key. */
  readonly mutating: boolean;
  readonly body: B;
  readonly reply: R;
  readonly checkBody: TypeCheck<B>;
  readonly checkReply: TypeCheck<R>;
  readonly servedBy: BusRole;
  readonly calledBy: readonly BusRole[];
}

export interface MessageDef<B extends TSchema = TSchema> {
  readonly kind: 'message';
  readonly name: string;
  /** The subject subscribers listen on (may hold wildcards). */
  readonly pattern: (s: Subjects) => string;
  /** A concrete subject to publish on. */
  readonly subject: (s: Subjects, ...args: string[]) => string;
  readonly body: B;
  readonly check: TypeCheck<B>;
  /**
   * A check between subject and body (a report's host must be its subject's host); false drops the
   * message as invalid.
   */
  matches?(s: Subjects, subject: string, body: Static<B>): boolean;
  readonly publishedBy: readonly BusRole[];
  readonly subscribedBy: readonly BusRole[];
}

export type BodyOf<D> = D extends RequestDef<infer B, TSchema> ? Static<B> : D extends MessageDef<infer B> ? Static<B> : never;
export type ReplyOf<D> = D extends RequestDef<TSchema, infer R> ? Static<R> : never;

interface RequestSpec<B extends TSchema, R extends TSchema> {
  verb: string;
  pattern: (s: Subjects) => string;
  subject?: (s: Subjects, ...args: string[]) => string;
  mutating: boolean;
  body: B;
  reply: R;
  servedBy: BusRole;
  calledBy: readonly BusRole[];
}

export function defineRequest<B extends TSchema, R extends TSchema>(spec: RequestSpec<B, R>): RequestDef<B, R> {
  const body = lazyCheck(spec.body);
  const reply = lazyCheck(spec.reply);
  return {
    kind: 'request',
    ...spec,
    subject: spec.subject ?? spec.pattern,
    get checkBody() { return body(); },
    get checkReply() { return reply(); },
  };
}

interface MessageSpec<B extends TSchema> {
  name: string;
  pattern: (s: Subjects) => string;
  subject?: (s: Subjects, ...args: string[]) => string;
  body: B;
  matches?: (s: Subjects, subject: string, body: Static<B>) => boolean;
  publishedBy: readonly BusRole[];
  subscribedBy: readonly BusRole[];
}

export function defineMessage<B extends TSchema>(spec: MessageSpec<B>): MessageDef<B> {
  const check = lazyCheck(spec.body);
  return { kind: 'message', ...spec, subject: spec.subject ?? spec.pattern, get check() { return check(); } };
}

/**
 * A schema compiled on first use, then kept: a process compiles only the checks it runs (a CLI
 * command one or two, not the whole catalog at import: that cost every command ~2 s).
 */
function lazyCheck<T extends TSchema>(schema: T): () => TypeCheck<T> {
  let compiled: TypeCheck<T> | undefined;
  return () => (compiled ??= TypeCompiler.Compile(schema));
}

/** Several request verbs under one wildcard subject (`instance.*.*`, `host.*.*`, `image.*.*`). */
export interface RequestFamily {
  readonly name: string;
  readonly pattern: (s: Subjects) => string;
  readonly verbs: Readonly<Record<string, RequestDef>>;
}

export function defineFamily(name: string, pattern: (s: Subjects) => string, defs: readonly RequestDef[]): RequestFamily {
  const verbs: Record<string, RequestDef> = Object.create(null);
  for (const d of defs) verbs[d.verb] = d;
  return { name, pattern, verbs };
}

/** The first schema error of `value`, as `path: message`, for a 400's text. */
export function firstError(check: TypeCheck<TSchema>, value: unknown): string {
  const e = check.Errors(value).First();
  if (!e) return 'invalid';
  return `${e.path === '' ? '/' : e.path}: ${e.message}`;
}
