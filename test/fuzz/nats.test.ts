/**
 * NATS fuzz under the packaged nats.conf (per-role users): hostile request envelopes as the api
 * user must get typed error replies; hostile reports and heartbeats as a host (its own subject,
 * another host's, a phantom's) and `$SRV` pings reflected onto internal subjects must leave every
 * role answering, no phantom host in the scheduler, the compute-node records or os-hypervisors,
 * nothing crashed, capacity honest, and a server still boots. Seeded (NOVACT_FUZZ_SEED,
 * NOVACT_FUZZ_RUNS).
 */
import t from 'tap';
import { startCluster } from '../../cluster/cluster.js';
import { ADMIN_PASSWORD, Http } from '../harness/api-http.js';
import { watchCrashes } from './lib/crashes.js';
import { bootAndDelete, capacityViolations, settle } from './lib/invariants.js';
import { connectAs, fuzzApiRequests, fuzzHostMessages, phantoms, pingServices, unreported } from './lib/nats-run.js';

const seed = Number(process.env.NOVACT_FUZZ_SEED ?? 20_261_201);
const runs = Number(process.env.NOVACT_FUZZ_RUNS ?? 1);
const SERVICES = ['novact-api', 'novact-compute', 'novact-conductor', 'novact-image', 'novact-network', 'novact-scheduler'];
const watch = watchCrashes();
t.teardown(() => watch.stop());
// Embedded nats-server from nats.conf with fresh per-role passwords, and a private PostgreSQL.
const cluster = await startCluster({
  hosts: 2, logLevel: 'error', requestTimeoutMs: 5_000, api: { adminPassword: ADMIN_PASSWORD },
  compute: { reportIntervalMs: 500, heartbeatIntervalMs: 200 },
  conductor: { spawnTimeoutMs: 5_000, powerTimeoutMs: 5_000, convergeAttempts: 4 },
});
t.teardown(() => cluster.stop());
await cluster.waitForHosts(2);
const http = new Http(cluster.apiUrl!);
const admin = await http.token('admin', ADMIN_PASSWORD, 'admin');
const image = (await cluster.client.listImages()).find((i) => i.status === 'active')!;
const target = await cluster.client.createServer({ name: 'fz-target', flavorRef: 'm1.tiny', imageRef: image.id });
await cluster.client.waitForServer(target.id, (s) => s.status === 'ACTIVE' && s.taskState === null, 30_000);
const [host, api, client] = await Promise.all([connectAs(cluster, 'compute'), connectAs(cluster, 'api'), connectAs(cluster, 'client')]);
t.teardown(() => Promise.all([host.close(), api.close(), client.close()]).then(() => undefined));

t.test('as the api user: every hostile envelope gets a typed error reply', async (t) => {
  const stats = await fuzzApiRequests(cluster, api, { instance: target.id, image: image.id }, { seed, runs, concurrency: 12, timeoutMs: 3_000 });
  const groups = new Map<string, { count: number; example: (typeof stats.failures)[number] }>();
  for (const f of stats.failures) {
    const key = `${f.subject} → ${f.problem.replace(/ within \d+.*$/, '')}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { count: 1, example: f });
  }
  t.comment(`api requests ${stats.requests}, failures ${stats.failures.length} (${groups.size} distinct)`);
  t.ok(stats.requests > 500, 'every verb was tried');
  for (const [key, { count, example }] of groups) t.fail(key, { count, input: example.input, reply: example.reply });
  if (groups.size === 0) t.pass('every reply typed');
});

t.test('as a host: hostile reports, heartbeats and $SRV reflection change nothing', async (t) => {
  const sent = await fuzzHostMessages(cluster, host, { seed, runs });
  t.comment(`host messages ${sent}`);
  t.ok(sent > 100, 'messages were published');
  // Every role's reader still works: it answers a ping sent after the fuzz (and so processed it first).
  t.same(await pingServices(client, SERVICES), SERVICES, 'every role answers $SRV.PING');
  // The scheduler actor applies reports in order: once each real host's next one is applied, so was the fuzz.
  t.same(await unreported(cluster), [], 'the scheduler still applies every real host\'s reports');
  const hypervisors = async () => ((await http.get('/v2.1/os-hypervisors', { token: admin })).body?.hypervisors ?? []).map((h: { hypervisor_hostname: string }) => h.hypervisor_hostname);
  t.same(await phantoms(cluster, hypervisors), [], 'no phantom host in the scheduler, the compute nodes or os-hypervisors');
  t.same(await settle(cluster), [], 'every instance settled');
  t.same(await capacityViolations(cluster), [], 'ledger = hypervisors, one host per instance');
  t.same(await bootAndDelete(cluster), [], 'a new server boots to ACTIVE and is deleted');
});

t.test('nothing crashed the process', async (t) => {
  const counts: Record<string, number> = {};
  for (const c of watch.crashes) counts[c] = (counts[c] ?? 0) + 1;
  t.same(counts, {}, 'no unhandled rejection or uncaught exception (each kind with its count)');
});
