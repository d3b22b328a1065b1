/**
 * Compute services (`os-services`, admin): one `nova-compute` per host, with Nova's up/down state
 * (heard from within the service-down time, not forced down) and the operator's switches. From 2.53
 * services are addressed by UUID (`PUT /os-services/{id}`); before, by host and binary
 * (`PUT /os-services/disable|enable|disable-log-reason|force-down`). `forced_down` appears from 2.11.
 * `DELETE /os-services/{id}` is Nova's: 204, or 409 while the host has instances.
 */
import type { FastifyRequest } from 'fastify';
import type { ServiceView } from '../backend.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import { atLeast, type Microversion } from '../microversion.js';
import { admin } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { hostInt, hostUuid } from './host-ids.js';
import { zonesOfHosts } from './zones-of.js';

const BINARY = 'nova-compute';

/** Services report `updated_at` as a naive datetime with microseconds. */
const serviceTime = (iso: string) => iso.replace(/\.(\d{3})Z$/, '.$1000').replace(/Z$/, '');

function serviceView(s: ServiceView, zone: string, mv: Microversion): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: atLeast(mv, 53) ? hostUuid('service', s.host) : hostInt('service', s.host),
    binary: BINARY, host: s.host, zone, status: s.status, state: s.state, updated_at: serviceTime(s.lastSeenAt), disabled_reason: s.disabledReason,
  };
  if (atLeast(mv, 11)) out.forced_down = s.forcedDown;
  return out;
}

const UPDATE_SCHEMA = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['enabled', 'disabled'] },
    disabled_reason: { type: 'string', minLength: 1, maxLength: 255 },
    forced_down: { type: ['boolean', 'string'] },
  },
  additionalProperties: false,
} as const;
const LEGACY_SCHEMA = {
  type: 'object', required: ['host', 'binary'],
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 255 }, binary: { type: 'string', minLength: 1, maxLength: 255 },
    disabled_reason: { type: 'string', minLength: 1, maxLength: 255 }, forced_down: { type: ['boolean', 'string'] },
  },
  additionalProperties: false,
} as const;

const bool = (v: unknown) => v === true || (typeof v === 'string' && ['true', '1', 'yes', 'on'].includes(v.toLowerCase()));

export function serviceRoutes(d: ApiDeps): Route[] {
  const { backend } = d;

  const byId = async (id: string): Promise<ServiceView> => {
    const s = await backend.serviceById('service', id);
    if (!s) throw notFound(`Service ${id} could not be found.`);
    return s;
  };
  const viewOf = async (s: ServiceView, mv: Microversion) => serviceView(s, (await zonesOfHosts(backend)).zoneOf(s.host), mv);

  const legacy = (action: 'disable' | 'enable' | 'disable-log-reason' | 'force-down'): Route => ({
    method: 'PUT', url: `/v2.1/os-services/${action}`, policy: admin('os_compute_api:os-services:update'), schema: { body: LEGACY_SCHEMA },
    handler: async (req) => {
      if (atLeast(req.microversion, 53)) throw notFound('The resource could not be found.');
      const b = req.body as { host: string; binary: string; disabled_reason?: string; forced_down?: unknown };
      if (b.binary !== BINARY) throw notFound(`Service ${b.host}/${b.binary} could not be found.`);
      if (action === 'force-down' && !atLeast(req.microversion, 11)) throw notFound('The resource could not be found.');
      const change: Parameters<typeof backend.updateService>[0] = { host: b.host };
      if (action === 'disable') change.disabled = true;
      if (action === 'enable') change.disabled = false;
      if (action === 'disable-log-reason') {
        if (b.disabled_reason === undefined) throw badRequest('Missing disabled reason field');
        Object.assign(change, { disabled: true, disabledReason: b.disabled_reason });
      }
      if (action === 'force-down') {
        if (b.forced_down === undefined) throw badRequest('Missing forced_down field');
        change.forcedDown = bool(b.forced_down);
      }
      const s = await backend.updateService(change, req.id);
      const out: Record<string, unknown> = { host: s.host, binary: BINARY };
      if (action === 'force-down') out.forced_down = s.forcedDown;
      else out.status = s.status;
      if (action === 'disable-log-reason') out.disabled_reason = s.disabledReason;
      return { service: out };
    },
  });

  return [
    {
      method: 'GET', url: '/v2.1/os-services', policy: admin('os_compute_api:os-services:list'),
      handler: async (req: FastifyRequest) => {
        const p = query(req);
        const host = one(p.host);
        const binary = one(p.binary);
        if (binary !== undefined && binary !== BINARY) return { services: [] };
        // Paged from the conductor (a fleet's records are far over one NATS reply).
        const [services, { zoneOf }] = await Promise.all([backend.services(host === undefined ? {} : { host }), zonesOfHosts(backend)]);
        return { services: services.map((s) => serviceView(s, zoneOf(s.host), req.microversion)) };
      },
    },
    legacy('disable'),
    legacy('enable'),
    legacy('disable-log-reason'),
    legacy('force-down'),
    {
      method: 'PUT', url: '/v2.1/os-services/:id', policy: admin('os_compute_api:os-services:update'), schema: { body: UPDATE_SCHEMA },
      handler: async (req) => {
        if (!atLeast(req.microversion, 53)) throw notFound('The resource could not be found.');
        const b = req.body as { status?: 'enabled' | 'disabled'; disabled_reason?: string; forced_down?: unknown };
        if (b.status === undefined && b.forced_down === undefined) throw badRequest('At least one of status or forced_down must be specified.');
        if (b.disabled_reason !== undefined && b.status !== 'disabled') throw badRequest('Specifying a disabled reason is only allowed with status disabled.');
        const s = await byId(param(req, 'id'));
        const change: Parameters<typeof backend.updateService>[0] = { host: s.host };
        if (b.status !== undefined) change.disabled = b.status === 'disabled';
        if (b.disabled_reason !== undefined) change.disabledReason = b.disabled_reason;
        if (b.forced_down !== undefined) change.forcedDown = bool(b.forced_down);
        return { service: await viewOf(await backend.updateService(change, req.id), req.microversion) };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/os-services/:id', policy: admin('os_compute_api:os-services:delete'),
      handler: async (req, reply) => {
        // Ids are UUIDs from 2.53 and integers before; the conductor resolves either.
        const id = param(req, 'id');
        const s = await backend.serviceById('service', id);
        if (!s || (atLeast(req.microversion, 53) ? !/^[0-9a-f-]{36}$/i.test(id) : !/^\d+$/.test(id))) throw notFound(`Service ${id} could not be found.`);
        // 409 while the host has instances; the host's record, ledger inventory and scheduler state go.
        await backend.deleteService(s.host, req.id);
        return reply.code(204).send();
      },
    },
  ];
}
