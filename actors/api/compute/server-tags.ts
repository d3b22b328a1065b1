/**
 * Server tags (`/servers/{id}/tags[/{tag}]`, microversion 2.26; below it these paths are 404, as
 * Nova). Reads answer from the server's view; every change is the instance actor's `update` verb
 * (conductor/instance-update.ts), so tags are written by the instance's single writer with its CAS,
 * which also applies Nova's guards: vm_state active, paused, suspended or stopped (409 otherwise)
 * and at most 50 tags (400). Status codes as Nova's server_tags.py: replace all 200 with the tags,
 * add one 201 with `Location` (204 when it was there already), show 204/404, deletes 204.
 */
import type { FastifyRequest } from 'fastify';
import { isValidTag } from '../../../protocols/server-fields.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import { atLeast } from '../microversion.js';
import { member, reader } from '../policy.js';
import { param, type Route } from '../routes.js';
import { TAGS } from './server-field-rules.js';
import { visibleServer } from './server-lookup.js';

const REPLACE_SCHEMA = { type: 'object', required: ['tags'], properties: { tags: TAGS }, additionalProperties: false } as const;
const POLICY = (verb: string) => `os_compute_api:os-server-tags:${verb}`;

export function serverTagRoutes(d: ApiDeps): Route[] {
  const { backend, links } = d;
  /** The server, once the microversion has tags at all. */
  const server = (req: FastifyRequest) => {
    if (!atLeast(req.microversion, 26)) throw notFound();
    return visibleServer(backend, authOf(req), param(req, 'id'));
  };
  const change = async (req: FastifyRequest, body: Record<string, unknown>) => {
    const s = await server(req);
    return backend.serverVerb(s.id, 'update', body, req.id);
  };
  return [
    {
      method: 'GET', url: '/v2.1/servers/:id/tags', policy: reader(POLICY('index')),
      handler: async (req) => ({ tags: (await server(req)).tags }),
    },
    {
      method: 'PUT', url: '/v2.1/servers/:id/tags', policy: member(POLICY('update_all')), schema: { body: REPLACE_SCHEMA },
      handler: async (req) => ({ tags: (await change(req, { setTags: (req.body as { tags: string[] }).tags })).tags }),
    },
    {
      method: 'DELETE', url: '/v2.1/servers/:id/tags', policy: member(POLICY('delete_all')),
      handler: async (req, reply) => {
        await change(req, { setTags: [] });
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: '/v2.1/servers/:id/tags/:tag', policy: reader(POLICY('show')),
      handler: async (req, reply) => {
        const s = await server(req);
        const tag = param(req, 'tag');
        if (!s.tags.includes(tag)) throw notFound(`Server ${s.id} has no tag '${tag}'`);
        return reply.code(204).send();
      },
    },
    {
      method: 'PUT', url: '/v2.1/servers/:id/tags/:tag', policy: member(POLICY('update')),
      handler: async (req, reply) => {
        const s = await server(req);
        const tag = param(req, 'tag');
        if (!isValidTag(tag)) throw badRequest(`Tag '${tag}' is invalid. It must be a non empty string without characters '/' and ','.`);
        const after = await backend.serverVerb(s.id, 'update', { addTag: tag }, req.id);
        // Present before the call: Nova's 204; otherwise this call added it.
        if (s.tags.includes(tag) || !after.tags.includes(tag)) return reply.code(204).send();
        return reply.code(201).header('Location', `${links.compute}/servers/${s.id}/tags/${encodeURIComponent(tag)}`).send();
      },
    },
    {
      method: 'DELETE', url: '/v2.1/servers/:id/tags/:tag', policy: member(POLICY('delete')),
      handler: async (req, reply) => {
        const s = await server(req);
        const tag = param(req, 'tag');
        if (!isValidTag(tag)) throw notFound(`Instance ${s.id} has no tag '${tag}'.`);
        await backend.serverVerb(s.id, 'update', { deleteTag: tag }, req.id);
        return reply.code(204).send();
      },
    },
  ];
}
