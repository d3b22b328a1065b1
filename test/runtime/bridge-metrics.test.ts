/**
 * The bridge's metrics and micro stats, on a plain nats-server: each request served is counted
 * under its endpoint, verb and outcome (the fault name on errors) and timed; a verb a peer makes up
 * is `unknown`; requests made are counted by verb and outcome; the connection's reconnects and
 * state are read at scrape time. The micro endpoint stats count the same requests and errors.
 */
import t from 'tap';
import { connect } from 'nats';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../../protocols/errors.js';
import { defineFamily, defineRequest } from '../../protocols/catalog/define.js';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Metrics } from '../../runtime/metrics/metrics.js';
import { Bridge, isMutatingVerb } from '../../runtime/nats/bridge.js';
import { BridgeMetrics, MAX_VERB_LABELS } from '../../runtime/nats/bridge-metrics.js';
import { newBridgeStats } from '../../runtime/nats/bridge-stats.js';
import { startNatsServer } from '../../runtime/services/nats-server.js';
import { until } from '../harness/poll.js';
import { sumOf } from '../harness/prom.js';

const server = await startNatsServer();
t.teardown(() => server.stop());
const log = createLogger('silent');
const serverNc = await connect({ servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
const clientNc = await connect({ servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
t.teardown(async () => {
  await serverNc.close();
  await clientNc.close();
});
const metrics = new Metrics({ process: false });
const bridge = new Bridge(serverNc, systemClock, log, 2_000, undefined, { metrics, role: 'conductor' });
const client = new Bridge(clientNc, systemClock, log, 2_000, undefined, { metrics, role: 'client' });
const svc = await bridge.addService('novact-test', 'bridge metrics tests');

const Get = defineRequest({ verb: 'get', pattern: () => 'bm.thing.*.get', subject: (_s, id) => `bm.thing.${id}.get`, mutating: false, body: Type.Object({}), reply: Type.Object({ id: Type.String() }), servedBy: 'conductor', calledBy: ['client'] });
const Family = defineFamily('thing', () => 'bm.thing.*.*', [Get]);
bridge.endpointFamily(svc, Family, ({ subject }) => {
  const id = subject.split('.')[2]!;
  if (id === 'missing') throw new NotFoundError(`thing ${id} could not be found`);
  return { id };
});
bridge.endpoint(svc, 'ping', 'bm.ping', () => ({ pong: true }), { isMutating: isMutatingVerb });
await serverNc.flush();
const text = () => metrics.scrape();

t.test('served: counted per endpoint, verb and outcome, and timed with the verb as a label', async (t) => {
  await client.request('bm.thing.a.get', 'get', {}, { timeoutMs: 2_000 });
  await client.request('bm.thing.b.get', 'get', {}, { timeoutMs: 2_000 });
  await t.rejects(client.request('bm.thing.missing.get', 'get', {}, { timeoutMs: 2_000 }), NotFoundError);
  const m = await text();
  t.equal(sumOf(m, 'novact_nats_requests_served_total', { role: 'conductor', endpoint: 'thing', verb: 'get', outcome: 'ok' }), 2);
  t.equal(sumOf(m, 'novact_nats_requests_served_total', { role: 'conductor', endpoint: 'thing', verb: 'get', outcome: 'itemNotFound' }), 1, 'the fault name is the outcome');
  t.equal(sumOf(m, 'novact_nats_request_serve_seconds_count', { endpoint: 'thing', verb: 'get', outcome: 'ok' }), 2, 'the histogram carries the verb');
  t.equal(sumOf(m, 'novact_nats_request_serve_seconds_count', { endpoint: 'thing', verb: 'get', outcome: 'error' }), 1, 'and a coarse outcome');
  t.equal(sumOf(m, 'novact_nats_requests_sent_total', { role: 'client', verb: 'get', outcome: 'ok' }), 2, 'requests made, by the asking bridge');
  t.equal(sumOf(m, 'novact_nats_requests_sent_total', { role: 'client', verb: 'get', outcome: 'itemNotFound' }), 1);
  t.notMatch(m, /thing\.a|"a"|"b"/, 'no subject or id in any label');
});

t.test('a verb a peer invents is one label, unknown, however many there are', async (t) => {
  for (let i = 0; i < 20; i++) await t.rejects(client.request(`bm.thing.a.made-up-${i}`, `made-up-${i}`, {}, { timeoutMs: 2_000 }));
  const m = await text();
  t.equal(sumOf(m, 'novact_nats_requests_served_total', { endpoint: 'thing', verb: 'unknown', outcome: 'badRequest' }), 20);
  const served = m.split('\n').filter((l) => l.startsWith('novact_nats_request_serve') || l.startsWith('novact_nats_requests_served'));
  t.same(served.filter((l) => l.includes('made-up')), [], 'no served series names the invented verbs');
});

t.test('one recorder per endpoint name (10,000 host subscriptions share one); past the verb budget, `other`', async (t) => {
  const own = new Metrics({ process: false });
  const bm = new BridgeMetrics(own, 'compute', { stats: newBridgeStats(), connected: true, openSubscriptions: 0, pendingRequests: 0 });
  t.equal(bm.served('host'), bm.served('host'), 'the same recorder for the same name');
  const r = bm.served('host');
  for (let i = 0; i < MAX_VERB_LABELS + 5; i++) r.record(`v${i}`, true, null, 0.001);
  const m = await own.scrape();
  t.equal(sumOf(m, 'novact_nats_requests_served_total', { endpoint: 'host', verb: 'v0' }), 1, 'a verb within the budget has its label');
  t.equal(sumOf(m, 'novact_nats_requests_served_total', { endpoint: 'host', verb: 'other' }), 5, 'the ones past it share `other`');
  t.equal(sumOf(m, 'novact_nats_requests_served_total', { verb: `v${MAX_VERB_LABELS + 1}` }), 0);
  bm.close();
});

t.test('micro endpoint stats count the same requests, errors and time', async (t) => {
  const s = await svc.stats();
  const thing = s.endpoints.find((e) => e.name === 'thing')!;
  t.equal(thing.num_requests, 23);
  t.equal(thing.num_errors, 21);
  t.match(thing.last_error, /^400:unknown verb 'made-up-19'/);
  t.ok(thing.processing_time > 0, 'processing time is measured while the handler runs');
  t.equal(thing.average_processing_time, Math.round(thing.processing_time / 23));
  const ping = s.endpoints.find((e) => e.name === 'ping')!;
  t.same([ping.num_requests, ping.num_errors, ping.last_error], [0, 0, ''], 'an endpoint never asked: zeros and an empty last error');
});

t.test('reconnects and the connection state, read at scrape time', async (t) => {
  t.equal(sumOf(await text(), 'novact_nats_connected', { role: 'conductor' }), 1);
  await server.kill();
  t.ok(await until(() => !bridge.connected), 'the bridge saw the disconnect');
  t.equal(sumOf(await text(), 'novact_nats_connected', { role: 'conductor' }), 0);
  await server.restart();
  t.ok(await until(() => bridge.connected, 10_000), 'and the reconnect');
  const m = await text();
  t.equal(sumOf(m, 'novact_nats_connected', { role: 'conductor' }), 1);
  t.equal(sumOf(m, 'novact_nats_reconnects_total', { role: 'conductor' }), 1);
  t.equal(bridge.stats.disconnects, 1);
});
