/**
 * The one place hostile text is refused, for every route of every API (identity, compute, image):
 * JSON bodies must be valid UTF-8, and no path segment, query parameter or body string (keys
 * included) may carry control characters or lone surrogates (`protocols/text.ts` says which). A
 * violation is a 400 badRequest before any handler, actor or database sees the request, so no
 * route has to remember it.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badQueryEncoding, findBadText } from '../../protocols/text.js';
import { badRequest } from './faults.js';

type JsonParser = ReturnType<FastifyInstance['getDefaultJsonParser']>;

/**
 * Wraps Fastify's JSON parser (which keeps its poisoning checks) so invalid UTF-8 is a 400, not U+FFFD.
 * An empty body is no body: clients (Tempest's REST client among them) send `Content-Type:
 * application/json` on every DELETE and GET; a route that needs a body still gets its schema's 400.
 */
export function utf8JsonParser(parse: JsonParser) {
  return (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    if (!isUtf8(body)) {
      done(badRequest('Malformed request body: it is not valid UTF-8.'));
      return;
    }
    parse(req, body.toString('utf8'), done);
  };
}

/** Refuses a request whose path, query or JSON body carries unacceptable text. */
export function checkRequestText(req: FastifyRequest): void {
  const q = req.url.indexOf('?');
  if (q >= 0) {
    const bad = badQueryEncoding(req.url.slice(q + 1));
    if (bad !== undefined) throw badRequest(`Invalid query string: '${bad}' is not valid percent-encoded UTF-8.`);
  }
  const problem = findBadText(req.params, 'path') ?? findBadText(req.query, 'query') ?? (isJson(req.body) ? findBadText(req.body, 'body') : undefined);
  if (problem) throw badRequest(`Invalid input for field/attribute ${problem.where}: it ${problem.why}.`);
}

/** Parsed JSON (objects, arrays, strings); octet streams reach their handler unread and are not text. */
function isJson(body: unknown): boolean {
  if (body === null || body === undefined) return false;
  if (typeof body !== 'object') return typeof body === 'string';
  return Array.isArray(body) || Object.getPrototypeOf(body) === Object.prototype || Object.getPrototypeOf(body) === null;
}
