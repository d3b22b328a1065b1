/**
 * The JSON envelope every NATS request and reply travels in. Versioned so old and new processes can
 * share a cluster: a receiver rejects a major version it does not know instead of guessing.
 *
 * Request: `{ type, v, id, idempotencyKey?, deadline, body }`. `deadline` is epoch ms: a receiver
 * that sees it has passed drops the work instead of doing it late. Reads (`get`, `list`) may be sent
 * with an empty payload from the NATS CLI; mutating verbs must carry an idempotency key.
 *
 * Reply: `{ v, ok: true, body }` or `{ v, ok: false, error }` (error is a `WireError`).
 */
import { BadRequestError, type WireError } from './errors.js';

export const PROTOCOL_VERSION = 1;

export interface RequestEnvelope<B = unknown> {
  type: string;
  v: number;
  id: string;
  idempotencyKey?: string;
  deadline: number;
  body: B;
}

export type ReplyEnvelope<B = unknown> =
  | { v: number; ok: true; body: B }
  | { v: number; ok: false; error: WireError };

export interface ParseOptions {
  /** The verb the subject named; becomes `type` when the payload is empty. */
  type: string;
  /** Mutating verbs refuse requests without an idempotency key. */
  requireIdempotencyKey: boolean;
  now: number;
  /** Deadline given to bare CLI requests that carry none. */
  defaultTimeoutMs: number;
  newId: () => string;
}

const KEY = /^[A-Za-z0-9_.:\-]{1,128}$/;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The longest any request may ask a receiver to work on it. */
export const MAX_REQUEST_MS = 10 * 60_000;

/** Validates a raw payload into an envelope; throws BadRequestError with a precise reason. */
export function parseRequest(raw: string, opts: ParseOptions): RequestEnvelope {
  if (raw.trim() === '') {
    if (opts.requireIdempotencyKey) throw new BadRequestError(`'${opts.type}' changes state: send an envelope with an idempotencyKey`);
    return { type: opts.type, v: PROTOCOL_VERSION, id: opts.newId(), deadline: opts.now + opts.defaultTimeoutMs, body: {} };
  }
  // No string anywhere in a request may carry NUL (PostgreSQL refuses it, headers and logs break on
  // it): one scan of the text, for every verb, instead of a check in each schema.
  if (raw.includes('\\u0000')) throw new BadRequestError('request strings may not contain NUL characters');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new BadRequestError('request payload is not valid JSON');
  }
  if (!isObject(parsed)) throw new BadRequestError('request payload must be a JSON object');
  const { type, v, id, idempotencyKey, deadline, body } = parsed;
  if (v !== PROTOCOL_VERSION) throw new BadRequestError(`unsupported protocol version ${JSON.stringify(v)} (this node speaks ${PROTOCOL_VERSION})`);
  if (type !== undefined && type !== opts.type) throw new BadRequestError(`envelope type '${String(type)}' does not match the subject's verb '${opts.type}'`);
  if (id !== undefined && (typeof id !== 'string' || !KEY.test(id))) throw new BadRequestError('envelope id must be 1-128 characters of [A-Za-z0-9_.:-]');
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !KEY.test(idempotencyKey))) {
    throw new BadRequestError('idempotencyKey must be 1-128 characters of [A-Za-z0-9_.:-]');
  }
  if (opts.requireIdempotencyKey && idempotencyKey === undefined) throw new BadRequestError(`'${opts.type}' changes state and needs an idempotencyKey`);
  if (deadline !== undefined && (typeof deadline !== 'number' || !Number.isFinite(deadline))) throw new BadRequestError('deadline must be epoch milliseconds');
  if (body !== undefined && !isObject(body)) throw new BadRequestError('body must be a JSON object');
  const env: RequestEnvelope = {
    type: opts.type,
    v: PROTOCOL_VERSION,
    id: (id as string | undefined) ?? opts.newId(),
    // A sender may shorten its wait, never stretch a receiver's past MAX_REQUEST_MS (a deadline of
    // 1e308 overflowed the receivers' timers into an immediate timeout).
    deadline: Math.min((deadline as number | undefined) ?? opts.now + opts.defaultTimeoutMs, opts.now + MAX_REQUEST_MS),
    body: body ?? {},
  };
  if (idempotencyKey !== undefined) env.idempotencyKey = idempotencyKey as string;
  return env;
}

/** Validates a raw reply. Anything malformed becomes a protocol error the caller can type. */
export function parseReply(raw: string): ReplyEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new BadRequestError('reply payload is not valid JSON');
  }
  if (!isObject(parsed) || typeof parsed.ok !== 'boolean') throw new BadRequestError('reply is not a novact envelope');
  if (parsed.v !== PROTOCOL_VERSION) throw new BadRequestError(`unsupported reply version ${JSON.stringify(parsed.v)}`);
  if (parsed.ok) return { v: PROTOCOL_VERSION, ok: true, body: parsed.body };
  const e = parsed.error;
  if (!isObject(e) || typeof e.fault !== 'string' || typeof e.message !== 'string') throw new BadRequestError('error reply without a typed error');
  return { v: PROTOCOL_VERSION, ok: false, error: e as unknown as WireError };
}

export function okReply<B>(body: B): ReplyEnvelope<B> {
  return { v: PROTOCOL_VERSION, ok: true, body };
}
export function errorReply(error: WireError): ReplyEnvelope<never> {
  return { v: PROTOCOL_VERSION, ok: false, error };
}
