/**
 * Operating a cluster: `/healthz`, `/readyz` and `/metrics` on the operations port and on the API
 * port, with the access rule for `/metrics` (scrape token, or a cloud admin's token on the API
 * port; nothing else), REST and NATS counters that rise with the requests made, readiness that
 * fails while NATS is down and comes back with it, and draining.
 */
import t from 'tap';
import { startApiCluster } from '../harness/api-http.js';
import { waitFor } from '../harness/poll.js';
import { parseProm, sumOf } from '../harness/prom.js';

const TOKEN = 'scrape-secret-for-tests';
const { cluster, servers, http, admin } = await startApiCluster(t, { metrics: { port: 0, token: TOKEN } });
const ops = cluster.opsUrl!;
const api = cluster.apiUrl!;
const bearer = { authorization: `Bearer ${TOKEN}` };
const scrape = async () => {
  const r = await fetch(`${ops}/metrics`, { headers: bearer });
  if (r.status !== 200) throw new Error(`scrape: ${r.status}`);
  return r.text();
};
const probe = async (base: string, path: string) => {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: (await r.json()) as { ok: boolean; status: string; checks: Record<string, { ok: boolean; detail?: string }> } };
};

t.test('probes answer on both ports: alive, and ready with every check passing', async (t) => {
  for (const base of [ops, api]) {
    const live = await probe(base, '/healthz');
    t.equal(live.status, 200, `${base}/healthz`);
    const ready = await probe(base, '/readyz');
    t.equal(ready.status, 200, `${base}/readyz`);
    t.same(Object.keys(ready.body.checks).sort(), ['draining', 'nats', 'postgres', 'roles', 'started']);
    t.ok(Object.values(ready.body.checks).every((c) => c.ok));
  }
});

t.test('/metrics: the scrape token on either port, a cloud admin on the API port, nobody else', async (t) => {
  t.equal((await fetch(`${ops}/metrics`)).status, 401, 'operations port, no token');
  t.equal((await fetch(`${ops}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401, 'operations port, wrong token');
  const okOps = await fetch(`${ops}/metrics`, { headers: bearer });
  t.equal(okOps.status, 200);
  t.match(okOps.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const anonymous = await http.get('/metrics');
  t.equal(anonymous.status, 401, 'API port, no credentials');
  t.ok(anonymous.body.unauthorized, 'a fault body, as every API error');
  t.equal((await http.get('/metrics', { headers: { authorization: 'Bearer wrong' } })).status, 401);
  t.equal((await http.get('/metrics', { headers: bearer })).status, 200, 'API port, scrape token');
  t.equal((await http.get('/metrics', { token: admin })).status, 200, 'API port, cloud admin');
  const member = await http.member(admin, 'ops-tenant', 'ops-member', 'member');
  const refused = await http.get('/metrics', { token: member.token });
  t.equal(refused.status, 403, 'a tenant member may not');
  t.notMatch(refused.text, /novact_/, 'and sees no metric');
});

t.test('REST requests are counted per route pattern, method and status class', async (t) => {
  const m = (text: string, route: string, cls: string) => sumOf(text, 'novact_http_requests_total', { route, method: 'GET', status_class: cls });
  const before = await scrape();
  for (let i = 0; i < 3; i++) t.equal((await http.get('/v2.1/flavors', { token: admin })).status, 200);
  t.equal((await http.get(`/v2.1/servers/${'0'.repeat(8)}-0000-4000-8000-000000000000`, { token: admin })).status, 404);
  t.equal((await http.get('/no/such/path', { token: admin })).status, 404);
  const after = await scrape();
  t.equal(m(after, '/v2.1/flavors', '2xx') - m(before, '/v2.1/flavors', '2xx'), 3);
  t.equal(m(after, '/v2.1/servers/:id', '4xx') - m(before, '/v2.1/servers/:id', '4xx'), 1, 'the route pattern, never the id');
  t.equal(m(after, 'unmatched', '4xx') - m(before, 'unmatched', '4xx'), 1, 'unknown paths share one label');
  t.ok(sumOf(after, 'novact_http_request_seconds_count', { route: '/v2.1/flavors', method: 'GET' }) >= 3, 'and timed');
  t.same(parseProm(after).bad, [], 'the whole exposition parses');
});

t.test('NATS: a build is counted and timed by the conductor under its verb; pools and actors are there', async (t) => {
  const image = (await cluster.client.listImages())[0]!;
  const before = await scrape();
  const s = await cluster.client.createServer({ name: 'ops-1', flavorRef: 'm1.tiny', imageRef: image.id });
  await cluster.client.waitForServer(s.id, (v) => v.status === 'ACTIVE');
  const after = await scrape();
  const built = (text: string) => sumOf(text, 'novact_nats_request_serve_seconds_count', { role: 'conductor', endpoint: 'build', verb: 'build', outcome: 'ok' });
  t.equal(built(after) - built(before), 1);
  t.ok(sumOf(after, 'novact_nats_requests_served_total', { role: 'compute', endpoint: 'host', verb: 'spawn', outcome: 'ok' }) >= 1, 'the host served the spawn');
  t.ok(sumOf(after, 'novact_nats_requests_sent_total', { role: 'conductor', verb: 'select', outcome: 'ok' }) >= 1, 'the conductor asked the scheduler');
  t.equal(sumOf(after, 'novact_nats_connected', { role: 'api' }), 1);
  t.ok(sumOf(after, 'novact_db_pool_wait_seconds_count', { pool: 'conductor' }) > 0, 'pool waits are timed');
  t.ok(parseProm(after).samples.some((x) => x.name === 'novact_db_pool_connections' && x.labels.pool === 'api' && x.labels.state === 'free'), 'pool connections by state');
  t.ok(sumOf(after, 'novact_actors_live', { kind: 'instance' }) >= 1, 'the instance actor is live');
});

t.test('readiness fails while NATS is down and comes back with it; liveness holds', async (t) => {
  await servers.nats.kill();
  await waitFor('readyz to fail', async () => (await probe(ops, '/readyz')).status === 503);
  const down = await probe(ops, '/readyz');
  t.equal(down.body.checks.nats!.ok, false);
  t.match(down.body.checks.nats!.detail, /not connected to NATS: .*conductor/);
  t.equal((await probe(ops, '/healthz')).status, 200, 'still alive: NATS coming back is not a restart');
  t.equal((await probe(api, '/readyz')).status, 503, 'the API port says the same');
  await servers.nats.restart();
  await waitFor('readyz to pass again', async () => (await probe(ops, '/readyz')).status === 200, 30_000);
  t.ok(sumOf(await scrape(), 'novact_nats_reconnects_total', { role: 'conductor' }) >= 1, 'the reconnect is counted');
});

t.test('draining: not ready from then on, still alive', async (t) => {
  cluster.drain();
  const r = await probe(ops, '/readyz');
  t.equal(r.status, 503);
  t.equal(r.body.status, 'draining');
  t.equal((await probe(api, '/readyz')).status, 503);
  t.equal((await probe(ops, '/healthz')).status, 200);
});
