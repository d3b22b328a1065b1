/**
 * A server's addresses on their own (`GET /servers/{id}/ips[/{network_label}]`): Nova's `ips`
 * resource, the `addresses` of the server view with only `version` and `addr` per address (the
 * `OS-EXT-IPS*` keys are the detail view's). A network the server has no NIC on is a 404.
 */
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { notFound } from '../faults.js';
import { reader } from '../policy.js';
import { param, type Route } from '../routes.js';
import { visibleServer } from './server-lookup.js';

type Address = { version: number; addr: string };

export function serverIpRoutes(d: ApiDeps): Route[] {
  const { backend } = d;
  const addresses = async (id: string): Promise<Record<string, Address[]>> => {
    const out: Record<string, Address[]> = {};
    for (const n of (await backend.nics([id]))[id] ?? []) {
      const list = (out[n.networkName] ??= []);
      for (const f of n.fixedIps) list.push({ version: f.version, addr: f.address });
      for (const a of n.floatingIps) list.push({ version: 4, addr: a });
    }
    return out;
  };
  return [
    {
      method: 'GET', url: '/v2.1/servers/:id/ips', policy: reader('os_compute_api:ips:index'),
      handler: async (req) => {
        const s = await visibleServer(backend, authOf(req), param(req, 'id'));
        return { addresses: await addresses(s.id) };
      },
    },
    {
      method: 'GET', url: '/v2.1/servers/:id/ips/:network', policy: reader('os_compute_api:ips:show'),
      handler: async (req) => {
        const s = await visibleServer(backend, authOf(req), param(req, 'id'));
        const label = param(req, 'network');
        const all = await addresses(s.id);
        if (!Object.hasOwn(all, label)) throw notFound('Instance is not a member of specified network');
        return { [label]: all[label] };
      },
    },
  ];
}
