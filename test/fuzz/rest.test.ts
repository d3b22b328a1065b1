/**
 * REST fuzz: every route Fastify serves (its own route table), with hostile strings in every path
 * parameter, known query parameter and body field, and hostile whole bodies, as a project member
 * and as the admin. Every answer must be a 4xx OpenStack fault body with no internal detail (or a
 * deliberate 501/503); nothing may crash; afterwards the ledger still equals the hypervisors, no
 * instance is on two hosts, and a new server boots and deletes. Seeded: NOVACT_FUZZ_SEED,
 * NOVACT_FUZZ_RUNS (values drawn per slot beyond the fixed crash vectors; default 1).
 * NOVACT_FUZZ_REPORT=<file> writes every failure as JSON.
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { ADMIN_PASSWORD, startApiCluster } from '../harness/api-http.js';
import { watchCrashes } from './lib/crashes.js';
import { bootAndDelete, capacityViolations, settle } from './lib/invariants.js';
import { distinct, runRest, setupRest } from './lib/rest-run.js';

const seed = Number(process.env.NOVACT_FUZZ_SEED ?? 20_261_201);
const runs = Number(process.env.NOVACT_FUZZ_RUNS ?? 1);
const watch = watchCrashes();
t.teardown(() => watch.stop());
const { cluster, http, admin } = await startApiCluster(t, { hosts: 2 });
const setup = await setupRest(cluster, ADMIN_PASSWORD);

t.test('every route answers hostile input with a fault body, never a 5xx or a leak', async (t) => {
  // 6 s per request: generous on a loaded 2-core box (a login's scrypt), and a fixed API answers at once.
  const stats = await runRest(cluster, setup, { seed, runs, concurrency: 12, timeoutMs: 6_000 });
  const groups = distinct(stats.failures);
  if (process.env.NOVACT_FUZZ_REPORT) writeFileSync(process.env.NOVACT_FUZZ_REPORT, JSON.stringify({ seed, runs, ...stats, distinct: groups }, null, 1));
  t.comment(`routes ${stats.routes}, cases ${stats.cases}, requests ${stats.requests}, 5xx ${stats.fiveXx} (+${stats.deliberate5xx} deliberate 501/503), failures ${stats.failures.length} (${groups.length} distinct)`);
  t.ok(stats.routes >= 80, `the route table was read from Fastify (${stats.routes} routes)`);
  t.ok(stats.requests >= stats.cases * 2, 'every case was sent as member and admin');
  t.equal(stats.fiveXx, 0, 'no 5xx but a deliberate 501/503');
  for (const g of groups) {
    const e = g.example;
    t.fail(g.key, { count: g.count, persona: e.persona, input: e.input, status: e.status, problems: e.problems, body: e.excerpt });
  }
  if (groups.length === 0) t.pass('no failure');
});

t.test('nothing crashed the process', async (t) => {
  const counts: Record<string, number> = {};
  for (const c of watch.crashes) counts[c] = (counts[c] ?? 0) + 1;
  t.same(counts, {}, 'no unhandled rejection or uncaught exception (each kind with its count)');
});

t.test('afterwards the capacity is honest and the cluster still boots', async (t) => {
  // Undo what valid fuzzed calls may have done to the hosts (a disable, a forced down).
  // One retry: fetch's pooled connection from the setup may have idled out on the server meanwhile.
  const again = <T>(f: () => Promise<T>) => f().catch(() => f());
  const mv = { 'OpenStack-API-Version': 'compute 2.53' };
  const services = (await again(() => http.get('/v2.1/os-services', { token: admin, headers: mv }))).body?.services ?? [];
  for (const s of services) await again(() => http.put(`/v2.1/os-services/${s.id}`, { token: admin, headers: mv, body: { status: 'enabled', forced_down: false } }));
  t.same(await settle(cluster), [], 'every instance settled');
  t.same(await capacityViolations(cluster), [], 'ledger = hypervisors, one host per instance');
  t.same(await bootAndDelete(cluster), [], 'a new server boots to ACTIVE and is deleted');
});
