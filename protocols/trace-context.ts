/**
 * What a request carries besides its body, as header text: its request ids and its W3C trace
 * context. Pure parsing and formatting; every value comes from outside (a tenant's HTTP headers, a
 * peer on the bus) and is checked here: anything malformed is dropped (undefined), never thrown.
 */

/** NATS header names (HTTP names are the REST API's: `X-OpenStack-Request-ID`, `traceparent`). */
export const REQUEST_ID_HEADER = 'Openstack-Request-Id';
export const GLOBAL_REQUEST_ID_HEADER = 'Openstack-Global-Request-Id';
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

/** Nova's (oslo.middleware's) form of a caller's global request id: anything else is ignored. */
const NOVA_REQUEST_ID = /^req-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$/;
/** A request id on the bus: ours are `req-<uuid>`; sweeps and retries add suffixes. Short, plain text. */
const BUS_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's `X-OpenStack-Request-ID`, if it has Nova's `req-<uuid>` form. */
export function globalRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && NOVA_REQUEST_ID.test(value) ? value : undefined;
}

/** A request id read from a peer's header, if it is plausible. */
export function busRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && BUS_REQUEST_ID.test(value) ? value : undefined;
}

/** A parsed `traceparent` (version 00 fields; later versions are read as 00, as the spec asks). */
export interface TraceParent {
  traceId: string;
  spanId: string;
  /** Bit 0: sampled. */
  flags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** W3C caps a traceparent far below this; a longer header is no traceparent. */
const MAX_TRACEPARENT = 256;

export function parseTraceParent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string' || value.length > MAX_TRACEPARENT) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is invalid; version 00 has exactly four fields; an all-zero id is invalid.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

export function formatTraceParent(p: TraceParent): string {
  return `00-${p.traceId}-${p.spanId}-${(p.flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** W3C: at most 32 list members, 512 characters is what a vendor must propagate. */
const MAX_TRACESTATE = 512;
const TRACESTATE_MEMBER = /^[a-z0-9][a-z0-9_\-*/@]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** A `tracestate` whose every member is well formed, else none (a partial list would misattribute). */
export function parseTraceState(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TRACESTATE) return undefined;
  const members = value.split(',').map((m) => m.trim()).filter((m) => m.length > 0);
  if (members.length === 0 || members.length > 32 || !members.every((m) => TRACESTATE_MEMBER.test(m))) return undefined;
  return members.join(',');
}
