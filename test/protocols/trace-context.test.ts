import t from 'tap';
import fc from 'fast-check';
import { busRequestId, formatTraceParent, globalRequestId, parseTraceParent, parseTraceState } from '../../protocols/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

t.test('traceparent: the W3C form is read and written back', async (t) => {
  t.same(parseTraceParent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, flags: 1 });
  t.same(parseTraceParent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, flags: 0 });
  t.equal(formatTraceParent({ traceId: TRACE, spanId: SPAN, flags: 1 }), `00-${TRACE}-${SPAN}-01`);
  t.same(parseTraceParent(`cc-${TRACE}-${SPAN}-01-future-fields`), { traceId: TRACE, spanId: SPAN, flags: 1 }, 'a later version is read as 00');
});

t.test('traceparent: anything malformed is no traceparent', async (t) => {
  for (const bad of [
    undefined, 42, '', 'garbage', `ff-${TRACE}-${SPAN}-01`, `00-${'0'.repeat(32)}-${SPAN}-01`, `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01-extra`, `00-${TRACE.slice(1)}-${SPAN}-01`, `00-${TRACE}-${SPAN}-1`,
    `00-${TRACE}-${SPAN}-01\r\nx: y`, `cc-${TRACE}-${SPAN}-01${'-x'.repeat(200)}`,
  ]) t.equal(parseTraceParent(bad), undefined, JSON.stringify(bad)?.slice(0, 60) ?? 'undefined');
});

t.test('traceparent: random text never throws, and what parses formats back to itself', async (t) => {
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
    const p = parseTraceParent(s);
    return p === undefined || parseTraceParent(formatTraceParent(p))?.traceId === p.traceId;
  }));
  fc.assert(fc.property(fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-f]{16}$/), fc.integer({ min: 0, max: 255 }), (traceId, spanId, flags) => {
    fc.pre(/[1-9a-f]/.test(traceId) && /[1-9a-f]/.test(spanId));
    const p = parseTraceParent(formatTraceParent({ traceId, spanId, flags }));
    return p?.traceId === traceId && p.spanId === spanId && p.flags === flags;
  }));
  t.pass('properties held');
});

t.test('tracestate: well-formed lists kept, anything else dropped whole', async (t) => {
  t.equal(parseTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'), 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  t.equal(parseTraceState(' a=1 , b@vendor=2 '), 'a=1,b@vendor=2');
  for (const bad of [undefined, '', ',', 'A=1', 'a', 'a=1,=2', `a=${'x'.repeat(600)}`, Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), 'a=1\nb=2', 'a=x,y']) {
    t.equal(parseTraceState(bad), undefined, JSON.stringify(bad)?.slice(0, 60) ?? 'undefined');
  }
});

t.test('request ids: Nova\'s req-<uuid> form for a caller\'s, plain short text on the bus', async (t) => {
  const id = 'req-5a63f0d7-1b69-447b-b621-4ea87cc7186d';
  t.equal(globalRequestId(id), id);
  for (const bad of [undefined, '', id.toUpperCase(), 'req-not-a-uuid', `${id} `, `${id}\n`, 'x'.repeat(4000), '5a63f0d7-1b69-447b-b621-4ea87cc7186d']) {
    t.equal(globalRequestId(bad), undefined, String(JSON.stringify(bad)).slice(0, 60));
  }
  t.equal(busRequestId(id), id);
  t.equal(busRequestId('sweep.stop.5a63f0d7:1'), 'sweep.stop.5a63f0d7:1');
  for (const bad of [undefined, '', 'a b', 'a\r\nb', 'x'.repeat(129), '{"json":1}']) t.equal(busRequestId(bad), undefined, String(JSON.stringify(bad)).slice(0, 60));
});
