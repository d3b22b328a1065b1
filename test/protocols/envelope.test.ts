import t, { type Test } from 'tap';
import { MAX_REQUEST_MS, PROTOCOL_VERSION, errorReply, okReply, parseReply, parseRequest, type ParseOptions } from '../../protocols/envelope.js';
import { BadRequestError, ConflictError } from '../../protocols/errors.js';

const NOW = 1_700_000_000_000;

function opts(over: Partial<ParseOptions> = {}): ParseOptions {
  let n = 0;
  return { type: 'get', requireIdempotencyKey: false, now: NOW, defaultTimeoutMs: 5_000, newId: () => `gen-${++n}`, ...over };
}

/** Asserts a BadRequestError whose message matches. */
function bad(t: Test, fn: () => unknown, msg: RegExp, what: string): void {
  try {
    fn();
    t.fail(`${what}: expected a BadRequestError`);
  } catch (e) {
    t.ok(e instanceof BadRequestError, `${what}: BadRequestError`);
    t.match((e as Error).message, msg, `${what}: message`);
  }
}

const req = (o: Record<string, unknown>) => JSON.stringify({ v: PROTOCOL_VERSION, ...o });

t.test('protocol version', async (t) => {
  t.equal(PROTOCOL_VERSION, 1);
});

t.test('empty payload: fine for reads, refused for mutating verbs', async (t) => {
  for (const raw of ['', '   ', '\n\t ']) {
    t.same(parseRequest(raw, opts()), { type: 'get', v: 1, id: 'gen-1', deadline: NOW + 5_000, body: {} }, `read with ${JSON.stringify(raw)}`);
    bad(t, () => parseRequest(raw, opts({ type: 'delete', requireIdempotencyKey: true })), /'delete' changes state: send an envelope with an idempotencyKey/, `mutating with ${JSON.stringify(raw)}`);
  }
  t.same(parseRequest('', opts({ type: 'list', defaultTimeoutMs: 10 })).deadline, NOW + 10, 'default deadline is now + default timeout');
});

t.test('a full envelope is kept as sent', async (t) => {
  const raw = req({ type: 'reboot', id: 'req-1', idempotencyKey: 'k:1.2_3-4', deadline: NOW + 99, body: { type: 'HARD' } });
  t.same(parseRequest(raw, opts({ type: 'reboot', requireIdempotencyKey: true })), {
    type: 'reboot', v: 1, id: 'req-1', idempotencyKey: 'k:1.2_3-4', deadline: NOW + 99, body: { type: 'HARD' },
  });
});

t.test('defaults for omitted fields', async (t) => {
  const env = parseRequest(req({}), opts({ type: 'list' }));
  t.same(env, { type: 'list', v: 1, id: 'gen-1', deadline: NOW + 5_000, body: {} });
  t.notOk('idempotencyKey' in env, 'no idempotencyKey property when none was sent');
  const past = parseRequest(req({ deadline: NOW - 1 }), opts());
  t.equal(past.deadline, NOW - 1, 'a past deadline parses; dropping late work is the receiver\'s call');
  t.equal(parseRequest(req({ deadline: 0 }), opts()).deadline, 0, 'zero is a deadline, not a missing one');
  t.equal(parseRequest(req({ type: 'get' }), opts()).type, 'get', 'a matching type is accepted');
});

t.test('malformed payloads', async (t) => {
  bad(t, () => parseRequest('{', opts()), /not valid JSON/, 'truncated JSON');
  bad(t, () => parseRequest('get', opts()), /not valid JSON/, 'a bare word');
  for (const raw of ['[]', '[1]', 'null', '42', '"s"', 'true']) {
    bad(t, () => parseRequest(raw, opts()), /must be a JSON object/, `non-object ${raw}`);
  }
});

t.test('version', async (t) => {
  for (const v of [undefined, 0, 2, '1', null, 1.5]) {
    const raw = JSON.stringify(v === undefined ? { type: 'get' } : { v, type: 'get' });
    bad(t, () => parseRequest(raw, opts()), /unsupported protocol version/, `v=${JSON.stringify(v)}`);
  }
});

t.test('type must match the subject verb', async (t) => {
  bad(t, () => parseRequest(req({ type: 'delete' }), opts({ type: 'get' })), /envelope type 'delete' does not match the subject's verb 'get'/, 'other verb');
  bad(t, () => parseRequest(req({ type: 7 }), opts()), /does not match/, 'non-string type');
  bad(t, () => parseRequest(req({ type: null }), opts()), /does not match/, 'null type');
});

t.test('id and idempotency key', async (t) => {
  const longest = 'k'.repeat(128);
  t.equal(parseRequest(req({ id: longest }), opts()).id, longest, '128 characters is fine');
  t.equal(parseRequest(req({ idempotencyKey: longest }), opts()).idempotencyKey, longest);
  for (const k of ['', 'k'.repeat(129), 'has space', 'a/b', 'ü', 'a*', 7, null, {}]) {
    const q = JSON.stringify(k);
    bad(t, () => parseRequest(req({ id: k }), opts()), /envelope id must be/, `id ${q}`);
    bad(t, () => parseRequest(req({ idempotencyKey: k }), opts()), /idempotencyKey must be/, `key ${q}`);
  }
  bad(t, () => parseRequest(req({ type: 'stop' }), opts({ type: 'stop', requireIdempotencyKey: true })), /'stop' changes state and needs an idempotencyKey/, 'missing key on a mutating verb');
  t.equal(parseRequest(req({ idempotencyKey: 'abc' }), opts({ type: 'stop', requireIdempotencyKey: true })).idempotencyKey, 'abc');
});

t.test('deadline', async (t) => {
  for (const d of ['soon', '1700000000000', null, true, {}]) {
    bad(t, () => parseRequest(req({ deadline: d }), opts()), /deadline must be epoch milliseconds/, `deadline ${JSON.stringify(d)}`);
  }
  // JSON cannot spell Infinity, but an out-of-range literal parses to it.
  bad(t, () => parseRequest('{"v":1,"deadline":1e999}', opts()), /deadline must be epoch milliseconds/, 'deadline 1e999 (Infinity)');
  bad(t, () => parseRequest('{"v":1,"deadline":-1e999}', opts()), /deadline must be epoch milliseconds/, 'deadline -1e999');
});

t.test('body', async (t) => {
  for (const b of [null, [], 'x', 3, false]) {
    bad(t, () => parseRequest(req({ body: b }), opts()), /body must be a JSON object/, `body ${JSON.stringify(b)}`);
  }
  t.same(parseRequest(req({ body: { a: [1, { b: 2 }] } }), opts()).body, { a: [1, { b: 2 }] });
});

t.test('parseReply', async (t) => {
  t.same(parseReply(JSON.stringify(okReply({ id: 'x' }))), { v: 1, ok: true, body: { id: 'x' } });
  t.same(parseReply('{"v":1,"ok":true}'), { v: 1, ok: true, body: undefined }, 'an ok reply may have no body');
  const wire = new ConflictError('busy', { retryAfter: 3 }).toWire();
  t.same(parseReply(JSON.stringify(errorReply(wire))), { v: 1, ok: false, error: wire });

  bad(t, () => parseReply('nope'), /reply payload is not valid JSON/, 'bad JSON');
  for (const raw of ['null', '[]', '1', '{}', '{"v":1}', '{"v":1,"ok":"true"}']) {
    bad(t, () => parseReply(raw), /reply is not a novact envelope/, `not an envelope: ${raw}`);
  }
  bad(t, () => parseReply('{"v":2,"ok":true}'), /unsupported reply version 2/, 'a newer version');
  bad(t, () => parseReply('{"ok":true}'), /unsupported reply version/, 'no version');
  for (const error of [undefined, null, 'boom', { fault: 'timeout' }, { message: 'x' }, { fault: 1, message: 'x' }]) {
    bad(t, () => parseReply(JSON.stringify({ v: 1, ok: false, error })), /error reply without a typed error/, `error ${JSON.stringify(error)}`);
  }
});

t.test('okReply / errorReply', async (t) => {
  t.same(okReply([1, 2]), { v: 1, ok: true, body: [1, 2] });
  const w = { fault: 'itemNotFound' as const, code: 404, message: 'gone', retryable: false };
  t.same(errorReply(w), { v: 1, ok: false, error: w });
});

t.test('a far-future deadline is clamped to MAX_REQUEST_MS (1e308 overflowed the receivers\' timers)', async (t) => {
  t.equal(parseRequest(req({ deadline: 1e308 }), opts()).deadline, NOW + MAX_REQUEST_MS);
  t.equal(parseRequest(req({ deadline: NOW + 1_000 }), opts()).deadline, NOW + 1_000, 'a nearer deadline is kept');
});

t.test('NUL in any request string is a 400 before any handler (PostgreSQL and headers refuse it)', async (t) => {
  bad(t, () => parseRequest(req({ body: { owner: 'a\u0000b' } }), opts()), /NUL/, 'NUL in a body string');
  bad(t, () => parseRequest(req({ body: { m: { ['k\u0000']: 'v' } } }), opts()), /NUL/, 'NUL in a key');
  t.equal((parseRequest(req({ body: { s: 'a\nb' } }), opts()).body as { s: string }).s, 'a\nb', 'other strings pass on to their schema');
});
