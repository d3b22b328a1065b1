/**
 * Fastify's own route table, as it registered it (auto HEAD routes included), kept per app so tools
 * and tests can enumerate every route the API serves instead of hand-listing them (the fuzz suite
 * walks it). Fastify has no public accessor for this; an `onRoute` hook is its documented way.
 */
import type { FastifyInstance, FastifySchema } from 'fastify';

export interface RegisteredRoute {
  method: string;
  url: string;
  schema?: FastifySchema;
  /** The media type the route takes ('json', 'json-patch', 'octet', 'none'), from its config. */
  body?: string;
}

const tables = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Starts recording; call before any route is added. */
export function recordRoutes(app: FastifyInstance): void {
  const table: RegisteredRoute[] = [];
  tables.set(app, table);
  app.addHook('onRoute', (o) => {
    const body = (o.config as { body?: string } | undefined)?.body;
    for (const method of Array.isArray(o.method) ? o.method : [o.method]) {
      table.push({ method, url: o.url, ...(o.schema ? { schema: o.schema } : {}), ...(body ? { body } : {}) });
    }
  });
}

/** Every route the app registered, in registration order. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return tables.get(app) ?? [];
}
