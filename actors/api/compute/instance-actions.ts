/**
 * `GET /servers/{id}/os-instance-actions[/{request_id}]`: the server's action records (one per
 * user-visible operation, keyed by the request id the caller saw in `x-openstack-request-id`). The
 * conductor records an action's start and end rather than Nova's per-step events, so each action
 * shows one event spanning it. The list is bounded at the source (newest 1000; pages from 2.58).
 */
import { authOf, type AuthContext } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { notFound } from '../faults.js';
import { atLeast } from '../microversion.js';
import { reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { visibleFaultMessage } from './fault-text.js';
import { parseLimit } from './server-filters.js';
import { visibleServer } from './server-lookup.js';
import { hostId } from './server-views.js';

/** Nova prints action times as naive datetimes with microseconds. */
const actionTime = (iso: string | null) => (iso === null ? null : iso.replace(/\.(\d{3})Z$/, '.$1000'));

/** An action's error message is a fault's text: a non-admin gets it as a 500 fault's. */
const actionMessage = (auth: AuthContext, m: string | null) => (m === null ? null : visibleFaultMessage(auth, 500, m));

export function instanceActionRoutes(d: ApiDeps): Route[] {
  return [
    {
      method: 'GET', url: '/v2.1/servers/:id/os-instance-actions', policy: reader('os_compute_api:os-instance-actions:list'),
      handler: async (req) => {
        const auth = authOf(req);
        const s = await visibleServer(d.backend, auth, param(req, 'id'));
        // The newest 1000 at most (the conductor bounds it); from 2.58 the caller pages with limit and marker.
        const q: { limit?: number; marker?: string } = {};
        let limit: number | undefined;
        if (atLeast(req.microversion, 58)) {
          const p = query(req);
          limit = parseLimit(one(p.limit));
          if (limit !== undefined) q.limit = limit;
          const marker = one(p.marker);
          if (marker !== undefined) q.marker = marker;
        }
        const { actions } = await d.backend.serverActions(s.id, q);
        const out: Record<string, unknown> = {
          instanceActions: actions.map((a) => {
            const out: Record<string, unknown> = {
              action: a.action, instance_uuid: s.id, message: actionMessage(auth, a.message), project_id: a.projectId ?? s.projectId,
              request_id: a.requestId, start_time: actionTime(a.startTime), user_id: a.userId ?? s.userId,
            };
            if (atLeast(req.microversion, 58)) out.updated_at = actionTime(a.finishTime ?? a.startTime);
            return out;
          }),
        };
        const last = actions[actions.length - 1];
        if (limit !== undefined && last && actions.length >= limit) {
          out.links = [{ rel: 'next', href: `${d.links.compute}/servers/${s.id}/os-instance-actions?limit=${limit}&marker=${encodeURIComponent(last.requestId)}` }];
        }
        return out;
      },
    },
    {
      method: 'GET', url: '/v2.1/servers/:id/os-instance-actions/:request', policy: reader('os_compute_api:os-instance-actions:show'),
      handler: async (req) => {
        const auth = authOf(req);
        const s = await visibleServer(d.backend, auth, param(req, 'id'));
        const requestId = param(req, 'request');
        const a = (await d.backend.serverActions(s.id, { requestId, limit: 1 })).actions[0];
        if (!a) throw notFound(`Action ${requestId} on instance ${s.id} could not be found.`);
        const event: Record<string, unknown> = {
          event: `conductor_${a.action}`, start_time: actionTime(a.startTime), finish_time: actionTime(a.finishTime), result: a.result,
        };
        if (auth.isAdmin) event.traceback = null;
        if (atLeast(req.microversion, 62)) {
          event.hostId = hostId(s.projectId, s.host);
          if (auth.isAdmin) event.host = s.host;
        }
        if (atLeast(req.microversion, 84)) event.details = actionMessage(auth, a.message);
        const out: Record<string, unknown> = {
          action: a.action, instance_uuid: s.id, message: actionMessage(auth, a.message), project_id: a.projectId ?? s.projectId, request_id: a.requestId,
          start_time: actionTime(a.startTime), user_id: a.userId ?? s.userId, events: [event],
        };
        if (atLeast(req.microversion, 58)) out.updated_at = actionTime(a.finishTime ?? a.startTime);
        return { instanceAction: out };
      },
    },
  ];
}
