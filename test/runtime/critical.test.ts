/**
 * A role-critical actor past its restart budget: one role-level restart (rebuild, fresh actor that
 * serves again), then unhealthy with immediate typed 503s; never a silent stop. Also the two small
 * helpers the fault work relies on: the negative cache and the bad-row isolation of batch writes.
 */
import t from 'tap';
import { until } from '../harness/poll.js';
import { UnavailableError } from '../../protocols/errors.js';
import { CriticalActor } from '../../runtime/actors/critical.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import { ActorSystem } from '../../runtime/actors/system.js';
import { ManualClock, systemClock } from '../../runtime/clock.js';
import { writeIsolating } from '../../runtime/db/isolate.js';
import { RoleHealth } from '../../runtime/health.js';
import { createLogger } from '../../runtime/log/logger.js';
import { NegativeCache } from '../../runtime/negative-cache.js';

type Msg = { kind: 'crash' } | { kind: 'ping'; reply: ReplyTo<string> };

t.test('spent budget → role restart → unhealthy with 503s', async (t) => {
  const errors: string[] = [];
  const log = createLogger('error', (l) => void errors.push(String(l.msg)));
  const actors = new ActorSystem(systemClock, log, 'critical-test');
  t.teardown(() => actors.stop());
  const health = new RoleHealth('test', () => Date.now());
  let rebuilds = 0;
  const critical = new CriticalActor<Msg>('worker', () => ({
    init: () => null,
    restart: { maxRestarts: 1, backoffMs: 1, maxBackoffMs: 1 },
    handle: (s, m) => {
      if (m.kind === 'crash') throw new Error('boom');
      m.reply.ok('pong');
      return s;
    },
  }), { actors, log, health, policy: { maxRestarts: 1, backoffMs: 1 }, rebuild: async () => void rebuilds++ });

  t.equal(await critical.ask<string>((reply) => ({ kind: 'ping', reply }), 1_000), 'pong');
  critical.tell({ kind: 'crash' });
  critical.tell({ kind: 'crash' });
  // Sent while the actor dies: held for its successor, not dropped.
  const held = critical.ask<string>((reply) => ({ kind: 'ping', reply }), 2_000);
  t.equal(await held, 'pong', 'a message sent meanwhile is answered by the rebuilt actor');
  t.equal(rebuilds, 1, 'rebuilt once');
  t.equal(health.snapshot().roleRestarts, 1);
  t.equal(health.status, 'ok');

  critical.tell({ kind: 'crash' });
  critical.tell({ kind: 'crash' });
  await until(() => health.status === 'unhealthy', 2_000, 5);
  t.equal(health.status, 'unhealthy', 'past the role budget');
  t.match(health.snapshot().reason, /boom/);
  t.ok(errors.includes('role-critical actor could not be kept running; the role is unhealthy'), 'said loudly');
  const started = Date.now();
  const err = await critical.ask<string>((reply) => ({ kind: 'ping', reply }), 5_000).catch((e: unknown) => e);
  t.type(err, UnavailableError, 'a typed 503');
  t.ok(Date.now() - started < 1_000, 'at once, not at the timeout');
  t.throws(() => health.check(), UnavailableError);
});

t.test('negative cache: TTL, bound, invalidation', async (t) => {
  const clock = new ManualClock(0);
  const c = new NegativeCache(clock, 1_000, 3);
  c.add('a');
  t.ok(c.has('a'));
  clock.advance(1_001);
  t.notOk(c.has('a'), 'expired');
  ['a', 'b', 'c', 'd'].forEach((id) => c.add(id));
  t.equal(c.size, 3, 'bounded');
  t.notOk(c.has('a'), 'the oldest is forgotten first');
  c.delete('b');
  t.notOk(c.has('b'), 'invalidated');
});

t.test('writeIsolating: one bad row fails alone', async (t) => {
  const written: number[] = [];
  let statements = 0;
  const failed = await writeIsolating(Array.from({ length: 64 }, (_, i) => i), async (rows) => {
    statements++;
    if (rows.includes(37)) throw new Error('bad row');
    written.push(...rows);
  });
  t.same(failed.map((f) => f.item), [37]);
  t.equal(written.length, 63, 'every other row is written');
  t.ok(statements <= 2 * Math.log2(64) + 1, `${statements} statements`);
});
