/**
 * The dashboard on the API port: the built page under `/dashboard` (bundle.ts) and its live feed at
 * `/dashboard/api/events`. The page itself is public (it holds no data); everything it shows comes
 * from the OpenStack APIs on this port with the user's Keystone token, so the dashboard sees exactly
 * what the APIs let that user see. The feed takes the same token in `X-Auth-Token` (the page reads it
 * with fetch, not EventSource, so the token never sits in a URL or an access log).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, forbidden, unauthorized } from '../faults.js';
import type { TokenService } from '../identity/tokens.js';
import { open } from '../policy.js';
import type { Route } from '../routes.js';
import { MOUNT, NOT_BUILT_PAGE, type Bundle } from './bundle.js';
import type { EventFeed } from './event-feed.js';
import type { Viewer } from './feed-views.js';

export interface FeedDeps {
  feed: EventFeed;
  tokens: TokenService;
}

/** Scripts and styles only from this origin, no framing: the page is served as built, nothing inline. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const ROLES = ['admin', 'member', 'reader'];

const notFound = () => new ApiError(404, 'The resource could not be found.');

function notBuilt(req: FastifyRequest, reply: FastifyReply) {
  reply.code(503).header('cache-control', 'no-store');
  // A browser gets the page saying how to build it; an API client the usual fault body.
  if ((req.headers.accept ?? '').includes('text/html')) return reply.type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
  return reply.type('application/json').send({ serviceUnavailable: { code: 503, message: 'The dashboard is not built on this server.' } });
}

function tokenOf(req: FastifyRequest): string {
  const token = req.headers['x-auth-token'];
  if (typeof token !== 'string' || token.length === 0 || token.length > 512) throw unauthorized();
  return token;
}

async function viewerOf(token: string, tokens: TokenService): Promise<Viewer> {
  const { token: row, roles } = await tokens.validate(token);
  if (!roles.some((r) => ROLES.includes(r))) throw forbidden("Policy doesn't allow dashboard:events to be performed.");
  return { projectId: row.projectId, admin: roles.includes('admin') };
}

/** The built page and its assets; `bundle` undefined (never built) makes every one a 503 saying so. */
export function staticRoutes(bundle: Bundle | undefined): Route[] {
  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!bundle) return notBuilt(req, reply);
    // The table holds every servable path exactly; anything else (a `..`, an encoding) names nothing.
    const f = bundle.get(req.url.split('?')[0]!);
    if (!f) throw notFound();
    reply.header('etag', f.etag).header('x-content-type-options', 'nosniff')
      .header('cache-control', f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (f.type.startsWith('text/html')) reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY');
    if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
    return reply.type(f.type).send(f.body);
  };
  return [
    { method: 'GET', url: MOUNT, policy: open, handler: serve },
    { method: 'GET', url: `${MOUNT}/*`, policy: open, handler: serve },
  ];
}

/** The live feed, for any holder of a valid token with a role on its project. */
export function feedRoute(d: FeedDeps): Route {
  const events = async (req: FastifyRequest, reply: FastifyReply) => {
    // The stream takes no parameters: refusing them keeps a typo (or a token pasted into the URL) visible.
    if (Object.keys(req.query ?? {}).length > 0) throw new ApiError(400, 'The event stream takes no query parameters.');
    const token = tokenOf(req);
    const viewer = await viewerOf(token, d.tokens);
    if (d.feed.full) throw new ApiError(503, 'Too many event streams are open; try again later.');
    if (req.method === 'HEAD') return reply.code(200).type('text/event-stream; charset=utf-8').send();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff', 'x-openstack-request-id': req.id,
    });
    const stop = d.feed.add(res, viewer);
    // The token is checked again with every heartbeat (from the token cache, mostly): a stream ends
    // once its token expires or is revoked, or its roles no longer give the scope it was opened with.
    const recheck = setInterval(() => {
      viewerOf(token, d.tokens).then((v) => { if (v.admin !== viewer.admin) res.end(); }, () => res.end());
    }, d.feed.opts.heartbeatMs);
    recheck.unref();
    res.once('close', () => { clearInterval(recheck); stop(); });
  };

  return { method: 'GET', url: `${MOUNT}/api/events`, policy: open, handler: events };
}

export const dashboardRoutes = (bundle: Bundle | undefined, d: FeedDeps): Route[] => [...staticRoutes(bundle), feedRoute(d)];
