/**
 * `GET /servers/{id}/diagnostics`: the guest's diagnostics as its host reports them (Nova's 2.48
 * shape, whatever the microversion; admin-only, as Nova's default policy). The instance answers it
 * as the `diagnostics` query action: 409 when the guest has no host or is not running.
 */
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { admin } from '../policy.js';
import { param, type Route } from '../routes.js';
import { visibleServer } from './server-lookup.js';

export function serverDiagnosticsRoutes(d: ApiDeps): Route[] {
  return [
    {
      method: 'GET', url: '/v2.1/servers/:id/diagnostics', policy: admin('os_compute_api:os-server-diagnostics'),
      handler: async (req) => {
        const auth = authOf(req);
        const s = await visibleServer(d.backend, auth, param(req, 'id'));
        const by = { userId: auth.userId, projectId: auth.projectId, admin: auth.isAdmin };
        const answer = await d.backend.serverCall(s.id, 'diagnostics', { by }, req.id);
        return (answer.result as { diagnostics?: unknown } | undefined)?.diagnostics ?? {};
      },
    },
  ];
}
