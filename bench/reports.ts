/**
 * Capacity-report ingestion by the real scheduler role: embedded NATS + PostgreSQL, only the
 * scheduler role started (its context built as cluster/cluster.ts builds it), and a second NATS
 * connection (a fleet host identity) publishing H reports per round. Round 1 creates every host's
 * inventory in the ledger; later rounds carry the same inventory (steady state: memory only).
 * A report counts once the role's `events` emits `report` for it. Prints one JSON line.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { PlacementLedger } from '../actors/scheduler/ledger.js';
import { startSchedulerRole, DEFAULT_SCHEDULER_CONFIG } from '../actors/scheduler/scheduler.js';
import type { CapacityReport } from '../protocols/resources.js';
import { Subjects } from '../protocols/subjects.js';
import { ActorSystem } from '../runtime/actors/system.js';
import { systemClock } from '../runtime/clock.js';
import { openDatabase } from '../runtime/db/orm.js';
import { createLogger } from '../runtime/log/logger.js';
import { Bridge } from '../runtime/nats/bridge.js';
import { connectNats } from '../runtime/nats/connection.js';
import { startEmbeddedNats } from '../runtime/nats/embedded-nats.js';
import { newHostIdentity } from '../runtime/nats/host-identity.js';
import { hostInboxPrefix, roleInboxPrefix } from '../protocols/host-identity.js';
import type { RoleContext } from '../runtime/role.js';
import { startPostgres } from '../runtime/services/postgres-server.js';

export interface ReportsBenchOptions {
  hosts: number;
  rounds: number;
}

const CLK_TCK = 100;

/** CPU seconds (user + system) of a process, plus of its direct children when asked (postgres backends). */
export function procCpuSeconds(pid: number, withChildren = false): number {
  const ticks = (p: number): number => {
    try {
      // Fields after the command name: state(3) ppid(4) … utime(14) stime(15).
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return 0;
    }
  };
  let t = ticks(pid);
  if (withChildren) {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const s = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) t += ticks(Number(d));
      } catch {
        // raced with an exiting backend
      }
    }
  }
  return t / CLK_TCK;
}

export const nodeCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const round1 = (x: number, d = 10) => Math.round(x * d) / d;

/** Progress on stderr (stdout carries only the result line). */
export const progress = (what: string, fields: Record<string, unknown> = {}): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${what} ${JSON.stringify(fields)}\n`);
};

/**
 * Runs a shutdown, collecting instead of dying on exceptions thrown from timers meanwhile: the
 * scheduler's delta publish (a setImmediate in actors/scheduler/scheduler.ts) can fire after its
 * connection started draining and throws CONNECTION_DRAINING out of Bridge.publish.
 */
export async function stopCollectingErrors(stop: () => Promise<void>): Promise<string[]> {
  const errors: string[] = [];
  const onError = (err: unknown) => void errors.push(err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err));
  process.on('uncaughtException', onError);
  try {
    await stop();
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    process.off('uncaughtException', onError);
  }
  return errors;
}

export async function reportsBench(o: ReportsBenchOptions): Promise<Record<string, unknown>> {
  // The publisher stands in for every host at once: a fleet identity allowed every host name.
  const fleet = newHostIdentity();
  const { server: nats, auth } = await startEmbeddedNats({ subjectRoot: new Subjects().root, anyHostKeys: [fleet.publicKey] });
  const pg = await startPostgres({});
  const orm = await openDatabase({ url: pg.url });
  const log = createLogger('error');
  const actors = new ActorSystem(systemClock, log);
  const subjects = new Subjects();
  const schedNc = await connectNats({ servers: nats.url, name: 'novact-scheduler', user: auth.scheduler.user, pass: auth.scheduler.pass, inboxPrefix: roleInboxPrefix('scheduler') });
  const pubNc = await connectNats({ servers: nats.url, name: 'bench-hosts', nkeySeed: fleet.seed, inboxPrefix: hostInboxPrefix(fleet.publicKey) });
  const requestTimeoutMs = 10_000;
  const ctx: RoleContext = {
    bridge: new Bridge(schedNc, systemClock, log.child({ role: 'scheduler' }), requestTimeoutMs),
    subjects,
    actors,
    clock: systemClock,
    log: log.child({ role: 'scheduler' }),
    requestTimeoutMs,
  };
  const ledger = new PlacementLedger(orm);
  const scheduler = await startSchedulerRole(ctx, ledger, DEFAULT_SCHEDULER_CONFIG);
  let result: Record<string, unknown> | undefined;
  try {
    let applied = 0;
    let waiter: { target: number; resolve: () => void } | undefined;
    scheduler.events.on('report', () => {
      applied++;
      if (waiter && applied >= waiter.target) {
        const w = waiter;
        waiter = undefined;
        w.resolve();
      }
    });
    await schedNc.flush();

    const enc = new TextEncoder();
    const names = Array.from({ length: o.hosts }, (_, i) => `compute-${i + 1}`);
    const reportSubjects = names.map((h) => subjects.report(h, 'capacity'));
    const rounds: Record<string, unknown>[] = [];
    let expected = 0;
    for (let r = 1; r <= o.rounds; r++) {
      // Encoded before the clock starts: only delivery, parsing and applying are measured.
      const sentAt = Date.now();
      const payloads = names.map((host) => {
        const report: CapacityReport = {
          host, node: host, hypervisorType: 'fake', hypervisorVersion: 1000, cpuArch: 'x86_64', availabilityZone: null,
          vcpus: 64, memoryMb: 262_144, diskGb: 4_096, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0,
          seq: r, sentAt,
        };
        return enc.encode(JSON.stringify(report));
      });
      expected += o.hosts;
      const cpu0 = { node: nodeCpuSeconds(), nats: procCpuSeconds(nats.pid), pg: procCpuSeconds(pg.pid, true) };
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`round ${r}: only ${applied - (expected - o.hosts)} of ${o.hosts} reports applied in 300 s`)), 300_000);
        waiter = { target: expected, resolve: () => { clearTimeout(timer); resolve(); } };
      });
      const t0 = performance.now();
      for (let i = 0; i < o.hosts; i++) pubNc.publish(reportSubjects[i]!, payloads[i]!);
      await pubNc.flush();
      const publishedMs = performance.now() - t0;
      await done;
      const ms = performance.now() - t0;
      const cpu = {
        node: round1(nodeCpuSeconds() - cpu0.node, 100),
        natsServer: round1(procCpuSeconds(nats.pid) - cpu0.nats, 100),
        postgres: round1(procCpuSeconds(pg.pid, true) - cpu0.pg, 100),
      };
      rounds.push({
        round: r,
        kind: r === 1 ? 'create-inventories' : 'steady',
        reports: o.hosts,
        ms: Math.round(ms),
        publishMs: Math.round(publishedMs),
        reportsPerSec: Math.round(o.hosts / (ms / 1000)),
        cpuSeconds: cpu,
      });
    }
    const steady = rounds.slice(1);
    const steadyMs = steady.reduce((a, x) => a + (x.ms as number), 0);
    const steadyReports = steady.length * o.hosts;
    const rates = steady.map((x) => x.reportsPerSec as number).sort((a, b) => a - b);
    result = {
      bench: 'reports',
      hosts: o.hosts,
      rounds: o.rounds,
      firstRoundReportsPerSec: rounds[0]?.reportsPerSec,
      steadyReportsPerSec: steadyMs > 0 ? Math.round(steadyReports / (steadyMs / 1000)) : null,
      steadyRoundRange: rates.length ? [rates[0], rates[rates.length - 1]] : null,
      hostStates: scheduler.states.size,
      perRound: rounds,
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
    };
  } finally {
    const errors = await stopCollectingErrors(async () => {
      await scheduler.stop();
      actors.stop();
      await Promise.allSettled([schedNc.drain(), pubNc.drain()]);
      await orm.close();
      await nats.stop();
      await pg.stop();
    });
    if (result && errors.length) result.shutdownErrors = errors;
  }
  return result!;
}
