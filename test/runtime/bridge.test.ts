import t from 'tap';
import { connect } from 'nats';
import { Type } from '@sinclair/typebox';
import { BadRequestError, OverLimitError } from '../../protocols/errors.js';
import { defineMessage, defineRequest } from '../../protocols/catalog/define.js';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge, isMutatingVerb } from '../../runtime/nats/bridge.js';
import { startNatsServer } from '../../runtime/services/nats-server.js';

// One server for the file; a bridge that serves and a bare connection that asks.
const server = await startNatsServer();
t.teardown(() => server.stop());
const log = createLogger('silent');
const serverNc = await connect({ servers: server.url });
const clientNc = await connect({ servers: server.url });
t.teardown(async () => {
  await serverNc.close();
  await clientNc.close();
});
const bridge = new Bridge(serverNc, systemClock, log, 2_000);
const client = new Bridge(clientNc, systemClock, log, 2_000);
const svc = await bridge.addService('test', 'bridge tests');
const opts = { isMutating: isMutatingVerb };

// Whatever the bridge does, nothing may escape as an unhandled rejection or exception.
const escaped: unknown[] = [];
const onEscape = (e: unknown) => escaped.push(e);
process.on('unhandledRejection', onEscape);
process.on('uncaughtException', onEscape);
t.teardown(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
});
const enc = new TextEncoder();
const env = (body: unknown = {}) => enc.encode(JSON.stringify({ v: 1, body }));

bridge.endpoint(svc, 'get', 'bt.crlf.get', ({ envelope }) => {
  // NUL cannot arrive in a request any more (the envelope refuses it); a handler can still make one.
  throw new BadRequestError(`Flavor ${String(envelope.body.ref).replace('#', '\u0000')} could not be found.`);
}, opts);
bridge.endpoint(svc, 'list', 'bt.big.list', () => ({ blob: 'x'.repeat(2 * 1024 * 1024) }), opts);
bridge.endpoint(svc, 'ping', 'bt.alive.ping', () => ({ pong: true }), opts);
await serverNc.flush();

t.test('C1: CR, LF and NUL in an error message: the reply arrives, the header is sanitised', async (t) => {
  const msg = await clientNc.request('bt.crlf.get', env({ ref: 'a\r\nInjected: 1#z' }), { timeout: 2_000 });
  const header = msg.headers?.get('Nats-Service-Error') ?? '';
  t.notMatch(header, /[\r\n\u0000]/, 'no control characters in the header');
  t.match(header, /Flavor a {2}Injected: 1 z could not be found/);
  t.equal(msg.headers?.get('Nats-Service-Error-Code'), '400');
  const body = JSON.parse(new TextDecoder().decode(msg.data));
  t.equal(body.error.fault, 'badRequest', 'the typed error is in the body');
  t.same(await client.request('bt.alive.ping', 'ping', {}, { timeoutMs: 2_000 }), { pong: true }, 'still serving');
  t.same(escaped, []);
});

t.test('C2: a reply over max_payload becomes a typed overLimit error', async (t) => {
  const err = await client.request('bt.big.list', 'list', {}, { timeoutMs: 5_000 }).catch((e: unknown) => e);
  t.type(err, OverLimitError);
  t.match((err as Error).message, /reply too large/);
  t.equal(bridge.stats.oversizeReplies, 1);
  t.same(await client.request('bt.alive.ping', 'ping', {}, { timeoutMs: 2_000 }), { pong: true }, 'still serving');
  t.same(escaped, []);
});

t.test('publish over max_payload is logged and counted, never thrown', async (t) => {
  const before = bridge.stats.publishErrors;
  t.doesNotThrow(() => bridge.publish('bt.anything', { blob: 'x'.repeat(2 * 1024 * 1024) }));
  t.equal(bridge.stats.publishErrors, before + 1);
});

t.test('C3: a throwing subscription callback does not deafen the connection', async (t) => {
  let calls = 0;
  bridge.subscribe<{ host: string }>('bt.hb', (hb) => {
    calls++;
    hb.host.length; // throws on `null`, as the scheduler's heartbeat handler did
  });
  await serverNc.flush();
  clientNc.publish('bt.hb', enc.encode('null'));
  await clientNc.flush();
  // The request goes through the same reader after the poisoned message: it must be answered.
  t.same(await client.request('bt.alive.ping', 'ping', {}, { timeoutMs: 2_000 }), { pong: true });
  t.equal(calls, 1);
  t.equal(bridge.stats.handlerErrors, 1, 'the failure was counted');
  t.same(escaped, []);
});

t.test('catalog messages: null, {} and wrong types are dropped and counted, never handed on', async (t) => {
  const Beat = defineMessage({
    name: 'beat', pattern: () => 'bt.beat.*', subject: (_s, h) => `bt.beat.${h}`,
    body: Type.Object({ host: Type.String(), seq: Type.Integer() }),
    matches: (_s, subject, b) => subject === `bt.beat.${b.host}`,
    publishedBy: [], subscribedBy: [],
  });
  const got: unknown[] = [];
  bridge.on(Beat, (b) => got.push(b));
  await serverNc.flush();
  const before = bridge.stats.droppedMalformed;
  const bad = ['null', '{}', 'not json', '[]', '{"host":1,"seq":1}', '{"host":"h1","seq":"1"}', '{"host":"other","seq":1}'];
  for (const p of bad) clientNc.publish('bt.beat.h1', enc.encode(p));
  client.emit(Beat, ['h1'], { host: 'h1', seq: 7 });
  await clientNc.flush();
  // The valid one was published last: once it arrives, every bad one has been seen.
  const until = Date.now() + 2_000;
  while (got.length === 0 && Date.now() < until) await new Promise((r) => setImmediate(r));
  t.same(got, [{ host: 'h1', seq: 7 }]);
  t.equal(bridge.stats.droppedMalformed - before, bad.length);
});

t.test('catalog requests: the body is checked before the handler, a 400 names the path', async (t) => {
  const Echo = defineRequest({
    verb: 'echo', pattern: () => 'bt.echo', mutating: false,
    body: Type.Object({ n: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    reply: Type.Object({ n: Type.Integer() }),
    servedBy: 'conductor', calledBy: [],
  });
  let ran = 0;
  bridge.endpoint(svc, Echo, (body) => {
    ran++;
    return { n: body.n };
  });
  await serverNc.flush();
  t.same(await client.call(Echo, [], { n: 3 }, { timeoutMs: 2_000 }), { n: 3 });
  const err = await client.request('bt.echo', 'echo', { n: 'x' }, { timeoutMs: 2_000 }).catch((e: unknown) => e);
  t.type(err, BadRequestError);
  t.match((err as Error).message, /\/n/);
  t.equal(ran, 1, 'the handler never saw the bad body');
});

t.test('L2: a served subscription forgets itself when unsubscribed', async (t) => {
  const before = bridge.openSubscriptions;
  const subs = Array.from({ length: 20 }, (_, i) => bridge.serve(`bt.upload.${i}`, () => ({}), { verb: 'upload', isMutating: () => false }));
  t.equal(bridge.openSubscriptions, before + 20);
  for (const s of subs) s.unsubscribe();
  t.equal(bridge.openSubscriptions, before);
});
