/**
 * A request's scope on the bus and through actors, on a real nats-server: the ids and the trace
 * context a request is made in reach its handler (through the headers), the server span is the
 * client span's child, an actor's handler runs in the scope its message was sent in (not in
 * whichever drained the mailbox), and hostile headers from a peer are ignored without harm.
 */
import t from 'tap';
import { connect, headers as natsHeaders } from 'nats';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { ActorSystem } from '../../runtime/actors/system.js';
import { Bridge, isMutatingVerb } from '../../runtime/nats/bridge.js';
import { startNatsServer } from '../../runtime/services/nats-server.js';
import { currentScope, makeScope, runInScope } from '../../runtime/trace/scope.js';
import { startSpan, inSpan } from '../../runtime/trace/tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
t.teardown(async () => {
  await provider.shutdown();
  trace.disable();
});

const server = await startNatsServer();
t.teardown(() => server.stop());
const lines: Record<string, unknown>[] = [];
const log = createLogger('debug', (l) => void lines.push(l));
const serverNc = await connect({ servers: server.url });
const clientNc = await connect({ servers: server.url });
t.teardown(async () => {
  await serverNc.close();
  await clientNc.close();
});
const bridge = new Bridge(serverNc, systemClock, log.child({ role: 'served' }), 2_000, undefined, { role: 'served' });
const client = new Bridge(clientNc, systemClock, log.child({ role: 'asker' }), 2_000);
const svc = await bridge.addService('scope-test', 'scope tests');
const seen: { requestId?: string; globalRequestId?: string; traceId: string | undefined }[] = [];
bridge.endpoint(svc, 'get', 'st.get', async () => {
  await Promise.resolve();
  const s = currentScope();
  seen.push({ requestId: s?.requestId, globalRequestId: s?.globalRequestId, traceId: s && trace.getSpanContext(s.trace)?.traceId });
  return { ok: true };
}, { isMutating: isMutatingVerb });
await serverNc.flush();

const escaped: unknown[] = [];
const onEscape = (e: unknown) => escaped.push(e);
process.on('unhandledRejection', onEscape);
t.teardown(() => process.off('unhandledRejection', onEscape));

t.test('the request ids and trace context reach the handler; one span per side, the server\'s the client\'s child', async (t) => {
  seen.length = 0;
  exporter.reset();
  const root = startSpan('test root');
  const scope = makeScope({ requestId: 'req-5a63f0d7-1b69-447b-b621-4ea87cc7186d', globalRequestId: 'req-00000000-1b69-447b-b621-4ea87cc7186d', trace: ROOT_CONTEXT });
  await runInScope(scope, () => inSpan(root, () => client.request('st.get', 'get', {}, { timeoutMs: 2_000 })));
  root.end();
  t.same(seen, [{ requestId: scope.requestId, globalRequestId: scope.globalRequestId, traceId: root.spanContext().traceId }]);
  const spans = exporter.getFinishedSpans();
  const sent = spans.find((s) => s.name === 'request get')!;
  const served = spans.find((s) => s.name === 'served get')!;
  t.equal(sent.parentSpanContext?.spanId, root.spanContext().spanId, 'the client span is under the active span');
  t.equal(served.parentSpanContext?.spanId, sent.spanContext().spanId, 'the server span is the client span\'s child');
  t.ok(lines.some((l) => l.role === 'served' && l.msg === 'request served' && l.request_id === scope.requestId), 'the served side logs under the request id');
});

t.test('outside any request: no ids, a trace of its own', async (t) => {
  seen.length = 0;
  await client.request('st.get', 'get', {}, { timeoutMs: 2_000 });
  t.equal(seen[0]!.requestId, undefined);
  t.equal(seen[0]!.globalRequestId, undefined);
  t.type(seen[0]!.traceId, 'string', 'the server span starts a trace');
});

t.test('hostile headers from a peer are ignored; the request is still answered', async (t) => {
  const hostile: Record<string, string>[] = [
    { 'Openstack-Request-Id': 'x'.repeat(500) },
    { 'Openstack-Request-Id': '{"a":1}', 'Openstack-Global-Request-Id': 'req-NOT' },
    { traceparent: 'not-a-traceparent', tracestate: '===' },
    { traceparent: `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01` },
  ];
  for (const h of hostile) {
    seen.length = 0;
    exporter.reset();
    const hdrs = natsHeaders();
    for (const [k, v] of Object.entries(h)) hdrs.set(k, v);
    const reply = await clientNc.request('st.get', new TextEncoder().encode(JSON.stringify({ v: 1, body: {} })), { timeout: 2_000, headers: hdrs });
    t.match(JSON.parse(new TextDecoder().decode(reply.data)), { ok: true }, `answered: ${JSON.stringify(h).slice(0, 60)}`);
    t.equal(seen[0]!.requestId, undefined, 'no request id taken');
    t.equal(seen[0]!.globalRequestId, undefined, 'no global request id taken');
    t.equal(exporter.getFinishedSpans().find((s) => s.name === 'served get')?.parentSpanContext, undefined, 'no remote parent');
  }
  t.same(escaped, []);
});

t.test('an actor handles each message in the scope it was sent in', async (t) => {
  const sys = new ActorSystem(systemClock, createLogger('silent'), `scope-${process.pid}`);
  t.teardown(() => sys.stop());
  const handled: (string | undefined)[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const ref = sys.spawn<null, { n: number }>('scoped', {
    init: () => null,
    handle: async (s, m) => {
      if (m.n === 0) await gate;
      handled.push(currentScope()?.requestId);
      return s;
    },
  });
  // The first message holds the mailbox; the others queue behind it, each sent in its own scope (or none).
  runInScope(makeScope({ requestId: 'req-a', trace: ROOT_CONTEXT }), () => ref.tell({ n: 0 }));
  runInScope(makeScope({ requestId: 'req-b', trace: ROOT_CONTEXT }), () => ref.tell({ n: 1 }));
  ref.tell({ n: 2 });
  release();
  const deadline = Date.now() + 5_000;
  while (handled.length < 3 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  t.same(handled, ['req-a', 'req-b', undefined]);
});
