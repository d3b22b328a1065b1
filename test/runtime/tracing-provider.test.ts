/**
 * When a tracer provider is installed: only when asked (options, then the standard OTEL_*
 * environment), never over an embedder's own, and uninstalled at shutdown so a later cluster in
 * the same process can install its own.
 */
import t from 'tap';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { installTracing, tracingWanted } from '../../runtime/trace/provider.js';
import { startSpan } from '../../runtime/trace/tracing.js';

t.test('wanted: by the options first, then OTEL_TRACES_EXPORTER; OTEL_SDK_DISABLED wins', async (t) => {
  const cases: [Parameters<typeof tracingWanted>[0], Record<string, string>, boolean][] = [
    [{}, {}, false],
    [{}, { OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{}, { OTEL_TRACES_EXPORTER: 'console, otlp' }, true],
    [{}, { OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ enabled: false }, { OTEL_TRACES_EXPORTER: 'otlp' }, false],
    [{ exporter: new InMemorySpanExporter() }, {}, true],
    [{ enabled: true }, { OTEL_SDK_DISABLED: 'true' }, false],
    [{ exporter: new InMemorySpanExporter() }, { OTEL_SDK_DISABLED: 'TRUE' }, false],
  ];
  for (const [o, env, want] of cases) t.equal(tracingWanted(o, env), want, `${JSON.stringify({ enabled: o.enabled, exporter: !!o.exporter })} ${JSON.stringify(env)}`);
});

t.test('installed when asked, its spans exported; uninstalled at shutdown, and again installable', async (t) => {
  t.equal(installTracing({}, {}), undefined, 'nothing by default');
  t.notOk(startSpan('nobody records').isRecording(), 'the API\'s no-op tracer');
  for (const round of [1, 2]) {
    const exporter = new InMemorySpanExporter();
    const installed = installTracing({ exporter, simple: true, serviceName: 'svc-test' }, {});
    t.ok(installed, `installed (${round})`);
    startSpan(`recorded ${round}`).end();
    t.same(exporter.getFinishedSpans().map((s) => s.name), [`recorded ${round}`]);
    t.equal(exporter.getFinishedSpans()[0]!.resource.attributes['service.name'], 'svc-test');
    await installed!.shutdown();
    t.notOk(startSpan('after shutdown').isRecording(), 'nothing records after shutdown');
  }
});

t.test('an embedder\'s own global provider is used as it is', async (t) => {
  const theirs = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(theirs)] });
  t.ok(trace.setGlobalTracerProvider(provider));
  t.teardown(async () => {
    await provider.shutdown();
    trace.disable();
  });
  const ours = new InMemorySpanExporter();
  t.equal(installTracing({ exporter: ours, simple: true }, {}), undefined, 'ours is not installed');
  startSpan('ours, recorded by theirs').end();
  t.same(theirs.getFinishedSpans().map((s) => s.name), ['ours, recorded by theirs']);
  t.same(ours.getFinishedSpans(), []);
});
