/**
 * One boot through REST, followed across the roles: with a tracer provider recording into memory,
 * every span of the boot shares the caller's trace id and the parent chain runs from the REST
 * request through the conductor, the scheduler and its ledger claim to the compute host and its
 * driver; the request id the caller was answered is on the log lines of every role that handled
 * the boot and on the instance's action record. Hostile trace and request id headers are ignored.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createLogger } from '../../runtime/log/logger.js';
import { startApiCluster } from '../harness/api-http.js';
import { waitFor } from '../harness/poll.js';

const exporter = new InMemorySpanExporter();
const lines: Record<string, unknown>[] = [];
const { cluster, http, admin } = await startApiCluster(t, {
  logger: createLogger('debug', (l) => void lines.push(l)),
  tracing: { exporter, simple: true },
});
const image = (await cluster.client.listImages())[0]!;
const boot = (name: string, headers: Record<string, string>) =>
  http.post('/v2.1/servers', { token: admin, headers, body: { server: { name, flavorRef: '1', imageRef: image.id } } });

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const spansOf = (traceId: string) => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
/** The names from `span` up to the root of its trace. */
function chain(span: ReadableSpan, all: ReadableSpan[]): string[] {
  const byId = new Map(all.map((s) => [s.spanContext().spanId, s]));
  const names: string[] = [];
  for (let s: ReadableSpan | undefined = span; s; s = s.parentSpanContext ? byId.get(s.parentSpanContext.spanId) : undefined) names.push(s.name);
  return names;
}

t.test('a boot is one trace under the caller\'s traceparent; its request id is on every role\'s log lines', async (t) => {
  const traceId = hex(16);
  const callerSpan = hex(8);
  const globalId = `req-${crypto.randomUUID()}`;
  const r = await boot('traced-1', { traceparent: `00-${traceId}-${callerSpan}-01`, 'X-OpenStack-Request-ID': globalId });
  t.equal(r.status, 202);
  const requestId = r.headers.get('x-openstack-request-id')!;
  t.match(requestId, /^req-[0-9a-f-]{36}$/);
  t.not(requestId, globalId, 'the caller\'s id is the global request id, not ours');
  const id = r.body.server.id as string;
  await cluster.client.waitForServer(id, (s) => s.status === 'ACTIVE', 30_000);
  await waitFor('the driver and REST spans', () => spansOf(traceId).some((s) => s.name === 'driver spawn') && spansOf(traceId).some((s) => s.name === 'POST /v2.1/servers'));

  const spans = spansOf(traceId);
  const names = new Set(spans.map((s) => s.name));
  for (const n of ['POST /v2.1/servers', 'request build', 'conductor build', 'conductor select', 'scheduler select', 'scheduler place', 'ledger claim', 'conductor spawn', 'request spawn', 'compute spawn', 'driver spawn']) {
    t.ok(names.has(n), `span ${n}`);
  }
  const root = spans.find((s) => s.name === 'POST /v2.1/servers')!;
  t.equal(root.parentSpanContext?.spanId, callerSpan, 'the REST span is the caller\'s child');
  t.equal(root.attributes['openstack.request_id'], requestId);
  t.equal(root.attributes['openstack.global_request_id'], globalId);
  for (const s of spans) t.notMatch(s.name, /[0-9a-f]{8}-[0-9a-f]{4}/, `no uuid in the span name ${s.name}`);

  const toDriver = chain(spans.find((s) => s.name === 'driver spawn')!, spans);
  t.same(
    ['driver spawn', 'compute spawn', 'conductor spawn', 'conductor select', 'conductor build', 'POST /v2.1/servers'].filter((n) => toDriver.includes(n)),
    ['driver spawn', 'compute spawn', 'conductor spawn', 'conductor select', 'conductor build', 'POST /v2.1/servers'],
    `the driver's chain reaches the REST request: ${toDriver.join(' < ')}`,
  );
  const toLedger = chain(spans.find((s) => s.name === 'ledger claim')!, spans);
  t.same(
    ['ledger claim', 'scheduler select', 'request select', 'conductor select', 'conductor build', 'POST /v2.1/servers'].filter((n) => toLedger.includes(n)),
    ['ledger claim', 'scheduler select', 'request select', 'conductor select', 'conductor build', 'POST /v2.1/servers'],
    `the ledger claim's chain reaches the REST request: ${toLedger.join(' < ')}`,
  );
  t.equal(chain(spans.find((s) => s.name === 'driver spawn')!, spans).at(-1), 'POST /v2.1/servers', 'one root: the REST span');

  const mine = lines.filter((l) => l.request_id === requestId);
  const roles = new Set(mine.map((l) => l.role));
  for (const role of ['api', 'conductor', 'scheduler', 'compute']) t.ok(roles.has(role), `a ${role} line carries the request id`);
  t.ok(mine.some((l) => l.global_request_id === globalId), 'and the global request id');
  t.ok(mine.some((l) => l.role === 'compute' && l.instance_uuid === id && typeof l.host === 'string'), 'compute lines name the instance and host');

  const actions = await http.get(`/v2.1/servers/${id}/os-instance-actions`, { token: admin });
  t.equal(actions.status, 200);
  t.same(actions.body.instanceActions.map((a: { action: string; request_id: string }) => [a.action, a.request_id]), [['create', requestId]], 'the action record has the request id');
});

t.test('hostile trace and request id headers are ignored, never fatal', async (t) => {
  const hostile: Record<string, string>[] = [
    { traceparent: 'garbage' },
    { traceparent: `ff-${hex(16)}-${hex(8)}-01` },
    { traceparent: `00-${'0'.repeat(32)}-${hex(8)}-01` },
    { traceparent: `00-${hex(16)}-${hex(8)}-01-extra` },
    { traceparent: `00-${hex(16).toUpperCase()}-${hex(8)}-01` },
    { traceparent: `00-${hex(16)}-${hex(8)}-01`, tracestate: `${'x'.repeat(600)}=1` },
    { 'X-OpenStack-Request-ID': 'req-not-a-uuid' },
    { 'X-OpenStack-Request-ID': `req-${crypto.randomUUID()}`.toUpperCase() },
    { 'X-OpenStack-Request-ID': 'x'.repeat(4000) },
  ];
  const before = new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId));
  for (const [i, headers] of hostile.entries()) {
    const r = await http.get('/v2.1/flavors', { token: admin, headers });
    t.equal(r.status, 200, `answered: ${JSON.stringify(headers).slice(0, 80)}`);
    const requestId = r.headers.get('x-openstack-request-id')!;
    t.match(requestId, /^req-[0-9a-f-]{36}$/, `ours, not the caller's (${i})`);
    const rest = () => exporter.getFinishedSpans().find((s) => s.name === 'GET /v2.1/flavors' && s.attributes['openstack.request_id'] === requestId);
    await waitFor('the REST span', () => rest() !== undefined);
    const span = rest()!;
    t.notOk(before.has(span.spanContext().traceId), 'a trace of its own');
    t.equal(span.attributes['openstack.global_request_id'], undefined, 'no global request id taken');
    if (headers.traceparent && !headers.tracestate) t.equal(span.parentSpanContext, undefined, 'the malformed traceparent is no parent');
    if (headers.tracestate) t.equal(span.spanContext().traceState, undefined, 'the oversized tracestate is dropped');
  }
  const b = await boot('after-hostile', { traceparent: 'x'.repeat(10_000) });
  t.equal(b.status, 202, 'a build with a hostile traceparent is still served');
});
