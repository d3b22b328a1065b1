/**
 * Neutron's five calls on every resource kind, generic over the attribute table
 * (protocols/network/resources.ts): list (`GET /v2.0/<path>`, the query handed to the role as sent,
 * paging links when the role cut the list), create (`POST`, one or in bulk), show, update, delete.
 * The role answers views already shaped as Neutron shows them; this layer wraps them in the body
 * keys and status codes Neutron answers with.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NetCreate, NetDelete, NetGet, NetList, NetUpdate, type NetCaller } from '../../../protocols/catalog/network.js';
import { KINDS, type KindSpec, type NetKind } from '../../../protocols/network/resources.js';
import type { Backend } from '../backend.js';
import type { ApiDeps } from '../deps.js';
import type { Route } from '../routes.js';
import { createBody, noBody, updateBody, type Attrs } from './bodies.js';
import { netMember, netReader } from './net-policy.js';
import { V2, callerOf, fieldsOf, idOf, queryOf, searchOf } from './net-request.js';
import { pageLinks } from './page-links.js';

type Item = Record<string, unknown>;

/**
 * Creates in order, each under its own idempotency key (`<request id>:<n>`). Neutron's bulk create
 * is all or nothing: when one fails, those already made are deleted again and the failure answered.
 */
export async function createAll(backend: Backend, kind: NetKind, by: NetCaller, items: Attrs[], key: string, bulk: boolean): Promise<Item[]> {
  if (!bulk) return [(await backend.net(NetCreate, kind, { by, attrs: items[0]! }, key)).item];
  const made: Item[] = [];
  try {
    for (const [i, attrs] of items.entries()) made.push((await backend.net(NetCreate, kind, { by, attrs }, `${key}:${i}`)).item);
  } catch (err) {
    await Promise.allSettled(made.map((it, i) => backend.net(NetDelete, kind, { by, id: String(it.id) }, `${key}:undo:${i}`)));
    throw err;
  }
  return made;
}

function kindRoutes(d: ApiDeps, spec: KindSpec): Route[] {
  const { backend, links } = d;
  const { kind, path, collection } = spec;
  const url = `${V2}/${path}`;
  return [
    {
      method: 'GET', url, policy: netReader(`get_${kind}`),
      handler: async (req: FastifyRequest) => {
        const page = await backend.net(NetList, kind, { by: callerOf(req), query: queryOf(req) });
        const body: Item = { [collection]: page.items };
        const more = pageLinks(`${links.network}/v2.0/${path}`, searchOf(req), page);
        if (more.length > 0) body[`${collection}_links`] = more;
        return body;
      },
    },
    {
      method: 'POST', url, policy: netMember(`create_${kind}`),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const { bulk, items } = createBody(spec, req.body);
        const made = await createAll(backend, kind, callerOf(req), items, req.id, bulk);
        return reply.code(201).send(bulk ? { [collection]: made } : { [kind]: made[0] });
      },
    },
    {
      method: 'GET', url: `${url}/:id`, policy: netReader(`get_${kind}`),
      handler: async (req: FastifyRequest) => {
        const { item } = await backend.net(NetGet, kind, { by: callerOf(req), id: idOf(req, kind), query: fieldsOf(queryOf(req)) });
        return { [kind]: item };
      },
    },
    {
      method: 'PUT', url: `${url}/:id`, policy: netMember(`update_${kind}`),
      handler: async (req: FastifyRequest) => {
        const attrs = updateBody(spec, req.body);
        const { item } = await backend.net(NetUpdate, kind, { by: callerOf(req), id: idOf(req, kind), attrs }, req.id);
        return { [kind]: item };
      },
    },
    {
      method: 'DELETE', url: `${url}/:id`, policy: netMember(`delete_${kind}`),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        noBody(req.body);
        await backend.net(NetDelete, kind, { by: callerOf(req), id: idOf(req, kind) }, req.id);
        return reply.code(204).send();
      },
    },
  ];
}

export function resourceRoutes(d: ApiDeps): Route[] {
  return Object.values(KINDS).flatMap((spec) => kindRoutes(d, spec));
}
