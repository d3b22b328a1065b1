/**
 * `POST /servers/{id}/action`: one action per request, named by the body's only key. The actions
 * the conductor drives (`os-stop`, `os-start`, `reboot`) go to the instance's actor, which applies
 * Nova's state guards (a wrong state is a 409 with Nova's message). Nova's other actions answer 501
 * (novact does not implement them yet); anything else is a 400 `There is no such action`.
 */
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notImplemented } from '../faults.js';
import { member } from '../policy.js';
import { param, type Route } from '../routes.js';
import { visibleServer } from './server-lookup.js';

interface ActionSpec {
  verb: string;
  /** The NATS body for the action's value; throws a 400 for a malformed one. */
  body: (value: unknown) => Record<string, unknown>;
}

const noArguments = (name: string) => (value: unknown): Record<string, unknown> => {
  if (value !== null && (typeof value !== 'object' || Array.isArray(value) || Object.keys(value as object).length > 0)) {
    throw badRequest(`Invalid input for field/attribute ${name}. Value: ${JSON.stringify(value)}. It takes no arguments.`);
  }
  return {};
};

const SUPPORTED: Record<string, ActionSpec> = {
  'os-stop': { verb: 'stop', body: noArguments('os-stop') },
  'os-start': { verb: 'start', body: noArguments('os-start') },
  reboot: {
    verb: 'reboot',
    body: (value) => {
      const o = value as { type?: unknown } | null;
      const type = typeof o === 'object' && o !== null && !Array.isArray(o) ? o.type : undefined;
      const extra = typeof o === 'object' && o !== null ? Object.keys(o).filter((k) => k !== 'type') : [];
      if (typeof type !== 'string' || !['HARD', 'SOFT'].includes(type.toUpperCase()) || extra.length > 0) {
        throw badRequest(`Invalid input for field/attribute reboot. Value: ${JSON.stringify(value)}. 'type' must be one of 'HARD', 'SOFT'.`);
      }
      return { type: type.toUpperCase() };
    },
  },
};

/** Nova's server actions novact does not implement (yet). */
const NOT_IMPLEMENTED = new Set([
  'pause', 'unpause', 'suspend', 'resume', 'resize', 'confirmResize', 'revertResize', 'migrate', 'os-migrateLive', 'evacuate',
  'rebuild', 'rescue', 'unrescue', 'shelve', 'shelveOffload', 'unshelve', 'createImage', 'createBackup', 'lock', 'unlock',
  'os-getConsoleOutput', 'os-resetState', 'forceDelete', 'restore', 'trigger_crash_dump', 'changePassword', 'addSecurityGroup',
  'removeSecurityGroup', 'os-getVNCConsole', 'os-getSPICEConsole', 'os-getSerialConsole', 'os-getRDPConsole', 'addFloatingIp',
  'removeFloatingIp', 'addFixedIp', 'removeFixedIp', 'os-resetNetwork', 'injectNetworkInfo',
]);

export function serverActionRoutes(d: ApiDeps): Route[] {
  return [
    {
      method: 'POST', url: '/v2.1/servers/:id/action', policy: member('os_compute_api:servers:action'),
      schema: { body: { type: 'object', minProperties: 1, maxProperties: 1 } },
      handler: async (req, reply) => {
        const [name, value] = Object.entries(req.body as Record<string, unknown>)[0]!;
        const spec = Object.hasOwn(SUPPORTED, name) ? SUPPORTED[name] : undefined;
        if (!spec) {
          if (NOT_IMPLEMENTED.has(name)) throw notImplemented(`The server action '${name}' is not implemented by novact.`);
          throw badRequest(`There is no such action: ${name}`);
        }
        const body = spec.body(value);
        const s = await visibleServer(d.backend, authOf(req), param(req, 'id'));
        await d.backend.serverVerb(s.id, spec.verb, body, req.id);
        return reply.code(202).send();
      },
    },
  ];
}
