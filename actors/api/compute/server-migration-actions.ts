/**
 * A running live migration's own actions (nova/api/openstack/compute/server_migrations.py):
 * `POST /servers/{id}/migrations/{mid}/action {"force_complete": null}` (2.22, 202) and
 * `DELETE /servers/{id}/migrations/{mid}` (abort, 2.24, 202; queued and preparing ones from 2.65).
 * The route finds the record (Nova's integer id) and hands its uuid to the instance's verb; the
 * lifecycle judges the state (409) and the migration's phase (400).
 */
import type { MigrationView } from '../../../protocols/catalog/migrations.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import { atLeast } from '../microversion.js';
import { admin } from '../policy.js';
import { param, type Route } from '../routes.js';
import { visibleServer } from './server-lookup.js';

function migrationId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw badRequest(`Invalid migration id ${raw}.`);
  return Number(raw);
}

export function serverMigrationActionRoutes(d: ApiDeps): Route[] {
  /** The server's migration `mid`, or `missing(message)` (Nova: 400 for force-complete, 404 for abort). */
  const find = async (serverId: string, raw: string, missing: (m: string) => Error): Promise<MigrationView> => {
    const id = migrationId(raw);
    return d.backend.migration(id, serverId).catch((err: { code?: number }) => {
      if (err.code === 404) throw missing(`Instance ${serverId} has no migration ${id}.`);
      throw err;
    });
  };
  return [
    {
      method: 'POST', url: '/v2.1/servers/:id/migrations/:mid/action', policy: admin('os_compute_api:servers:migrations:force_complete'),
      schema: { body: { type: 'object', minProperties: 1, maxProperties: 1 } },
      handler: async (req, reply) => {
        if (!atLeast(req.microversion, 22)) throw notFound();
        const body = req.body as Record<string, unknown>;
        if (!('force_complete' in body)) throw badRequest(`There is no such action: ${Object.keys(body)[0]}`);
        if (body.force_complete !== null) throw badRequest(`Invalid input for field/attribute force_complete. Value: ${JSON.stringify(body.force_complete)}. None is not of type 'null'`);
        const auth = authOf(req);
        const s = await visibleServer(d.backend, auth, param(req, 'id'));
        const m = await find(s.id, param(req, 'mid'), badRequest);
        const by = { userId: auth.userId, projectId: auth.projectId, admin: auth.isAdmin };
        await d.backend.serverVerb(s.id, 'liveMigrationForceComplete', { args: { migration: m.uuid }, by }, req.id);
        return reply.code(202).send();
      },
    },
    {
      method: 'DELETE', url: '/v2.1/servers/:id/migrations/:mid', policy: admin('os_compute_api:servers:migrations:delete'),
      handler: async (req, reply) => {
        if (!atLeast(req.microversion, 24)) throw notFound();
        const auth = authOf(req);
        const s = await visibleServer(d.backend, auth, param(req, 'id'));
        const m = await find(s.id, param(req, 'mid'), notFound);
        const by = { userId: auth.userId, projectId: auth.projectId, admin: auth.isAdmin };
        const args = { migration: m.uuid, ...(atLeast(req.microversion, 65) ? { queued: true } : {}) };
        await d.backend.serverVerb(s.id, 'liveMigrationAbort', { args, by }, req.id);
        return reply.code(202).send();
      },
    },
  ];
}
