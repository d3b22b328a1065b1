import t from 'tap';
import { connect, headers } from 'nats';
import { TimeoutError, UnavailableError } from '../../protocols/errors.js';
import { RequestMux } from '../../runtime/nats/request-mux.js';
import { startNatsServer } from '../../runtime/services/nats-server.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

t.test('request/reply over one inbox: replies, timeouts, no responders, close', async (t) => {
  const server = await startNatsServer();
  t.teardown(() => server.stop());
  const nc = await connect({ servers: server.url });
  const responder = await connect({ servers: server.url });
  t.teardown(() => responder.close());

  const answered = new Set<string>();
  // Echo, after a delay given in the request; a second service answers with headers.
  responder.subscribe('echo', {
    callback: (_e, m) => {
      const { delay, text } = JSON.parse(dec.decode(m.data)) as { delay: number; text: string };
      setTimeout(() => {
        answered.add(text);
        m.respond(enc.encode(text));
      }, delay);
    },
  });
  responder.subscribe('headed', {
    callback: (_e, m) => {
      const h = headers();
      h.set('Nats-Service-Error-Code', '409');
      m.respond(enc.encode('conflict'), { headers: h });
    },
  });
  await responder.flush();

  const mux = new RequestMux(nc);
  const ask = (text: string, delay = 0, timeoutMs = 2_000) => mux.request('echo', enc.encode(JSON.stringify({ text, delay })), timeoutMs);

  // Many at once, answered out of order, each reply reaches its own caller.
  const texts = Array.from({ length: 200 }, (_, i) => `m${i}`);
  const replies = await Promise.all(texts.map((x, i) => ask(x, (i * 7) % 30).then((m) => dec.decode(m.data))));
  t.same(replies, texts, 'every reply to its request');
  t.equal(mux.size, 0, 'nothing left pending');

  const headed = await mux.request('headed', new Uint8Array(), 1_000);
  t.equal(dec.decode(headed.data), 'conflict', 'a reply with headers is a reply');
  t.equal(headed.headers?.get('Nats-Service-Error-Code'), '409');

  await t.rejects(mux.request('nobody.home', new Uint8Array(), 1_000), UnavailableError, 'no responders: typed, at once');
  await t.rejects(ask('slow', 2_000, 100), TimeoutError, 'a late reply times out');
  t.notOk(answered.has('slow'), 'the timeout fired at its deadline, before the reply was even sent');
  t.equal(mux.size, 0);

  const pending = ask('never', 60_000, 60_000);
  await nc.close();
  await t.rejects(pending, UnavailableError, 'closing the connection fails what is pending');
});
