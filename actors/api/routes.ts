/**
 * A route as the API's resource modules declare it: method, path, who may call it (policy), what its
 * body must be, an optional JSON schema for that body, and the handler. `app.ts` installs them into
 * Fastify; the route table also answers 405 for a known path with another method.
 */
import type { FastifyReply, FastifyRequest, FastifySchema, HTTPMethods } from 'fastify';
import type { BodyKind, RoutePolicy } from './context.js';

export interface Route {
  method: Extract<HTTPMethods, 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'>;
  url: string;
  policy: RoutePolicy;
  /** Default: JSON for POST/PUT/PATCH, none otherwise. */
  body?: BodyKind;
  schema?: FastifySchema;
  handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** Path parameters, always strings (Fastify's `params` is untyped without a schema). */
export function param(req: FastifyRequest, name: string): string {
  const v = (req.params as Record<string, string | undefined>)[name];
  if (v === undefined) throw new Error(`route has no parameter ${name}`);
  return v;
}

/** Query parameters as strings; a repeated parameter gives its last value unless `all` is asked. */
export function query(req: FastifyRequest): Record<string, string | string[] | undefined> {
  return (req.query ?? {}) as Record<string, string | string[] | undefined>;
}

export function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function many(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Matches a concrete path against the route table's patterns (`:param` matches one segment). */
export class RouteTable {
  private readonly entries: { pattern: RegExp; methods: Set<string> }[] = [];

  add(method: string, url: string): void {
    const source = `^${url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`;
    let e = this.entries.find((x) => x.pattern.source === source);
    if (!e) {
      e = { pattern: new RegExp(source), methods: new Set() };
      this.entries.push(e);
    }
    e.methods.add(method);
    if (method === 'GET') e.methods.add('HEAD');
  }

  /** The methods a path allows (empty when no route matches it at all). */
  methodsFor(path: string): string[] {
    const out = new Set<string>();
    for (const e of this.entries) if (e.pattern.test(path)) e.methods.forEach((m) => out.add(m));
    return [...out].sort();
  }
}
