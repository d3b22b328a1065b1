/**
 * `POST /os-server-external-events` (admin; in a cloud, Neutron and Cinder call it): events about
 * servers, each answered on its own with Nova's codes: 200 accepted, 404 no such server, 422 a
 * server not yet on a host (or a `power-update` whose tag is neither POWER_ON nor POWER_OFF); the
 * reply is 200 when all were accepted, 207 when some were, 404 when none was. Accepting is all there
 * is to do here: Nova refreshes a cached copy of the server's network on `network-changed` and
 * wakes a waiting spawn on `network-vif-plugged`, but novact reads ports from the network role on
 * every view and binds them itself, and it has no volumes or accelerators to wait for.
 */
import type { FastifyReply } from 'fastify';
import { NotFoundError } from '../../../protocols/errors.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import { atLeast, type Microversion } from '../microversion.js';
import { admin } from '../policy.js';
import type { Route } from '../routes.js';

/** Event names by the microversion that brought them. */
const NAMES: readonly [string, number][] = [
  ['network-changed', 1], ['network-vif-plugged', 1], ['network-vif-unplugged', 1], ['network-vif-deleted', 1],
  ['volume-extended', 51], ['power-update', 76], ['accelerator-request-bound', 82], ['volume-reimaged', 93],
];
const POWER_TAGS = new Set(['POWER_ON', 'POWER_OFF']);
const MAX_EVENTS = 1000;

const SCHEMA = {
  type: 'object', required: ['events'],
  properties: {
    events: {
      type: 'array', minItems: 1, maxItems: MAX_EVENTS,
      items: {
        type: 'object', required: ['server_uuid', 'name'],
        properties: {
          server_uuid: { type: 'string', format: 'uuid' },
          name: { type: 'string', enum: NAMES.map(([n]) => n) },
          status: { type: 'string', enum: ['failed', 'completed', 'in-progress'] },
          tag: { type: 'string', maxLength: 255 },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
} as const;

interface ExternalEvent {
  server_uuid: string;
  name: string;
  status?: string;
  tag?: string;
}

function refuseNewerNames(events: ExternalEvent[], mv: Microversion): void {
  for (const e of events) {
    const since = NAMES.find(([n]) => n === e.name)![1];
    if (!atLeast(mv, since)) throw badRequest(`Invalid input for field/attribute name. Value: ${e.name}. '${e.name}' is not one of the event names of this microversion`);
  }
}

export function externalEventRoutes(d: ApiDeps): Route[] {
  const hostOf = async (id: string): Promise<string | null | undefined> => {
    try {
      return (await d.backend.server(id.toLowerCase())).host;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  };
  return [
    {
      method: 'POST', url: '/v2.1/os-server-external-events', policy: admin('os_compute_api:os-server-external-events:create'), schema: { body: SCHEMA },
      handler: async (req, reply: FastifyReply) => {
        const events = (req.body as { events: ExternalEvent[] }).events;
        refuseNewerNames(events, req.microversion);
        const hosts = new Map<string, string | null | undefined>();
        for (const id of new Set(events.map((e) => e.server_uuid.toLowerCase()))) hosts.set(id, await hostOf(id));
        const answered = events.map((e) => {
          const host = hosts.get(e.server_uuid.toLowerCase());
          const code = host === undefined ? 404 : host === null || (e.name === 'power-update' && !POWER_TAGS.has(e.tag ?? '')) ? 422 : 200;
          return { ...e, status: code === 200 ? e.status ?? 'completed' : 'failed', code };
        });
        const accepted = answered.filter((e) => e.code === 200).length;
        if (accepted === 0) throw notFound('No instances found for any event');
        reply.code(accepted === answered.length ? 200 : 207);
        return { events: answered };
      },
    },
  ];
}
