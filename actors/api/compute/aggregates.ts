/**
 * Host aggregates (`os-aggregates`, admin), over the scheduler's catalog: list, create, show, delete,
 * and the actions `add_host`, `remove_host`, `set_metadata`. An aggregate's `availability_zone` is
 * its metadata key of that name, as in Nova; `uuid` appears from 2.41. A host must be a known compute
 * service to join an aggregate (404 otherwise).
 */
import type { FastifyRequest } from 'fastify';
import { AggregateMetadataMap, Closed } from '../../../protocols/catalog/common.js';
import type { AggregateView } from '../../../protocols/scheduler-views.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import { atLeast, type Microversion } from '../microversion.js';
import { admin } from '../policy.js';
import { param, type Route } from '../routes.js';
import { novaTime } from './server-views.js';

const NAME = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]+$' } as const;
/** Nova's update body: at least one of name and availability_zone. */
const UPDATE_SCHEMA = {
  type: 'object', required: ['aggregate'],
  properties: {
    aggregate: {
      type: 'object', minProperties: 1,
      properties: { name: NAME, availability_zone: { anyOf: [NAME, { type: 'null' }] } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

const CREATE_SCHEMA = {
  type: 'object', required: ['aggregate'],
  properties: {
    aggregate: {
      type: 'object', required: ['name'],
      properties: { name: NAME, availability_zone: { anyOf: [NAME, { type: 'null' }] } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;
const HOST = { type: 'object', required: ['host'], properties: { host: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false } as const;
const ACTION_SCHEMA = {
  type: 'object', minProperties: 1, maxProperties: 1,
  properties: {
    add_host: HOST,
    remove_host: HOST,
    // The catalog's aggregate metadata (null unsets a key), as `set-metadata` carries it.
    set_metadata: Closed({ metadata: AggregateMetadataMap() }),
  },
  additionalProperties: false,
} as const;

const naive = (iso: string) => novaTime(iso).replace(/Z$/, '.000000');

function aggregateView(a: AggregateView, mv: Microversion, full = true): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: a.id, name: a.name, availability_zone: a.availabilityZone, created_at: naive(a.createdAt), updated_at: naive(a.updatedAt),
    deleted: false, deleted_at: null,
  };
  if (full) Object.assign(out, { hosts: a.hosts, metadata: a.metadata });
  if (atLeast(mv, 41)) out.uuid = a.uuid;
  return out;
}

function aggregateId(req: FastifyRequest): number {
  const id = param(req, 'id');
  if (!/^[1-9]\d{0,9}$/.test(id)) throw notFound(`Aggregate ${id} could not be found.`);
  return Number(id);
}

export function aggregateRoutes(d: ApiDeps): Route[] {
  const { backend } = d;
  const agg = async <R>(verb: string, body: Record<string, unknown>, key?: string) =>
    (await backend.aggregate<{ aggregate: AggregateView } & R>(verb, body, key)).aggregate;
  return [
    {
      method: 'GET', url: '/v2.1/os-aggregates', policy: admin('os_compute_api:os-aggregates:index'),
      handler: async (req) => ({
        aggregates: (await backend.aggregate<{ aggregates: AggregateView[] }>('list', {})).aggregates.map((a) => aggregateView(a, req.microversion)),
      }),
    },
    {
      method: 'POST', url: '/v2.1/os-aggregates', policy: admin('os_compute_api:os-aggregates:create'), schema: { body: CREATE_SCHEMA },
      handler: async (req) => {
        const b = (req.body as { aggregate: { name: string; availability_zone?: string | null } }).aggregate;
        const body: Record<string, unknown> = { name: b.name };
        if (b.availability_zone) body.availabilityZone = b.availability_zone;
        return { aggregate: aggregateView(await agg('create', body, req.id), req.microversion, false) };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-aggregates/:id', policy: admin('os_compute_api:os-aggregates:show'),
      handler: async (req) => ({ aggregate: aggregateView(await agg('get', { id: aggregateId(req) }), req.microversion) }),
    },
    {
      method: 'PUT', url: '/v2.1/os-aggregates/:id', policy: admin('os_compute_api:os-aggregates:update'), schema: { body: UPDATE_SCHEMA },
      handler: async (req) => {
        const b = (req.body as { aggregate: { name?: string; availability_zone?: string | null } }).aggregate;
        const body: Record<string, unknown> = { id: aggregateId(req) };
        if (b.name !== undefined) body.name = b.name;
        if (b.availability_zone !== undefined) body.availabilityZone = b.availability_zone;
        return { aggregate: aggregateView(await agg('update', body, req.id), req.microversion) };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/os-aggregates/:id', policy: admin('os_compute_api:os-aggregates:delete'),
      handler: async (req, reply) => {
        await backend.aggregate('delete', { id: aggregateId(req) }, req.id);
        return reply.code(200).send();
      },
    },
    {
      method: 'POST', url: '/v2.1/os-aggregates/:id/action', policy: admin('os_compute_api:os-aggregates:action'), schema: { body: ACTION_SCHEMA },
      handler: async (req) => {
        const id = aggregateId(req);
        const b = req.body as { add_host?: { host: string }; remove_host?: { host: string }; set_metadata?: { metadata: Record<string, string | null> } };
        if (b.add_host) {
          const host = b.add_host.host;
          if ((await backend.services({ host })).length === 0) throw notFound(`Compute host ${host} could not be found.`);
          return { aggregate: aggregateView(await agg('add-host', { id, host }, req.id), req.microversion) };
        }
        if (b.remove_host) return { aggregate: aggregateView(await agg('remove-host', { id, host: b.remove_host.host }, req.id), req.microversion) };
        if (b.set_metadata) return { aggregate: aggregateView(await agg('set-metadata', { id, metadata: b.set_metadata.metadata }, req.id), req.microversion) };
        throw badRequest('Unknown aggregate action.');
      },
    },
  ];
}
