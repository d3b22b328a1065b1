/**
 * The metrics core: the hot counters and histograms render as valid Prometheus text through
 * prom-client's registry, each Metrics object is its own registry, collectors run at scrape time
 * (and one that throws does not fail the scrape), and every defined name follows the conventions.
 */
import t from 'tap';
import { METRICS } from '../../runtime/metrics/definitions.js';
import { Metrics } from '../../runtime/metrics/metrics.js';
import { Probes } from '../../runtime/metrics/probes.js';
import { bearerMatches } from '../../runtime/metrics/ops-http.js';
import { parseProm, sumOf } from '../harness/prom.js';

t.test('every definition: novact_ names, base units, counters end in _total, no id labels', async (t) => {
  for (const [key, d] of Object.entries(METRICS)) {
    t.match(d.name, /^novact_[a-z_]+$/, `${key}: ${d.name}`);
    if (d.type === 'counter') t.match(d.name, /_total$/, `${d.name} is a counter`);
    else t.notMatch(d.name, /_total$/, `${d.name} is no counter`);
    if (d.type === 'histogram') t.ok(d.buckets.length > 3, `${d.name} has buckets`);
    for (const l of d.labels) t.notMatch(l, /(^|_)(id|uuid|host_name|instance|image|request)$/, `${d.name}: label ${l} is bounded`);
  }
  t.equal(new Set(Object.values(METRICS).map((d) => d.name)).size, Object.keys(METRICS).length, 'names are unique');
});

t.test('hot counters and histograms: valid exposition, cumulative buckets, +Inf, sum and count', async (t) => {
  const metrics = new Metrics({ process: false });
  const c = metrics.m.natsServed.child('conductor', 'build', 'build', 'ok');
  c.inc();
  c.inc(2);
  const h = metrics.m.natsServeSeconds.child('conductor', 'build', 'build', 'ok');
  for (const v of [0.0004, 0.003, 0.003, 20]) h.observe(v);
  const text = await metrics.scrape();
  const { samples, bad, types } = parseProm(text);
  t.same(bad, [], 'every line parses');
  t.equal(types.get('novact_nats_requests_served_total'), 'counter');
  t.equal(types.get('novact_nats_request_serve_seconds'), 'histogram');
  t.equal(sumOf(samples, 'novact_nats_requests_served_total', { verb: 'build', outcome: 'ok' }), 3);
  const bucket = (le: string) => sumOf(samples, 'novact_nats_request_serve_seconds_bucket', { verb: 'build', le });
  t.equal(bucket('0.0005'), 1, 'first bucket');
  t.equal(bucket('0.005'), 3, 'cumulative');
  t.equal(bucket('10'), 3, 'the 20 s observation is above the last bound');
  t.equal(bucket('+Inf'), 4, '+Inf counts everything');
  t.equal(sumOf(samples, 'novact_nats_request_serve_seconds_count', { verb: 'build' }), 4);
  t.ok(Math.abs(sumOf(samples, 'novact_nats_request_serve_seconds_sum', { verb: 'build' }) - 20.0064) < 1e-9, 'sum');
  t.equal(metrics.m.natsServed.child('conductor', 'build', 'build', 'ok'), c, 'a child is made once');
  t.throws(() => metrics.m.natsServed.child('conductor'), /takes 4 labels/);
});

t.test('each Metrics is its own registry; collectors run at scrape and a throwing one is skipped', async (t) => {
  const a = new Metrics({ process: false });
  const b = new Metrics({ process: false });
  a.m.builds.child('active').inc();
  let scrapes = 0;
  const remove = a.onScrape(() => {
    scrapes++;
    a.m.hosts.set({ state: 'up', status: 'enabled' }, 7);
  });
  a.onScrape(() => {
    throw new Error('a role that is stopping');
  });
  const ta = await a.scrape();
  t.equal(sumOf(ta, 'novact_builds_total', { outcome: 'active' }), 1);
  t.equal(sumOf(ta, 'novact_hosts', { state: 'up' }), 7);
  t.equal(scrapes, 1);
  t.equal(sumOf(await b.scrape(), 'novact_builds_total'), 0, 'the other registry saw nothing');
  remove();
  await a.scrape();
  t.equal(scrapes, 1, 'a removed collector no longer runs');
  const withProcess = await new Metrics().scrape();
  t.match(withProcess, /process_cpu_user_seconds_total/, "Node's process metrics are there by default");
});

t.test('probes: starting, ready, a failing check, draining; liveness separately', async (t) => {
  const p = new Probes();
  t.equal((await p.readyReport()).status, 'starting');
  let up = true;
  p.ready('nats', () => (up ? { ok: true } : { ok: false, detail: 'not connected to NATS: api' }));
  p.started();
  t.same(await p.readyReport(), { ok: true, status: 'ok', checks: { nats: { ok: true }, started: { ok: true }, draining: { ok: true } } });
  up = false;
  const down = await p.readyReport();
  t.equal(down.ok, false);
  t.equal(down.checks.nats!.detail, 'not connected to NATS: api');
  up = true;
  p.ready('boom', () => {
    throw new Error('exploded');
  });
  t.same((await p.readyReport()).checks.boom, { ok: false, detail: 'exploded' });
  p.ready('boom', () => ({ ok: true }));
  t.equal((await p.liveReport()).ok, true, 'no liveness checks: alive');
  p.live('roles', () => ({ ok: false, detail: 'unhealthy: scheduler' }));
  t.equal((await p.liveReport()).status, 'failing');
  p.drain();
  const drained = await p.readyReport();
  t.equal(drained.status, 'draining');
  t.same(drained.checks.draining, { ok: false, detail: 'draining: stopping' });
});

t.test('scrape tokens: Bearer only, exact, case-insensitive scheme', async (t) => {
  t.ok(bearerMatches('Bearer s3cret', 's3cret'));
  t.ok(bearerMatches('bearer s3cret', 's3cret'));
  t.notOk(bearerMatches('Bearer s3cre', 's3cret'));
  t.notOk(bearerMatches('Basic s3cret', 's3cret'));
  t.notOk(bearerMatches(undefined, 's3cret'));
  t.notOk(bearerMatches('Bearer s3cret extra', 's3cret'));
});
