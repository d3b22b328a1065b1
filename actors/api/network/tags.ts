/**
 * Tags on resources (Neutron's standard-attr-tag: every kind but security group rules):
 * `GET|PUT|DELETE …/<id>/tags` and `GET|PUT|DELETE …/<id>/tags/<tag>`, all through the role's
 * `tags` verb. Status codes as Neutron's tagging extension: list and replace 200 with the tags, add
 * one 201, remove 204, and a tag's check 204 when it is there, 404 `TagNotFound` when not.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NetTags } from '../../../protocols/catalog/network.js';
import { NotFoundError } from '../../../protocols/errors.js';
import { KINDS, type KindSpec } from '../../../protocols/network/resources.js';
import type { ApiDeps } from '../deps.js';
import { param, type Route } from '../routes.js';
import { checkTag, noBody, tagsBody } from './bodies.js';
import { netMember, netReader } from './net-policy.js';
import { V2, callerOf, idOf } from './net-request.js';

export const TAGGED = Object.values(KINDS).filter((k) => k.kind !== 'security_group_rule');

const tagNotFound = (tag: string) => Object.assign(new NotFoundError(`Tag ${tag} could not be found.`), { details: { type: 'TagNotFound' } });

function kindTagRoutes(d: ApiDeps, spec: KindSpec): Route[] {
  const { backend } = d;
  const { kind, path } = spec;
  const url = `${V2}/${path}/:id/tags`;
  type Action = 'list' | 'set' | 'add' | 'remove' | 'check';
  const call = (req: FastifyRequest, action: Action, tags?: string[]) =>
    backend.net(NetTags, kind, { by: callerOf(req), id: idOf(req, kind), action, ...(tags ? { tags } : {}) }, req.id);
  const tag = (req: FastifyRequest) => checkTag(param(req, 'tag'));
  return [
    { method: 'GET', url, policy: netReader(`get_${kind}:tags`), handler: async (req) => ({ tags: (await call(req, 'list')).tags }) },
    { method: 'PUT', url, policy: netMember(`update_${kind}:tags`), handler: async (req) => ({ tags: (await call(req, 'set', tagsBody(spec, req.body))).tags }) },
    {
      method: 'DELETE', url, policy: netMember(`delete_${kind}:tags`),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        noBody(req.body);
        await call(req, 'set', []);
        return reply.code(204).send();
      },
    },
    {
      method: 'GET', url: `${url}/:tag`, policy: netReader(`get_${kind}:tags`),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const t = tag(req);
        if (!(await call(req, 'check', [t])).tags.includes(t)) throw tagNotFound(t);
        return reply.code(204).send();
      },
    },
    {
      method: 'PUT', url: `${url}/:tag`, policy: netMember(`update_${kind}:tags`), body: 'none',
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        await call(req, 'add', [tag(req)]);
        return reply.code(201).send();
      },
    },
    {
      method: 'DELETE', url: `${url}/:tag`, policy: netMember(`delete_${kind}:tags`),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        noBody(req.body);
        await call(req, 'remove', [tag(req)]);
        return reply.code(204).send();
      },
    },
  ];
}

export function tagRoutes(d: ApiDeps): Route[] {
  return TAGGED.flatMap((spec) => kindTagRoutes(d, spec));
}
