/**
 * `npm run bench -- fuzz --runs N [--seed S]`: the fuzz suites' properties (test/fuzz) at a larger
 * budget on one embedded cluster (nats.conf users, private PostgreSQL): the REST fuzz as member and
 * admin, hostile envelopes as the api user, hostile reports and $SRV reflection as a host; then the
 * invariants. Answers counts, not pass/fail: requests and messages tried, 5xx, crashes, invariant
 * violations, failures per route.
 */
import { startCluster } from '../cluster/cluster.js';
import { Http } from '../test/harness/api-http.js';
import { watchCrashes } from '../test/fuzz/lib/crashes.js';
import { bootAndDelete, capacityViolations, settle } from '../test/fuzz/lib/invariants.js';
import { connectAs, fuzzApiRequests, fuzzHostMessages, phantoms, pingServices, unreported } from '../test/fuzz/lib/nats-run.js';
import { distinct, runRest, setupRest } from '../test/fuzz/lib/rest-run.js';

const SERVICES = ['novact-compute', 'novact-conductor', 'novact-image', 'novact-scheduler'];

export async function fuzzBench(o: { runs: number; seed: number }): Promise<Record<string, unknown>> {
  const started = Date.now();
  const watch = watchCrashes();
  const adminPassword = 'fuzz-bench-admin';
  const cluster = await startCluster({
    hosts: 2, logLevel: 'error', requestTimeoutMs: 5_000, api: { adminPassword },
    compute: { reportIntervalMs: 500, heartbeatIntervalMs: 200 },
    conductor: { spawnTimeoutMs: 5_000, powerTimeoutMs: 5_000, convergeAttempts: 4 },
  });
  try {
    await cluster.waitForHosts(2);
    await cluster.conductor!.computeNodes.flush();
    const violations: string[] = [];
    const setup = await setupRest(cluster, adminPassword);
    const rest = await runRest(cluster, setup, { seed: o.seed, runs: o.runs, concurrency: 12, timeoutMs: 3_000 });
    violations.push(...(await settle(cluster)).map((x) => `unsettled after REST: ${x}`), ...(await capacityViolations(cluster)), ...(await bootAndDelete(cluster)).map((x) => `after REST: ${x}`));

    const [host, api, client] = await Promise.all([connectAs(cluster, 'compute'), connectAs(cluster, 'api'), connectAs(cluster, 'client')]);
    const image = (await cluster.client.listImages()).find((i) => i.status === 'active')!;
    const target = await cluster.client.createServer({ name: 'fz-target', flavorRef: 'm1.tiny', imageRef: image.id });
    await cluster.client.waitForServer(target.id, (s) => s.status !== 'BUILD', 30_000);
    const nats = await fuzzApiRequests(cluster, api, { instance: target.id, image: image.id }, { seed: o.seed, runs: o.runs, concurrency: 12, timeoutMs: 3_000 });
    const messages = await fuzzHostMessages(cluster, host, { seed: o.seed, runs: o.runs });
    const answering = await pingServices(client, SERVICES);
    for (const s of SERVICES) if (!answering.includes(s)) violations.push(`${s} no longer answers $SRV.PING`);
    violations.push(...(await unreported(cluster)).map((h) => `scheduler applies no report from ${h}`));
    const h = new Http(cluster.apiUrl!);
    const admin = await h.token('admin', adminPassword, 'admin');
    violations.push(...(await phantoms(cluster, async () => ((await h.get('/v2.1/os-hypervisors', { token: admin })).body?.hypervisors ?? []).map((x: { hypervisor_hostname: string }) => x.hypervisor_hostname))));
    violations.push(...(await settle(cluster)).map((x) => `unsettled after NATS: ${x}`), ...(await capacityViolations(cluster)), ...(await bootAndDelete(cluster)).map((x) => `after NATS: ${x}`));
    await Promise.all([host.close(), api.close(), client.close()]);
    const natsFailures: Record<string, number> = {};
    for (const f of nats.failures) natsFailures[`${f.subject} → ${f.problem.replace(/ within \d+.*$/, '')}`] = (natsFailures[`${f.subject} → ${f.problem.replace(/ within \d+.*$/, '')}`] ?? 0) + 1;
    return {
      bench: 'fuzz', seed: o.seed, runs: o.runs, seconds: Math.round((Date.now() - started) / 100) / 10,
      routes: rest.routes, requestsTried: rest.requests, messagesTried: messages + nats.requests,
      fiveXx: rest.fiveXx, deliberate5xx: rest.deliberate5xx, crashes: watch.crashes.length, invariantViolations: violations.length, violations: violations.slice(0, 50).map((v) => (v.length > 200 ? `${v.slice(0, 200)}…` : v)),
      restFailures: rest.failures.length, restDistinct: distinct(rest.failures).length, perRouteFailures: rest.perRoute,
      natsFailures,
    };
  } finally {
    watch.stop();
    await cluster.stop();
  }
}
