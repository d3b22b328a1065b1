/**
 * Hypervisors (`os-hypervisors`, admin): one per compute host, from the records the conductor keeps
 * of the hosts' reports. By microversion: UUID ids, `with_servers` and `hypervisor_hostname_pattern`
 * from 2.53, paging from 2.33, the usage statistics fields (and `/statistics`, `/{id}/uptime`) only
 * before 2.88 and `uptime` in the detail view from it, `cpu_info` an object from 2.28. The uptime is
 * the line of the host's last report (Nova, too, now keeps it from the periodic update), dated by
 * its own clock field.
 */
import type { FastifyRequest } from 'fastify';
import type { ServiceView } from '../backend.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound, notImplemented } from '../faults.js';
import { atLeast, type Microversion } from '../microversion.js';
import { admin } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { hostInt, hostUuid } from './host-ids.js';
import { parseLimit } from './server-filters.js';

function hypervisorId(h: ServiceView, mv: Microversion): string | number {
  return atLeast(mv, 53) ? hostUuid('hypervisor', h.host) : hostInt('hypervisor', h.host);
}

function brief(h: ServiceView, mv: Microversion): Record<string, unknown> {
  return { id: hypervisorId(h, mv), hypervisor_hostname: h.node, state: h.state, status: h.status };
}

function detail(h: ServiceView, mv: Microversion): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...brief(h, mv),
    host_ip: h.hostIp,
    hypervisor_type: h.hypervisorType,
    hypervisor_version: h.hypervisorVersion,
    service: { host: h.host, id: atLeast(mv, 53) ? hostUuid('service', h.host) : hostInt('service', h.host), disabled_reason: h.disabledReason },
  };
  if (atLeast(mv, 88)) {
    out.uptime = h.uptime;
  } else {
    Object.assign(out, {
      vcpus: h.vcpus, memory_mb: h.memoryMb, local_gb: h.localGb, vcpus_used: h.vcpusUsed, memory_mb_used: h.memoryMbUsed,
      local_gb_used: h.localGbUsed, free_ram_mb: h.memoryMb - h.memoryMbUsed, free_disk_gb: h.localGb - h.localGbUsed,
      current_workload: h.currentWorkload, running_vms: h.runningVms, disk_available_least: h.diskAvailableLeast,
      cpu_info: atLeast(mv, 28) ? { arch: h.cpuArch } : JSON.stringify({ arch: h.cpuArch }),
    });
  }
  return out;
}

/** oslo's `is_uuid_like`: 32 hex digits once `urn:`, `uuid:`, braces and dashes are stripped. */
const uuidLike = (s: string) => /^[0-9a-f]{32}$/i.test(s.replace('urn:', '').replace('uuid:', '').replace(/^\{+|\}+$/g, '').replace(/-/g, ''));

export function hypervisorRoutes(d: ApiDeps): Route[] {
  const { backend, links } = d;

  /** The hypervisor the path names: from 2.53 a UUID (else 400), before an integer (else 404), as Nova checks them. */
  const named = async (req: FastifyRequest): Promise<ServiceView> => {
    const mv = req.microversion;
    const id = param(req, 'id');
    const missing = () => notFound(`Hypervisor with ID '${id}' could not be found.`);
    if (atLeast(mv, 53) && !uuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
    if (!atLeast(mv, 53) && !/^\d+$/.test(id)) throw missing();
    const h = await backend.serviceById('hypervisor', id);
    if (!h || String(hypervisorId(h, mv)) !== id) throw missing();
    return h;
  };

  const withServersAsked = (req: FastifyRequest) =>
    atLeast(req.microversion, 53) && ['1', 'true', 'yes'].includes((one(query(req).with_servers) ?? '').toLowerCase());

  const listed = async (req: FastifyRequest, full: boolean) => {
    const mv = req.microversion;
    const p = query(req);
    const q: { nodeContains?: string; marker?: string } = {};
    const pattern = one(p.hypervisor_hostname_pattern);
    if (pattern !== undefined) {
      if (!atLeast(mv, 53)) throw badRequest('hypervisor_hostname_pattern needs microversion 2.53 or later.');
      q.nodeContains = pattern;
    }
    let limit: number | undefined;
    if (atLeast(mv, 33)) {
      limit = parseLimit(one(p.limit));
      const marker = one(p.marker);
      if (marker !== undefined) {
        const m = await backend.serviceById('hypervisor', marker);
        if (!m || String(hypervisorId(m, mv)) !== marker) throw badRequest(`marker [${marker}] not found`);
        q.marker = m.host;
      }
    }
    // Paged from the conductor, as many pages as this response needs.
    const all = await backend.services(q, limit);
    // One paged query for the servers of every host on this page, not one request per host (L9).
    const servers = withServersAsked(req) ? await backend.hostServers(all.map((h) => h.host)) : undefined;
    const views = all.map((h) => {
      const v = full ? detail(h, mv) : brief(h, mv);
      if (servers) v.servers = servers.get(h.host) ?? [];
      return v;
    });
    const out: Record<string, unknown> = { hypervisors: views };
    const last = all[all.length - 1];
    if (limit !== undefined && last && all.length >= limit) {
      out.hypervisors_links = [{ rel: 'next', href: `${links.compute}/os-hypervisors${full ? '/detail' : ''}?limit=${limit}&marker=${hypervisorId(last, mv)}` }];
    }
    return out;
  };

  return [
    { method: 'GET', url: '/v2.1/os-hypervisors', policy: admin('os_compute_api:os-hypervisors:list'), handler: (req) => listed(req, false) },
    { method: 'GET', url: '/v2.1/os-hypervisors/detail', policy: admin('os_compute_api:os-hypervisors:list-detail'), handler: (req) => listed(req, true) },
    {
      method: 'GET', url: '/v2.1/os-hypervisors/statistics', policy: admin('os_compute_api:os-hypervisors:statistics'),
      handler: async (req) => {
        if (atLeast(req.microversion, 88)) throw notFound('The resource could not be found.');
        const all = await backend.services();
        const sum = (f: (h: ServiceView) => number) => all.reduce((n, h) => n + f(h), 0);
        return {
          hypervisor_statistics: {
            count: all.length, vcpus: sum((h) => h.vcpus), memory_mb: sum((h) => h.memoryMb), local_gb: sum((h) => h.localGb),
            vcpus_used: sum((h) => h.vcpusUsed), memory_mb_used: sum((h) => h.memoryMbUsed), local_gb_used: sum((h) => h.localGbUsed),
            free_ram_mb: sum((h) => h.memoryMb - h.memoryMbUsed), free_disk_gb: sum((h) => h.localGb - h.localGbUsed),
            // Nova's SQL sums: a host whose driver cannot tell adds nothing.
            current_workload: sum((h) => h.currentWorkload), running_vms: sum((h) => h.runningVms), disk_available_least: sum((h) => h.diskAvailableLeast ?? 0),
          },
        };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-hypervisors/:id', policy: admin('os_compute_api:os-hypervisors:show'),
      handler: async (req) => {
        const h = await named(req);
        const v = detail(h, req.microversion);
        if (withServersAsked(req)) v.servers = (await backend.hostServers([h.host])).get(h.host) ?? [];
        return { hypervisor: v };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-hypervisors/:id/uptime', policy: admin('os_compute_api:os-hypervisors:uptime'),
      handler: async (req) => {
        const mv = req.microversion;
        if (atLeast(mv, 88)) throw notFound('The resource could not be found.');
        const h = await named(req);
        // Nova asks only a host that is up, and a driver that cannot tell answers NotImplemented.
        if (h.state === 'down') throw badRequest(`Compute service of ${h.host} is unavailable at this time.`);
        if (h.uptime === null) throw notImplemented('The requested functionality is not supported.');
        return { hypervisor: { ...brief(h, mv), uptime: h.uptime } };
      },
    },
  ];
}
