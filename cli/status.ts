/**
 * `novact status`: the cluster at a glance, as an operator asks it (the `client` user). Roles and
 * their replicas from every NATS micro service that answers `$SRV.STATS` (health, requests and
 * errors, where each runs); hosts up/down, instances by state, builds, reschedules and the newest
 * instance faults from the conductor's `status` verb; and role-level faults (a replica not ok, an
 * actor's last crash). Exit 1 when a replica is unhealthy or the conductor does not answer.
 */
import type { StatusReply } from '../protocols/catalog/conductor.js';
import { NovactClient, type ServiceReplica } from '../cluster/client.js';
import { connectTo, resolveTarget } from './commands.js';
import * as fmt from './format.js';
import type { CommandSpec, RunContext } from './usage.js';

/** Roles every cluster runs somewhere; shown with 0 replicas when none answers. */
const CORE_ROLES = ['conductor', 'scheduler', 'compute', 'image', 'network', 'api'];

export interface Replica {
  role: string;
  id: string;
  hostname: string | null;
  pid: string | null;
  started: string;
  health: string;
  requests: number;
  errors: number;
  lastError: string | null;
  restarts: number | null;
}

export interface StatusSummary {
  roles: { role: string; replicas: number; health: string; requests: number; errors: number }[];
  replicas: Replica[];
  /** null when the conductor did not answer (its reason in `conductorError`). */
  cluster: StatusReply | null;
  conductorError?: string;
}

const HEALTH_ORDER = ['ok', 'degraded', 'unhealthy'];
const worst = (a: string, b: string) => (HEALTH_ORDER.indexOf(b) > HEALTH_ORDER.indexOf(a) ? b : a);

export function replicaOf(s: ServiceReplica): Replica {
  const data = (s.endpoints[0]?.data ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    role: s.metadata?.role ?? s.name.replace(/^novact-/, ''),
    id: s.id,
    hostname: s.metadata?.hostname ?? null,
    pid: s.metadata?.pid ?? null,
    started: s.started,
    // A replica that answers and reports no health of its own is serving.
    health: str(data.health) ?? 'ok',
    requests: s.endpoints.reduce((n, e) => n + e.num_requests, 0),
    errors: s.endpoints.reduce((n, e) => n + e.num_errors, 0),
    lastError: str(data.lastError),
    restarts: typeof data.restarts === 'number' ? data.restarts : null,
  };
}

export function summarise(services: ServiceReplica[], cluster: StatusReply | null, conductorError?: string): StatusSummary {
  const replicas = services.map(replicaOf);
  const names = [...new Set([...CORE_ROLES, ...replicas.map((r) => r.role)])];
  const roles = names.map((role) => {
    const mine = replicas.filter((r) => r.role === role);
    return {
      role,
      replicas: mine.length,
      health: mine.length === 0 ? 'absent' : mine.map((r) => r.health).reduce(worst, 'ok'),
      requests: mine.reduce((n, r) => n + r.requests, 0),
      errors: mine.reduce((n, r) => n + r.errors, 0),
    };
  });
  return { roles, replicas, cluster, ...(conductorError !== undefined ? { conductorError } : {}) };
}

export function statusText(s: StatusSummary): string {
  const out: string[] = [];
  out.push('roles:', fmt.table(['Role', 'Replicas', 'Health', 'Requests', 'Errors'], s.roles.map((r) => [r.role, r.replicas, r.health, r.requests, r.errors])));
  out.push('replicas:', fmt.table(['Role', 'Service ID', 'Host', 'PID', 'Started', 'Health'], s.replicas.map((r) => [r.role, r.id, r.hostname, r.pid, r.started, r.health])));
  const c = s.cluster;
  if (!c) {
    out.push(`conductor: no answer (${s.conductorError ?? 'unknown'}): hosts and instances unknown`, '');
  } else {
    const h = c.hosts;
    out.push(`hosts: ${h.total} (${h.up} up, ${h.down} down; ${h.disabled} disabled, ${h.forcedDown} forced down)`, '');
    const states = c.instances.filter((i) => i.count > 0).sort((a, b) => a.vmState.localeCompare(b.vmState) || (a.taskState ?? '').localeCompare(b.taskState ?? ''));
    out.push(`instances: ${states.reduce((n, i) => n + i.count, 0)}`, fmt.table(['VM State', 'Task State', 'Count'], states.map((i) => [i.vmState, i.taskState ?? '-', i.count])));
    const builds = Object.entries(c.builds).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
    out.push(`builds since the conductor started: ${builds}; reschedules: ${c.reschedules}`, '');
    out.push('recent faults:', c.recentFaults.length === 0 ? '  none\n' : fmt.table(['Time', 'Instance', 'VM State', 'Code', 'Message'], c.recentFaults.map((f) => [f.at, f.uuid, f.vmState, f.code, f.message])));
  }
  const roleFaults = s.replicas.filter((r) => r.health !== 'ok' || r.lastError !== null);
  out.push('role faults:', roleFaults.length === 0 ? '  none\n' : fmt.table(['Role', 'Service ID', 'Health', 'Last Error'], roleFaults.map((r) => [r.role, r.id, r.health, r.lastError])));
  return out.join('\n');
}

export const STATUS_COMMAND: CommandSpec = {
  path: ['status'],
  args: [],
  options: ['nats-url', 'subject-root'],
  synopsis: '',
  summary: 'summarise the cluster: roles and replicas, hosts up/down, instances by state, recent faults',
  async run(ctx: RunContext): Promise<number> {
    const target = resolveTarget(ctx);
    const nc = await connectTo(target);
    try {
      const client = new NovactClient(nc, { subjectRoot: target.subjectRoot });
      const [services, conductor] = await Promise.all([
        client.services(),
        client.clusterStatus().then((c) => ({ c }), (err: unknown) => ({ err: err instanceof Error ? err.message : String(err) })),
      ]);
      const s = 'c' in conductor ? summarise(services, conductor.c) : summarise(services, null, conductor.err);
      ctx.out.write(ctx.values.json ? fmt.json(s) : statusText(s));
      return s.cluster === null || s.replicas.some((r) => r.health === 'unhealthy') ? 1 : 0;
    } finally {
      await nc.close().catch(() => undefined);
    }
  },
};
