/**
 * Host liveness at fleet size (issue 13, part 2): H fake hosts in a compute process of their own
 * heartbeat every second (fast liveness: down after 3 s, 2.5 s lease); this process runs the
 * scheduler alone (with the embedded NATS and PostgreSQL), so its CPU is the scheduler's. After a
 * steady window the compute process is killed (SIGKILL: no goodbye), and the time until the
 * scheduler declares each host down is measured from the kill.
 *
 * Prints one JSON line: heartbeats and lease replies per second at the scheduler, CPU seconds per
 * second of the scheduler process, the compute process and nats-server during the window, and the
 * detection time (kill → host-down, and last heartbeat heard → host-down) as percentiles.
 * `--fence off` sends fire-and-forget heartbeats (no lease), the cost of the lease's replies.
 */
import { fakeHostNames, startCluster } from '../cluster/cluster.js';
import { FAST_LIVENESS, type FenceAction } from '../protocols/liveness.js';
import { percentiles } from './percentiles.js';
import { nodeCpuSeconds, procCpuSeconds, progress } from './reports.js';
import { RoleProcess } from './role-process-handle.js';

export interface LivenessBenchOptions {
  hosts: number;
  seconds: number;
  fence: FenceAction;
}

const round = (x: number, d = 100) => Math.round(x * d) / d;

export async function livenessBench(o: LivenessBenchOptions): Promise<Record<string, unknown>> {
  const cluster = await startCluster({ roles: ['scheduler'], logLevel: 'error', liveness: { preset: 'fast' }, metrics: { enabled: false } });
  let child: RoleProcess | undefined;
  try {
    const scheduler = cluster.scheduler!;
    const compute = { heartbeatIntervalMs: FAST_LIVENESS.heartbeatMs, reportIntervalMs: 60_000, fence: o.fence };
    child = await RoleProcess.start({ ...(await cluster.join(['compute'], fakeHostNames(o.hosts))), roles: ['compute'], hosts: o.hosts, compute, metrics: false });
    await cluster.waitForHosts(o.hosts, 600_000);
    progress('all hosts up', { hosts: o.hosts });
    const natsPid = cluster.embedded.nats?.pid;
    const stats = scheduler.liveness;
    const before = { node: nodeCpuSeconds(), child: procCpuSeconds(child.pid), nats: natsPid ? procCpuSeconds(natsPid) : 0, hb: stats.heartbeats, grants: stats.grants, down: stats.down, t: performance.now() };
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    const secs = (performance.now() - before.t) / 1000;
    const steady = {
      heartbeatsPerSecond: round((stats.heartbeats - before.hb) / secs, 1),
      leaseRepliesPerSecond: round((stats.grants - before.grants) / secs, 1),
      schedulerCpuPerSecond: round((nodeCpuSeconds() - before.node) / secs, 1000),
      computeCpuPerSecond: round((procCpuSeconds(child.pid) - before.child) / secs, 1000),
      natsServerCpuPerSecond: natsPid ? round((procCpuSeconds(natsPid) - before.nats) / secs, 1000) : null,
      // Hosts declared down while every one of them was alive: during start-up, and in the window.
      falseDownsAtStartup: before.down,
      falseDownsInWindow: stats.down - before.down,
    };
    progress('steady window done', steady);

    const sinceKill: number[] = [];
    const sinceLastHeard: number[] = [];
    const allDown = new Promise<void>((resolve) => {
      scheduler.events.on('host-down', (_host: string, e: { lastSeenAt: number; at: number }) => {
        sinceKill.push(e.at - killedAt);
        sinceLastHeard.push(e.at - e.lastSeenAt);
        if (sinceKill.length === o.hosts) resolve();
      });
    });
    const killedAt = Date.now();
    child.child.kill('SIGKILL');
    const gaveUp = await Promise.race([allDown.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 60_000))]);
    return {
      bench: 'liveness',
      hosts: o.hosts,
      fence: o.fence,
      timings: { heartbeatMs: FAST_LIVENESS.heartbeatMs, downAfterMs: FAST_LIVENESS.downAfterMs, leaseMs: FAST_LIVENESS.leaseMs },
      steadySeconds: round(secs, 10),
      ...steady,
      detection: {
        hostsDown: sinceKill.length,
        gaveUp,
        fromKillMs: percentiles(sinceKill, [50, 95, 99, 100]),
        fromLastHeartbeatMs: percentiles(sinceLastHeard, [50, 95, 99, 100]),
      },
    };
  } finally {
    await child?.stop().catch(() => undefined);
    await cluster.stop();
  }
}
