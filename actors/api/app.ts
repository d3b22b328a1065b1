/**
 * The HTTP server: Fastify with JSON-schema validation and a body size limit, wrapped so that every
 * answer is an OpenStack one. Per request, in order: the service is told from the path (identity,
 * image, network, compute); compute requests get their microversion; the token is validated (all
 * routes but version discovery and token issue); the body's media type is checked against the route; the
 * caller's roles are checked against the route's policy; then the handler runs. Every response
 * carries `x-openstack-request-id`, compute responses the microversion headers, and every error a
 * fault body (Fastify's own included: malformed JSON, media type, size, unknown path, wrong method).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../../runtime/log/logger.js';
import { HttpMetrics } from '../../runtime/metrics/http-metrics.js';
import type { Metrics } from '../../runtime/metrics/metrics.js';
import type { ApiService, AuthContext, BodyKind } from './context.js';
import { namesEmptyId } from './empty-ids.js';
import { ApiError, faultReply, type FaultStyle } from './faults.js';
import { checkRequestText, utf8JsonParser } from './input-guard.js';
import type { TokenService } from './identity/tokens.js';
import type { Links } from './links.js';
import { MIN_VERSION, requestedVersion, versionHeaders, type Microversion } from './microversion.js';
import { withoutJsonSuffix } from './network/json-suffix.js';
import { authorize } from './policy.js';
import { recordRoutes } from './route-registry.js';
import { addRequestScope } from './request-scope.js';
import { RouteTable, type Route } from './routes.js';

/** How Fastify validates bodies: no coercion or defaults, so a body is checked as sent (also used by tests). */
export const AJV_OPTIONS = { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, allowUnionTypes: true } as const;

export const JSON_PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';
/** Glance's older patch dialect (`{"replace": "/name", …}`), still served; Tempest sends it. */
export const JSON_PATCH_V20_TYPE = 'application/openstack-images-v2.0-json-patch';

/** HTTP timeouts (Fastify's defaults are 0: none, which lets a client hold a socket forever). */
export interface HttpTimeouts {
  /** A request's headers and body must have arrived within this (0: no limit). Image uploads stream and are the image API's to bound. */
  requestTimeoutMs: number;
  /** The headers alone (slow-headers clients). */
  headersTimeoutMs: number;
  /** A socket with no traffic at all for this long is closed. */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  requestTimeoutMs: 60_000,
  headersTimeoutMs: 30_000,
  connectionTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
};

export interface AppOptions {
  bodyLimitBytes: number;
  tokens: TokenService;
  links: Links;
  log: Logger;
  timeouts?: HttpTimeouts;
  /** Count and time every answer by route pattern, method and status class. */
  metrics?: Metrics;
}

/** What Node's HTTP parser errors are answered with (headers that never finish: 408, as Node would). */
const CLIENT_ERRORS: Record<string, { code: number; status: string; fault: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { code: 431, status: 'Request Header Fields Too Large', fault: 'badRequest', message: 'Request header fields too large.' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 408, status: 'Request Timeout', fault: 'requestTimeout', message: 'The request took too long to arrive.' },
  default: { code: 400, status: 'Bad Request', fault: 'badRequest', message: 'Malformed HTTP request.' },
};

function serviceOf(url: string): ApiService {
  if (url === '/v3' || url.startsWith('/v3/') || url.startsWith('/v3?')) return 'identity';
  if (url === '/image' || url.startsWith('/image/') || url.startsWith('/image?')) return 'image';
  if (url === '/networking' || url.startsWith('/networking/') || url.startsWith('/networking?')) return 'network';
  return 'compute';
}

const FAULT_STYLES: Record<ApiService, FaultStyle> = { identity: 'keystone', compute: 'nova', image: 'nova', network: 'neutron' };

function mediaType(req: FastifyRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The body kind a request actually carries, by its media type (undefined: one no route takes). */
function carried(req: FastifyRequest): BodyKind | undefined {
  const t = mediaType(req);
  if (t === '') return 'none';
  if (t === 'application/octet-stream') return 'octet';
  if (t === JSON_PATCH_TYPE || t === JSON_PATCH_V20_TYPE) return 'json-patch';
  if (t === 'application/json') return 'json';
  return undefined;
}

export async function buildApp(o: AppOptions, routes: Route[]): Promise<FastifyInstance> {
  const table = new RouteTable();
  const timeouts = o.timeouts ?? DEFAULT_HTTP_TIMEOUTS;
  const app = Fastify({
    logger: false,
    bodyLimit: o.bodyLimitBytes,
    connectionTimeout: timeouts.connectionTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // Node checks header deadlines on this interval; a tenth of the limit keeps the check close.
    http: { headersTimeout: timeouts.headersTimeoutMs, connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(timeouts.headersTimeoutMs / 10))) },
    genReqId: () => `req-${randomUUID()}`,
    // A client's own request id header is not trusted as ours.
    requestIdHeader: false,
    // Neutron's optional `.json` suffix on networking paths.
    rewriteUrl: (req) => withoutJsonSuffix(req.url ?? '/'),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    ajv: { customOptions: AJV_OPTIONS },
    // Errors Node's HTTP parser raises before Fastify sees a request (a URL or headers over 16 KiB:
    // 431; malformed HTTP: 400) are answered with a fault body too, not Fastify's own JSON.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return;
      const { code, status, fault, message } = CLIENT_ERRORS[(err as { code?: string }).code ?? ''] ?? CLIENT_ERRORS.default!;
      const body = JSON.stringify({ [fault]: { code, message } });
      // A HEAD gets the status without a body (the parser's raw packet says which method it was).
      const head = (err as unknown as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
      socket.end(`HTTP/1.1 ${code} ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`);
    },
    frameworkErrors: (err, req, reply) => {
      // A path segment longer than any id cannot name anything: Nova says 404 for unknown ids.
      const e = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new ApiError(404, 'The resource could not be found.') : err;
      void sendFault(req, reply, e);
    },
  });
  recordRoutes(app);
  addRequestScope(app, o.log);
  app.decorateRequest('auth', null);
  // Set per request in onRequest (Fastify refuses object defaults shared between requests).
  app.decorateRequest('microversion', null as unknown as Microversion);
  app.decorateRequest('service', 'compute');

  const sendFault = (req: FastifyRequest, reply: FastifyReply, err: unknown) => {
    const service = req.service ?? serviceOf(req.url);
    const f = faultReply(err, FAULT_STYLES[service], req.id);
    // The client sees only the generic text and the request id; the detail is logged under that id.
    if (f.unexpected) o.log.error('request failed', { requestId: req.id, method: req.method, url: req.url, err: err instanceof Error ? err.stack ?? err.message : String(err) });
    else if (f.hidden !== undefined) o.log.warn('request failed upstream', { requestId: req.id, method: req.method, url: req.url, status: f.status, err: f.hidden });
    if (f.status === 401) reply.header('WWW-Authenticate', `Keystone uri="${o.links.identity}"`);
    return reply.code(f.status).headers(f.headers).type('application/json').send(f.body);
  };

  // Glance's JSON-patch media type is JSON; octet streams reach their handler unread (image upload).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // Plain text is no OpenStack body: without a parser it is a 415, as in Nova.
  app.removeContentTypeParser('text/plain');
  // JSON bodies are read as bytes so invalid UTF-8 is refused rather than turned into U+FFFD.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, utf8JsonParser(parseJson));
  app.addContentTypeParser(JSON_PATCH_TYPE, { parseAs: 'buffer' }, utf8JsonParser(parseJson));
  app.addContentTypeParser(JSON_PATCH_V20_TYPE, { parseAs: 'buffer' }, utf8JsonParser(parseJson));
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  /**
   * Node's own `requestTimeout` would also cut off a long image upload, so the whole-request deadline
   * is kept here, for every route but the streamed (octet) ones: a body still arriving when it passes
   * is answered 408 and the connection closed.
   */
  const bodyDeadline = (req: FastifyRequest, reply: FastifyReply) => {
    if (timeouts.requestTimeoutMs <= 0 || req.routeOptions.config.body === 'octet') return;
    const timer = setTimeout(() => {
      if (req.raw.complete || reply.sent) return;
      reply.raw.once('finish', () => req.raw.socket?.destroy());
      void sendFault(req, reply.header('Connection', 'close'), new ApiError(408, 'The request body did not arrive in time.'));
    }, timeouts.requestTimeoutMs);
    timer.unref();
    reply.raw.once('close', () => clearTimeout(timer));
  };

  app.addHook('onRequest', async (req, reply) => {
    bodyDeadline(req, reply);
    req.service = serviceOf(req.url);
    req.microversion = MIN_VERSION;
    if (req.service === 'compute') req.microversion = requestedVersion(req.headers);
    // Nothing has an empty id: 404 before the trailing slash reaches the collection's route.
    if (namesEmptyId(req.method, req.url)) throw new ApiError(404, 'The resource could not be found.');
    const policy = req.routeOptions.config.policy;
    // Unknown paths fall through to the 404/405 answer without needing a token.
    if (!policy || policy.level === 'public') return;
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) throw new ApiError(401, 'The request you have made requires authentication.');
    // The roles are the user's current ones on the token's project (resolved at validation, cached ≤ cacheMs).
    const { token: row, roles } = await o.tokens.validate(token);
    const auth: AuthContext = {
      userId: row.userId, projectId: row.projectId, roles,
      // Legacy Keystone semantics, kept on purpose: `admin` on the token's project is cloud admin
      // (Nova's and Glance's `role:admin` rules). Grant `admin` only to operators (docs/architecture.md).
      isAdmin: roles.includes('admin'),
      auditId: row.auditId, issuedAt: row.issuedAt, expiresAt: row.expiresAt, methods: row.methods,
    };
    req.auth = auth;
  });

  // Control characters and invalid text in any path segment, query parameter or body string: 400.
  app.addHook('preValidation', async (req) => checkRequestText(req));

  app.addHook('preValidation', async (req) => {
    const want = req.routeOptions.config.body;
    if (want === undefined) return;
    const got = carried(req);
    // A body of the wrong kind is refused before any handler sees it (no body is the schema's call).
    if (got !== 'none' && got !== want && !(want === 'none' && got === 'json')) {
      throw new ApiError(415, `Unsupported Content-Type: ${mediaType(req)}`);
    }
  });

  app.addHook('preHandler', async (req) => {
    const policy = req.routeOptions.config.policy;
    if (policy && policy.level !== 'public' && req.auth) authorize(req.auth, policy);
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-openstack-request-id', req.id);
    if (req.service === 'compute' && req.microversion) {
      reply.header('x-compute-request-id', req.id);
      reply.headers(versionHeaders(req.microversion));
    }
  });

  if (o.metrics) {
    const rest = new HttpMetrics(o.metrics);
    app.addHook('onResponse', (req, reply, done) => {
      rest.record(req.routeOptions.url, req.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }

  app.setErrorHandler((err: FastifyError, req, reply) => sendFault(req, reply, err));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = table.methodsFor(path);
    if (allowed.length > 0) return sendFault(req, reply, new ApiError(405, 'The method is not allowed for the requested URL.', { Allow: allowed.join(', ') }));
    return sendFault(req, reply, new ApiError(404, 'The resource could not be found.'));
  });

  // An explicit HEAD route must come before its GET, which would otherwise claim HEAD for itself.
  const ordered = [...routes.filter((r) => r.method === 'HEAD'), ...routes.filter((r) => r.method !== 'HEAD')];
  for (const r of ordered) {
    const body = r.body ?? (r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH' ? 'json' : undefined);
    table.add(r.method, r.url);
    app.route({
      method: r.method,
      url: r.url,
      ...(r.schema ? { schema: r.schema } : {}),
      config: { policy: r.policy, ...(body ? { body } : {}) },
      handler: r.handler,
    });
  }
  await app.ready();
  return app;
}
