/**
 * Every failure the REST API answers, as OpenStack fault bodies: Nova's
 * `{"<faultName>": {"code": N, "message": …}}` for compute and image calls, Keystone's
 * `{"error": {"code": N, "title": …, "message": …}}` for identity calls, Neutron's
 * `{"NeutronError": {"type": …, "message": …, "detail": ""}}` for networking calls. novact's typed errors,
 * errors raised by the API itself (405, 406, 415, 501 have no novact error class), and Fastify's own
 * failures (malformed JSON, wrong media type, oversized body, schema violations) all end here; a bad
 * request is always a 4xx, and only a real server failure is a 5xx.
 */
import { STATUS_CODES } from 'node:http';
import { NovactError } from '../../protocols/errors.js';
import { neutronType } from '../../protocols/network/errors.js';
import { NAME_PATTERN } from '../../protocols/text.js';

/** An error raised by the API layer itself, with the HTTP status and Nova fault name to answer. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const unauthorized = (message = 'The request you have made requires authentication.') => new ApiError(401, message);
export const forbidden = (message: string) => new ApiError(403, message);
export const notFound = (message = 'The resource could not be found.') => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);
export const notImplemented = (message: string) => new ApiError(501, message);

/** Nova's `Fault._fault_names`; any other status is a `computeFault`. */
const NOVA_FAULTS: Record<number, string> = {
  400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod', 409: 'conflictingRequest',
  413: 'overLimit', 415: 'badMediaType', 429: 'overLimit', 501: 'notImplemented', 503: 'serviceUnavailable',
};

export type FaultStyle = 'nova' | 'keystone' | 'neutron';

/**
 * Neutron's `type` for an answer that carries none of its own: the webob exception class Neutron
 * raises for the status (neutronType knows the common ones; these are the rest novact answers).
 */
const WEBOB_TYPES: Record<number, string> = {
  406: 'HTTPNotAcceptable', 408: 'HTTPRequestTimeout', 429: 'HTTPTooManyRequests', 431: 'HTTPRequestHeaderFieldsTooLarge',
  501: 'HTTPNotImplemented', 503: 'HTTPServiceUnavailable', 504: 'HTTPGatewayTimeout',
};
/** Neutron's own words for what it says in other words than Nova (an unexpected failure, bad JSON). */
const NEUTRON_UNEXPECTED = 'Request Failed: internal server error while processing your request.';
const NEUTRON_BAD_JSON = 'Body contains invalid data';

/** The type of a Neutron fault: a typed 4xx's own (`details.type`), else by status; a 5xx never tells more. */
function neutronTypeOf(err: unknown, status: number): string {
  if (status < 500 && err instanceof NovactError && typeof err.details?.type === 'string') return neutronType(err);
  return WEBOB_TYPES[status] ?? neutronType({ code: status });
}

export interface FaultReply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  /** A server-side failure worth logging (5xx that is not an upstream's answer). */
  unexpected: boolean;
  /** The message of a typed 5xx, kept from the client and logged. */
  hidden?: string;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: { instancePath?: string; keyword?: string; message?: string; params?: Record<string, unknown> }[];
  validationContext?: string;
}

/** Nova's wording for a schema violation: `Invalid input for field/attribute <path>. …`. */
function validationMessage(e: FastifyLikeError): string {
  const v = e.validation?.[0];
  if (!v) return e.message ?? 'Invalid input.';
  const path = (v.instancePath ?? '').split('/').filter(Boolean).join('.') || (e.validationContext ?? 'body');
  if (v.keyword === 'additionalProperties') {
    return `Invalid input for field/attribute ${path}. Additional properties are not allowed ('${String(v.params?.additionalProperty)}' was unexpected)`;
  }
  if (v.keyword === 'pattern' && v.params?.pattern === NAME_PATTERN) {
    return "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";
  }
  if (v.keyword === 'required') return `Invalid input for field/attribute ${path}. '${String(v.params?.missingProperty)}' is a required property`;
  return `Invalid input for field/attribute ${path}. ${v.message ?? 'Invalid value'}`;
}

/** Status and message for Fastify's own errors (parsing, media type, size, validation). */
function fromFastify(e: FastifyLikeError): { status: number; message: string; badJson?: true } | undefined {
  if (e.validation) return { status: 400, message: validationMessage(e) };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'Request is too large.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: 'Unsupported Content-Type' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, message: 'Malformed request body', badJson: true };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, message: 'Request body size did not match Content-Length' };
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_INVALID_URL':
      return { status: 400, message: 'Malformed request URL' };
  }
  // JSON.parse failures and prototype-poisoning refusals arrive with statusCode 400 and no code.
  const status = e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (e instanceof SyntaxError) return { status, message: 'Malformed request body', badJson: true };
    return { status, message: e.message ?? STATUS_CODES[status] ?? 'Bad request' };
  }
  return undefined;
}

/** What a client is told of a server-side failure; the detail goes to the log under the request id. */
export const UNEXPECTED_MESSAGE = 'An unexpected error occurred.';
const SERVER_SIDE: Record<number, string> = {
  503: 'The service is temporarily unavailable. Please retry later.',
  504: 'The request timed out. Please retry later.',
};

export function faultReply(err: unknown, style: FaultStyle, requestId?: string): FaultReply {
  let status: number;
  let message: string;
  let headers: Record<string, string> = {};
  let unexpected = false;
  let hidden: string | undefined;
  let badJson = false;
  if (err instanceof ApiError) {
    status = err.code;
    message = err.message;
    headers = err.headers;
  } else if (err instanceof NovactError) {
    status = err.code;
    message = err.message;
    // A typed 5xx from another role may carry SQL text, subjects or host names: never shown to anyone.
    if (status >= 500) {
      hidden = message;
      message = SERVER_SIDE[status] ?? UNEXPECTED_MESSAGE;
    }
  } else {
    const f = fromFastify((err ?? {}) as FastifyLikeError);
    if (f) {
      status = f.status;
      message = f.message;
      badJson = f.badJson === true;
    } else {
      status = 500;
      message = UNEXPECTED_MESSAGE;
      unexpected = true;
    }
  }
  const withId = (inner: Record<string, unknown>) => (status >= 500 && requestId !== undefined ? { ...inner, request_id: requestId } : inner);
  const base = { status, headers, unexpected, ...(hidden !== undefined ? { hidden } : {}) };
  if (style === 'neutron') {
    const text = unexpected ? NEUTRON_UNEXPECTED : badJson ? NEUTRON_BAD_JSON : message;
    return { ...base, body: { NeutronError: withId({ type: neutronTypeOf(err, status), message: text, detail: '' }) } };
  }
  if (style === 'keystone') {
    return { ...base, body: { error: withId({ code: status, title: STATUS_CODES[status] ?? 'Error', message }) } };
  }
  const name = NOVA_FAULTS[status] ?? 'computeFault';
  const inner: Record<string, unknown> = { code: status, message };
  if (name === 'overLimit') inner.retryAfter = '0';
  return { ...base, body: { [name]: withId(inner) } };
}
