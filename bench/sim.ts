/**
 * Simulation: the all-in-one cluster (embedded NATS + PostgreSQL, the roles in this process) with
 * H fake hosts reporting every `reportIntervalMs` — or, with `split`, the scheduler and the compute
 * role (the hosts) each in a process of its own (bench/role-process.ts), as they would be deployed,
 * the conductor and the load here; once every host is up, boots are issued open loop at R per second for D seconds (on a timer schedule, whether or not earlier ones finished), and each
 * is timed from its scheduled send time to its `create.end` event. Then every instance is deleted.
 * Prints one JSON line: achieved boots/s, time-to-ACTIVE percentiles, errors, CPU split, RSS.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fakeHostNames, startCluster, type ClusterOptions, type RoleName } from '../cluster/cluster.js';
import type { SchedulerFigures } from './role-process.js';
import { RoleProcess } from './role-process-handle.js';
import { benchTracing } from './discard-exporter.js';
import { percentiles } from './percentiles.js';
import { nodeCpuSeconds, procCpuSeconds, progress, stopCollectingErrors } from './reports.js';

export interface SimBenchOptions {
  hosts: number;
  rate: number;
  seconds: number;
  flavor: string;
  reportIntervalMs: number;
  /** Run the scheduler and the compute role (the fake hosts) in processes of their own. */
  split: boolean;
  /** Instrument every process and scrape each as Prometheus would (default); false: nothing recorded (the instrumentation's cost). */
  metrics?: boolean;
  /** Record spans in every process (a batch processor, an exporter that discards); default off. */
  tracing?: boolean;
}

/** How often every process's `/metrics` is scraped during the load (Prometheus's default is 15 s; 10 s is a common setting). */
const SCRAPE_EVERY_MS = 10_000;

const TICK_MS = 5;
const DRAIN_MS = 60_000;
/** The delete phase gives up after this long (an overloaded run would otherwise take many minutes). */
const DELETE_BUDGET_MS = 180_000;
const round = (x: number, d = 10) => Math.round(x * d) / d;

export async function simBench(o: SimBenchOptions): Promise<Record<string, unknown>> {
  const s0 = performance.now();
  const opts: ClusterOptions = {
    hosts: o.hosts,
    logLevel: 'error',
    compute: { reportIntervalMs: o.reportIntervalMs, heartbeatIntervalMs: 10_000 },
    metrics: o.metrics === false ? { enabled: false } : {},
    tracing: benchTracing(o.tracing),
  };
  if (o.split) opts.roles = ['conductor', 'image'];
  if (process.env.NATS_URL) opts.natsUrl = process.env.NATS_URL;
  if (process.env.DATABASE_URL) opts.databaseUrl = process.env.DATABASE_URL;
  const warmupMs = Math.min(5, Math.floor(o.seconds / 4)) * 1000;
  const cluster = await startCluster(opts);
  let result: Record<string, unknown> | undefined;
  const children: RoleProcess[] = [];
  try {
    if (o.split) {
      // Each child gets only its roles' credentials; the compute one a host identity for its fleet.
      const names = fakeHostNames(o.hosts);
      const child = async (roles: RoleName[]) =>
        RoleProcess.start({ ...(await cluster.join(roles, roles.includes('compute') ? names : [])), roles, hosts: o.hosts, compute: opts.compute!, metrics: o.metrics !== false, tracing: o.tracing === true });
      children.push(await child(['scheduler']), await child(['compute']));
    }
    progress('cluster started; waiting for hosts', { hosts: o.hosts, s: round((performance.now() - s0) / 1000) });
    if (o.split) await children[0]!.line((l) => l.startsWith('{"hostsUp"'));
    else await cluster.waitForHosts(o.hosts, 600_000);
    const startupSeconds = (performance.now() - s0) / 1000;
    progress('all hosts up', { s: round(startupSeconds) });
    const { client, subjects } = cluster;
    const image = (await client.listImages())[0]!;
    const nc = client.bridge.nc;

    // Scheduled send time per instance; events that beat the build reply wait in `early`.
    const sentAt = new Map<string, number>();
    const early = new Map<string, { phase: string; at: number }>();
    const latencies: number[] = [];
    // Boots sent after the warm-up (the first seconds: JIT, pools, first actors): steady-state latency.
    const steadyLatencies: number[] = [];
    let loadStart = Infinity;
    const endTimes: number[] = [];
    let buildErrors = 0; // create.error events
    let requestErrors = 0; // the build request itself failed (timeout, rejection)
    const requestErrorKinds: Record<string, number> = {};
    const finish = (id: string, phase: string, at: number) => {
      const t0 = sentAt.get(id);
      if (t0 === undefined) {
        early.set(id, { phase, at });
        return;
      }
      sentAt.delete(id);
      if (phase === 'end') {
        latencies.push(at - t0);
        if (t0 - loadStart >= warmupMs) steadyLatencies.push(at - t0);
        endTimes.push(at);
      } else buildErrors++;
    };
    const sub = nc.subscribe(`${subjects.root}.evt.instance.*.create.*`, {
      callback: (_e, m) => {
        const at = performance.now();
        const [, , , id, , phase] = m.subject.split('.');
        if (phase === 'start' || !id) return;
        finish(id, phase!, at);
      },
    });
    let deletedEvents = 0;
    const delSub = nc.subscribe(`${subjects.root}.evt.instance.*.delete.end`, { callback: () => void deletedEvents++ });
    await nc.flush();

    const ids: string[] = [];
    let issued = 0;
    let inFlightRequests = 0;
    let maxInFlightRequests = 0;
    let maxIssueLagMs = 0;
    const total = o.rate * o.seconds;
    const issue = (i: number, scheduled: number) => {
      inFlightRequests++;
      if (inFlightRequests > maxInFlightRequests) maxInFlightRequests = inFlightRequests;
      client.createServer({ name: `sim-${i}`, flavorRef: o.flavor, imageRef: image.id }).then(
        (s) => {
          inFlightRequests--;
          ids.push(s.id);
          const e = early.get(s.id);
          sentAt.set(s.id, scheduled);
          if (e) {
            early.delete(s.id);
            finish(s.id, e.phase, e.at);
          }
        },
        (err: unknown) => {
          inFlightRequests--;
          requestErrors++;
          const k = (err as { name?: string }).name ?? 'Error';
          requestErrorKinds[k] = (requestErrorKinds[k] ?? 0) + 1;
        },
      );
    };

    const elu0 = performance.eventLoopUtilization();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const pgPid = cluster.embedded.postgres?.pid;
    const natsPid = cluster.embedded.nats?.pid;
    const childCpu = () => children.map((c) => procCpuSeconds(c.pid));
    const cpu0 = {
      node: nodeCpuSeconds(),
      children: childCpu(),
      nats: natsPid ? procCpuSeconds(natsPid) : 0,
      pg: pgPid ? procCpuSeconds(pgPid, true) : 0,
    };
    let maxRss = 0;
    // Hosts the scheduler currently takes for down (no report or heartbeat within service_down_time).
    let maxHostsDown = 0;
    const hostsDown = (): number => {
      const states = cluster.scheduler?.states.all() ?? [];
      const now = Date.now();
      let down = 0;
      for (const h of states) if (now - h.lastSeenAt > 60_000) down++;
      if (down > maxHostsDown) maxHostsDown = down;
      return down;
    };
    // Scrape every process (this one in-process, the role processes over their operations port).
    const childOps = o.metrics === false ? [] : await Promise.all(children.map(async (c) => (JSON.parse(await c.line((l) => l.startsWith('{"opsUrl"'))) as { opsUrl: string }).opsUrl));
    const scrapeMs: number[] = [];
    let scrapeBytes = 0;
    const scrapeAll = async () => {
      const own = cluster.metrics;
      const jobs = [...(own ? [() => own.scrape()] : []), ...childOps.map((u) => () => fetch(`${u}/metrics`).then((r) => r.text()))];
      for (const job of jobs) {
        const s = performance.now();
        const text = await job().catch(() => '');
        scrapeMs.push(performance.now() - s);
        scrapeBytes = Math.max(scrapeBytes, text.length);
      }
    };
    const scrapeTimer = o.metrics === false ? undefined : setInterval(() => void scrapeAll(), SCRAPE_EVERY_MS);
    let ticks = 0;
    const rssTimer = setInterval(() => {
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
      const down = hostsDown();
      if (++ticks % 10 === 0) {
        progress('load', {
          s: ticks, issued, active: latencies.length, buildErrors, requestErrors, inFlightRequests, awaitingEnd: sentAt.size,
          hostsDown: down, noValidHost: cluster.scheduler?.stats.noValidHost, decisions: cluster.scheduler?.stats.decisions, deletedEvents,
        });
      }
    }, 1000);

    // Open loop: every tick, issue whatever the schedule says is due by now, stamped with its slot.
    progress('load start', { uptimeS: round(process.uptime(), 100) });
    const t0 = performance.now();
    loadStart = t0;
    const windowMs = o.seconds * 1000;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        // Slot i is due at t0 + i / rate (slot 0 at once).
        const due = Math.min(total, Math.floor(((now - t0) / 1000) * o.rate) + 1);
        while (issued < due) {
          const scheduled = t0 + (issued * 1000) / o.rate;
          maxIssueLagMs = Math.max(maxIssueLagMs, now - scheduled);
          issue(issued, scheduled);
          issued++;
        }
        if (issued >= total) resolve();
        else setTimeout(tick, TICK_MS);
      };
      tick();
    });
    const issueEnd = performance.now();
    // Let the builds in flight finish (bounded), so the tail shows in the percentiles.
    const drainDeadline = performance.now() + DRAIN_MS;
    while (latencies.length + buildErrors + requestErrors < total && performance.now() < drainDeadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const tEnd = performance.now();
    progress('load end', { uptimeS: round(process.uptime(), 100) });
    const cpu = {
      node: round(nodeCpuSeconds() - cpu0.node, 100),
      ...(o.split ? { schedulerProcess: round(childCpu()[0]! - cpu0.children[0]!, 100), computeProcess: round(childCpu()[1]! - cpu0.children[1]!, 100) } : {}),
      natsServer: natsPid ? round(procCpuSeconds(natsPid) - cpu0.nats, 100) : null,
      postgres: pgPid ? round(procCpuSeconds(pgPid, true) - cpu0.pg, 100) : null,
    };
    const elu = performance.eventLoopUtilization(elu0);
    loopDelay.disable();
    sub.unsubscribe();

    // Achieved rate: ACTIVE within the issue window, and over the whole run (issue + drain).
    const inWindow = endTimes.filter((t) => t - t0 <= windowMs).length;
    const perSecond = new Array<number>(o.seconds).fill(0);
    for (const t of endTimes) {
      const s = Math.floor((t - t0) / 1000);
      if (s >= 0 && s < o.seconds) perSecond[s]!++;
    }
    const steady = perSecond.slice(warmupMs / 1000); // skip the ramp
    const lastEnd = endTimes.length ? endTimes.reduce((a, b) => Math.max(a, b), 0) : tEnd;
    const stats = cluster.scheduler?.stats;
    const unfinished = total - latencies.length - buildErrors - requestErrors;

    // Delete everything (bounded concurrency), timed until the delete.end events are in.
    progress('deleting', { instances: ids.length, activeInWindow: inWindow, timeToActiveMs: percentiles(latencies, [50, 95, 99]), buildErrors, requestErrors, unfinished });
    const d0 = performance.now();
    const delDeadline = d0 + DELETE_BUDGET_MS;
    let deleteErrors = 0;
    const deleteConcurrency = 256;
    let next = 0;
    await Promise.all(
      Array.from({ length: deleteConcurrency }, async () => {
        while (next < ids.length && performance.now() < delDeadline) {
          const id = ids[next++]!;
          await client.deleteServer(id).catch(() => void deleteErrors++);
        }
      }),
    );
    const deleteRequested = next;
    while (deletedEvents < deleteRequested - deleteErrors && performance.now() < delDeadline) await new Promise((r) => setTimeout(r, 50));
    const deleteSeconds = (performance.now() - d0) / 1000;
    delSub.unsubscribe();

    clearInterval(rssTimer);
    clearInterval(scrapeTimer);
    progress('deleted', { deleted: deletedEvents, s: round(deleteSeconds) });
    result = {
      bench: 'sim',
      hosts: o.hosts,
      split: o.split,
      metrics: o.metrics !== false,
      tracing: o.tracing === true,
      scrapes: o.metrics === false ? null : { count: scrapeMs.length, ms: percentiles(scrapeMs, [50, 99]), maxMs: round(scrapeMs.reduce((a, b) => Math.max(a, b), 0)), maxBytes: scrapeBytes },
      rate: o.rate,
      seconds: o.seconds,
      flavor: o.flavor,
      reportIntervalMs: o.reportIntervalMs,
      startupSeconds: round(startupSeconds),
      requested: total,
      issueSeconds: round((issueEnd - t0) / 1000, 100),
      maxIssueLagMs: round(maxIssueLagMs),
      maxInFlightRequests,
      active: latencies.length,
      activeInWindow: inWindow,
      bootsPerSecInWindow: round(inWindow / o.seconds),
      bootsPerSecOverall: round(latencies.length / ((lastEnd - t0) / 1000)),
      bootsPerSecPerSecond: { min: Math.min(...steady), p50: percentiles(steady, [50]).p50, max: Math.max(...steady) },
      timeToActiveMs: percentiles(latencies, [50, 95, 99]),
      warmupSeconds: warmupMs / 1000,
      timeToActiveAfterWarmupMs: percentiles(steadyLatencies, [50, 95, 99]),
      timeToActiveMaxMs: round(latencies.reduce((a, b) => Math.max(a, b), 0)),
      buildErrors,
      requestErrors,
      requestErrorKinds,
      unfinished,
      schedulerDecisionUs: percentiles(stats?.decisionUs ?? [], [50, 99]),
      noValidHost: stats?.noValidHost ?? 0,
      decisions: stats?.decisions ?? 0,
      maxHostsDownAtScheduler: maxHostsDown,
      lostClaims: stats?.lostClaims ?? 0,
      cpuSecondsDuringLoad: cpu,
      wallSecondsDuringLoad: round((tEnd - t0) / 1000, 100),
      eventLoopUtilization: round(elu.utilization, 1000),
      eventLoopDelayMs: { p50: round(loopDelay.percentile(50) / 1e6), p99: round(loopDelay.percentile(99) / 1e6), max: round(loopDelay.max / 1e6) },
      deleted: deletedEvents,
      deleteErrors,
      deleteGaveUp: deletedEvents < ids.length,
      deletesPerSec: round(deletedEvents / deleteSeconds),
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
      maxRssMb: Math.round(maxRss / 1048576),
    };
  } finally {
    const printed = (await Promise.all(children.map((c) => c.stop()))).flat();
    const figures = printed.find((o) => 'decisions' in o) as SchedulerFigures | undefined;
    if (result && figures) {
      Object.assign(result, {
        schedulerDecisionUs: figures.decisionUs,
        noValidHost: figures.noValidHost,
        decisions: figures.decisions,
        lostClaims: figures.lostClaims,
        maxHostsDownAtScheduler: figures.maxHostsDown,
      });
    }
    const errors = await stopCollectingErrors(() => cluster.stop());
    if (result && errors.length) result.shutdownErrors = errors;
  }
  return result!;
}
