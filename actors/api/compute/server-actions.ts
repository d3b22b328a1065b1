/**
 * `POST /servers/{id}/action`: one action per request, named by the body's only key. Which
 * actions exist, their bodies, microversions, admin rule and status codes come from the
 * lifecycle's action table; the instance's actor applies Nova's guards (a wrong state is a 409
 * with Nova's message). Nova's actions outside the table answer 501; anything else is a 400.
 */
import { ACTIONS, NOVA_SERVER_ACTIONS, actionOfApi, type ActionName } from '../../../protocols/lifecycle.js';
import { InstanceActionDefs } from '../../../protocols/catalog/instance.js';
import { firstError } from '../../../protocols/catalog/define.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden, notImplemented } from '../faults.js';
import { atLeast } from '../microversion.js';
import { member } from '../policy.js';
import { param, type Route } from '../routes.js';
import { visibleServer } from './server-lookup.js';
import { ACTION_HOOKS } from './server-action-hooks.js';
import { moveActions } from './move-actions.js';
import { NETWORK_ACTIONS } from './server-networking.js';

const NOT_IMPLEMENTED = new Set(NOVA_SERVER_ACTIONS.filter((a) => actionOfApi(a) === undefined && !(a in NETWORK_ACTIONS)));

/** The action's value, checked against its row's schema (reboot's type is upper-cased, as Nova does). */
function argsOf(name: ActionName, api: string, value: unknown): unknown {
  const def = InstanceActionDefs[name];
  if (!def.checkBody.Check({ args: value })) {
    throw badRequest(`Invalid input for field/attribute ${api}. Value: ${JSON.stringify(value)}. ${firstError(def.checkBody, { args: value })}`);
  }
  if (name === 'reboot') return { type: (value as { type: string }).type.toUpperCase() };
  return value;
}

export function serverActionRoutes(d: ApiDeps): Route[] {
  const moves = moveActions(d);
  return [
    {
      method: 'POST', url: '/v2.1/servers/:id/action', policy: member('os_compute_api:servers:action'),
      schema: { body: { type: 'object', minProperties: 1, maxProperties: 1 } },
      handler: async (req, reply) => {
        const [api, value] = Object.entries(req.body as Record<string, unknown>)[0]!;
        const net = NETWORK_ACTIONS[api];
        if (net && (net.maxVersion === undefined || !atLeast(req.microversion, net.maxVersion + 1))) {
          const s = await visibleServer(d.backend, authOf(req), param(req, 'id'));
          return net.run(d, req, reply, s.id, value);
        }
        const name = actionOfApi(api);
        const spec = name ? ACTIONS[name] : undefined;
        if (!name || !spec || (spec.minVersion !== undefined && !atLeast(req.microversion, spec.minVersion))) {
          if (NOT_IMPLEMENTED.has(api)) throw notImplemented(`The server action '${api}' is not implemented by novact.`);
          throw badRequest(`There is no such action: ${api}`);
        }
        const hook = ACTION_HOOKS[name];
        hook?.check?.(req, value);
        let args = argsOf(name, api, value);
        const needs = 'argsMinVersion' in spec ? spec.argsMinVersion?.(args as never) : undefined;
        if (needs !== undefined && !atLeast(req.microversion, needs)) {
          throw badRequest(`Invalid input for field/attribute ${api}. Value: ${JSON.stringify(value)}. Additional properties are not allowed`);
        }
        const auth = authOf(req);
        const s = await visibleServer(d.backend, auth, param(req, 'id'));
        if ('admin' in spec && spec.admin && !auth.isAdmin) throw forbidden(`Policy doesn't allow os_compute_api:${api} to be performed.`);
        // The image quotas are the API's (it enforces them for uploads too): what a snapshot creates counts against them.
        const limits = { images: d.imageQuotas.imageCountTotal, imageBytes: d.imageQuotas.userStorageQuotaBytes };
        const by = { userId: auth.userId, projectId: auth.projectId, admin: auth.isAdmin, limits };
        // Actions whose body and answer change with the microversion (live migrate, evacuate).
        const move = moves[name] ? await moves[name].prepare((value ?? {}) as Record<string, unknown>, req.microversion, s) : undefined;
        if (move) args = move.args;
        if (hook?.prepare) args = await hook.prepare(d, req, s, args as Record<string, unknown> | null);
        const answer = await d.backend.serverCall(s.id, name, { args, by }, req.id);
        if (hook?.reply) return reply.code(spec.status).send(await hook.reply(d, req, answer, args as Record<string, unknown> | null));
        if (move?.body !== undefined) return reply.code(spec.status).send(move.body);
        const out = spec.respond?.(answer.result ?? {}, args as never, {
          atLeast: (minor) => atLeast(req.microversion, minor),
          imageUrl: (id) => `${d.links.compute}/images/${id}`,
        });
        if (out?.headers) reply.headers(out.headers);
        return out?.body === undefined ? reply.code(spec.status).send() : reply.code(spec.status).send(out.body);
      },
    },
  ];
}
