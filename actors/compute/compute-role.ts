/**
 * The compute role: any number of host actors in one process (one for a real hypervisor, thousands
 * of fake ones in a simulation). One shared ticker drives every host's heartbeat and periodic
 * capacity report, instead of a timer per host.
 */
import type { HypervisorDriver } from '../../hosts/driver.js';
import type { Timer } from '../../runtime/clock.js';
import { isMutatingVerb } from '../../runtime/nats/bridge.js';
import type { Role, RoleContext } from '../../runtime/role.js';
import { spawnHostActor, type HostMsg } from './host-actor.js';
import type { ActorRef } from '../../runtime/actors/system.js';

export interface ComputeHost {
  name: string;
  driver: HypervisorDriver;
  availabilityZone?: string | null;
}

export interface ComputeConfig {
  /** Capacity reports besides the ones sent right after a change (Nova: update_resources_interval). */
  reportIntervalMs: number;
  /** Liveness (Nova: report_interval, 10 s). */
  heartbeatIntervalMs: number;
}

export const DEFAULT_COMPUTE_CONFIG: ComputeConfig = { reportIntervalMs: 60_000, heartbeatIntervalMs: 10_000 };

export interface ComputeRole extends Role {
  readonly hosts: ReadonlyMap<string, { driver: HypervisorDriver; actor: ActorRef<HostMsg> }>;
}

export async function startComputeRole(ctx: RoleContext, hosts: ComputeHost[], cfg: ComputeConfig = DEFAULT_COMPUTE_CONFIG): Promise<ComputeRole> {
  const byName = new Map<string, { driver: HypervisorDriver; actor: ActorRef<HostMsg> }>();
  for (const h of hosts) {
    if (byName.has(h.name)) throw new Error(`duplicate host name ${h.name}`);
    const actor = spawnHostActor(ctx, { host: h.name, driver: h.driver, availabilityZone: h.availabilityZone ?? null });
    byName.set(h.name, { driver: h.driver, actor });
  }
  const svc = await ctx.bridge.addService('novact-compute', 'host actors wrapping hypervisor drivers', () => ({
    hosts: byName.size,
    restarts: ctx.actors.stats.restarts,
    lastError: ctx.actors.stats.lastError,
  }));
  // Lists this process's hosts; each compute process answers (no queue group), `nats req` takes the first.
  ctx.bridge.endpoint(svc, 'hosts', `${ctx.subjects.root}.compute.hosts`, () => ({ hosts: [...byName.keys()] }), { isMutating: isMutatingVerb });

  const tell = (m: HostMsg) => {
    for (const { actor } of byName.values()) actor.tell(m);
  };
  await ctx.bridge.nc.flush();
  tell({ kind: 'report' });
  tell({ kind: 'heartbeat' });
  const timers: Timer[] = [
    ctx.clock.setInterval(() => tell({ kind: 'report' }), cfg.reportIntervalMs),
    ctx.clock.setInterval(() => tell({ kind: 'heartbeat' }), cfg.heartbeatIntervalMs),
  ];

  return {
    name: 'compute',
    hosts: byName,
    async stop() {
      for (const t of timers) t.cancel();
      for (const { actor, driver } of byName.values()) {
        actor.stop();
        await driver.close();
      }
    },
  };
}
