import t, { type Test } from 'tap';
import { InternalError, NotFoundError, TimeoutError } from '../../protocols/errors.js';
import { EntityRegistry } from '../../runtime/actors/registry.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import { ActorSystem, type ActorDef, type ActorRef } from '../../runtime/actors/system.js';
import { ManualClock, systemClock, type Clock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => { resolve = res; });
  return { promise, resolve };
}

/** Settlement tracker that never lets an expected rejection go unhandled. */
function track<T>(p: Promise<T>) {
  const s: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then((v) => { s.settled = true; s.value = v; }, (e) => { s.settled = true; s.error = e; });
  return s;
}

let systems = 0;
function newSystem(t: Test, clock: Clock = systemClock): ActorSystem {
  // nact keys systems by name in a process-wide map: every test gets its own.
  const sys = new ActorSystem(clock, createLogger('silent'), `test-${process.pid}-${++systems}`);
  t.teardown(() => sys.stop());
  return sys;
}

type Msg =
  | { k: 'add'; v: number }
  | { k: 'get'; reply: ReplyTo<number[]> }
  | { k: 'boom'; reason: string; reply?: ReplyTo<unknown> }
  | { k: 'asyncBoom'; reason: string; reply?: ReplyTo<unknown> };

/** A list actor: `add` appends, `get` answers the list, `boom` throws. Counts its inits. */
function listActor(over: Partial<ActorDef<number[], Msg>> = {}) {
  const counters = { inits: 0 };
  const def: ActorDef<number[], Msg> = {
    init: () => {
      counters.inits++;
      return [];
    },
    handle: async (s, m) => {
      switch (m.k) {
        case 'add':
          return [...s, m.v];
        case 'get':
          m.reply.ok(s);
          return s;
        case 'boom':
          throw new Error(m.reason);
        case 'asyncBoom':
          await Promise.resolve();
          throw new Error(m.reason);
      }
    },
    ...over,
  };
  return { def, counters };
}

const get = (ref: ActorRef<Msg>, timeoutMs = 5_000) => ref.ask<number[]>((reply) => ({ k: 'get', reply }), timeoutMs);

t.test('messages are handled in order, one at a time, even with async handlers', async (t) => {
  const sys = newSystem(t);
  const log: string[] = [];
  let active = 0;
  let maxActive = 0;
  const N = 20;
  const last = deferred();
  const ref = sys.spawn<number[], { v: number }>('ordered', {
    init: () => [],
    handle: async (s, m) => {
      active++;
      maxActive = Math.max(maxActive, active);
      log.push(`start${m.v}`);
      // Yield to the event loop: a second handler would get a chance to start here.
      await new Promise<void>((r) => setImmediate(r));
      await Promise.resolve();
      log.push(`end${m.v}`);
      active--;
      if (m.v === N) last.resolve();
      return [...s, m.v];
    },
  });
  for (let i = 1; i <= N; i++) ref.tell({ v: i });
  await last.promise;
  t.equal(maxActive, 1, 'never two handlers at once');
  t.same(log, Array.from({ length: N }, (_, i) => [`start${i + 1}`, `end${i + 1}`]).flat(), 'start/end strictly alternate, in send order');
  t.equal(ref.path, '/ordered', 'a top-level path is /<name>, without the nact scheme');
});

t.test('ask carries a reply slot; the state threads through messages', async (t) => {
  const sys = newSystem(t);
  const { def } = listActor();
  const ref = sys.spawn('list', def);
  t.ok(ref.alive, 'alive after spawn');
  ref.tell({ k: 'add', v: 1 });
  ref.tell({ k: 'add', v: 2 });
  t.same(await get(ref), [1, 2]);
  ref.tell({ k: 'add', v: 3 });
  t.same(await get(ref), [1, 2, 3]);
});

t.test('a handler can fail the reply slot with a typed or foreign error', async (t) => {
  const sys = newSystem(t);
  const ref = sys.spawn<null, { k: 'typed' | 'foreign' | 'twice'; reply: ReplyTo<string> }>('failer', {
    init: () => null,
    handle: (s, m) => {
      if (m.k === 'typed') m.reply.fail(new NotFoundError('no such thing'));
      else if (m.k === 'foreign') m.reply.fail(new Error('driver said no'));
      else {
        m.reply.ok('first');
        m.reply.ok('second');
        m.reply.fail(new Error('too late'));
      }
      return s;
    },
  });
  const typed = await ref.ask<string>((reply) => ({ k: 'typed', reply }), 5_000).catch((e: unknown) => e);
  t.ok(typed instanceof NotFoundError, 'typed error passes through');
  t.match(typed, { code: 404, message: 'no such thing' });
  const foreign = await ref.ask<string>((reply) => ({ k: 'foreign', reply }), 5_000).catch((e: unknown) => e);
  t.ok(foreign instanceof InternalError, 'foreign error becomes a computeFault');
  t.match(foreign, { code: 500, message: 'driver said no', retryable: false });
  t.equal(await ref.ask<string>((reply) => ({ k: 'twice', reply }), 5_000), 'first', 'a reply slot settles exactly once');
});

t.test('ask timeout rejects with a typed TimeoutError (manual clock)', async (t) => {
  const clock = new ManualClock(0);
  const sys = newSystem(t, clock);
  const held: ReplyTo<string>[] = [];
  const received = deferred();
  const answered = deferred();
  const ref = sys.spawn<null, { k: 'hold'; reply: ReplyTo<string> } | { k: 'answer' }>('silent', {
    init: () => null,
    handle: (s, m) => {
      if (m.k === 'hold') {
        held.push(m.reply);
        received.resolve();
      } else {
        held[0]!.ok('too late');
        answered.resolve();
      }
      return s;
    },
  });
  const p = track(ref.ask<string>((reply) => ({ k: 'hold', reply }), 100));
  await received.promise;
  clock.advance(99);
  await Promise.resolve();
  t.notOk(p.settled, 'not timed out before the deadline');
  clock.advance(1);
  await Promise.resolve();
  await Promise.resolve();
  t.ok(p.settled, 'settled at the deadline');
  t.ok(p.error instanceof TimeoutError, 'TimeoutError');
  t.match(p.error, { fault: 'timeout', code: 504, retryable: true, message: '/silent did not answer within 100 ms' });
  t.equal(held[0]!.settled, true, 'the slot is settled by the timeout');
  ref.tell({ k: 'answer' });
  await answered.promise;
  t.equal(p.value, undefined, 'a late answer is ignored');
  t.ok(ref.alive, 'the actor itself is unaffected');
});

t.test('ask timeout with the system clock', async (t) => {
  const sys = newSystem(t);
  const ref = sys.spawn<null, { reply: ReplyTo<string> }>('mute', { init: () => null, handle: (s) => s });
  // systemClock timers are unref'd; keep the loop alive while waiting for the rejection.
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    await t.rejects(ref.ask<string>((reply) => ({ reply }), 10), TimeoutError);
  } finally {
    clearInterval(keepAlive);
  }
});

t.test('a crashing actor is restarted with fresh init state; the crashing ask fails retryably', async (t) => {
  const sys = newSystem(t);
  const { def, counters } = listActor();
  const ref = sys.spawn('crashy', def);
  t.equal(counters.inits, 1);
  ref.tell({ k: 'add', v: 1 });
  ref.tell({ k: 'add', v: 2 });
  t.same(await get(ref), [1, 2]);

  // Sent back to back: the messages behind the crashing one survive the restart.
  const crashed = ref.ask<unknown>((reply) => ({ k: 'boom', reason: 'kaboom', reply }), 5_000).catch((e: unknown) => e);
  ref.tell({ k: 'add', v: 5 });
  const after = get(ref);
  const err = await crashed;
  t.ok(err instanceof InternalError, 'the crash answers the asker');
  t.match(err, { fault: 'computeFault', code: 500, retryable: true, message: 'actor /crashy crashed handling the request: kaboom' });
  t.same(await after, [5], 'state was reset by init; later mailbox messages were kept');
  t.equal(counters.inits, 2, 'init ran again on restart');
  t.equal(sys.stats.restarts, 1);
  t.equal(sys.stats.stops, 0);
  t.equal(sys.stats.lastError, '/crashy: kaboom');
  t.ok(ref.alive, 'still alive after a restart');

  // An async rejection crashes the same way; a told (no reply) crash is fine too.
  ref.tell({ k: 'boom', reason: 'no reply slot' });
  const e2 = await ref.ask<unknown>((reply) => ({ k: 'asyncBoom', reason: 'later', reply }), 5_000).catch((e: unknown) => e);
  t.match(e2, { retryable: true, message: /later/ });
  t.same(await get(ref), []);
  t.equal(counters.inits, 4);
  t.equal(sys.stats.restarts, 3);
  t.match(sys.stats.lastError, /later$/);
});

t.test('restart budget exhausted: the actor stops and is no longer alive', async (t) => {
  // Zero backoff: no clock sleep, so a manual clock drives everything, including the final ask timeout.
  const clock = new ManualClock(0);
  const sys = newSystem(t, clock);
  const stopped = deferred<{ state: number[]; leftover: Msg[] }>();
  const { def, counters } = listActor({
    restart: { maxRestarts: 2, backoffMs: 0, windowMs: 10_000 },
    afterStop: (state, leftover) => stopped.resolve({ state, leftover }),
  });
  const ref = sys.spawn('fragile', def);
  const boom = (reason: string) =>
    ref.ask<unknown>((reply) => ({ k: 'boom', reason, reply }), 5_000).catch((e: unknown) => e);

  t.match(await boom('one'), { retryable: true });
  t.match(await boom('two'), { retryable: true });
  t.equal(sys.stats.restarts, 2);
  t.ok(ref.alive);
  ref.tell({ k: 'add', v: 7 });
  t.match(await boom('three'), { retryable: true, message: /three/ }, 'the last crash still answers its asker');
  const { state } = await stopped.promise;
  t.same(state, [7], 'afterStop sees the state at stop');
  t.notOk(ref.alive, 'alive is false once stopped');
  t.equal(sys.stats.restarts, 2, 'no restart past the budget');
  t.equal(sys.stats.stops, 1);
  t.equal(sys.stats.lastError, '/fragile: three');
  t.equal(counters.inits, 3, 'no init after giving up');

  // A message to a stopped actor is dropped: an ask can only time out.
  ref.tell({ k: 'add', v: 1 });
  const p = track(get(ref, 50));
  clock.advance(50);
  await Promise.resolve();
  await Promise.resolve();
  t.ok(p.error instanceof TimeoutError, 'ask to a stopped actor times out');
});

t.test('the budget window lets an occasional crash restart forever', async (t) => {
  const clock = new ManualClock(0);
  const sys = newSystem(t, clock);
  const { def } = listActor({ restart: { maxRestarts: 1, backoffMs: 0, windowMs: 1_000 } });
  const ref = sys.spawn('occasional', def);
  for (let i = 0; i < 3; i++) {
    const e = await ref.ask<unknown>((reply) => ({ k: 'boom', reason: `crash ${i}`, reply }), 5_000).catch((x: unknown) => x);
    t.match(e, { retryable: true });
    clock.advance(1_000);
  }
  t.same(await get(ref), []);
  t.ok(ref.alive, 'one crash per window never exhausts a budget of one');
  t.equal(sys.stats.restarts, 3);
  t.equal(sys.stats.stops, 0);
});

t.test('escalate: a child that gives up makes its parent restart, which stops the child', async (t) => {
  const sys = newSystem(t);
  const parentInits = { n: 0 };
  const parent = sys.spawn<null, { k: 'noop' }>('parent', {
    init: () => { parentInits.n++; return null; },
    handle: (s) => s,
    restart: { backoffMs: 0 },
  });
  const childStopped = deferred();
  const { def } = listActor({ restart: { maxRestarts: 0, onExhausted: 'escalate' }, afterStop: () => childStopped.resolve() });
  const child = sys.spawnChild(parent, 'child', def);
  t.equal(parent.path, '/parent');
  t.equal(child.path, '/parent/child', 'a child path nests under its parent');
  t.same(await get(child), []);
  const e = await child.ask<unknown>((reply) => ({ k: 'boom', reason: 'child broke', reply }), 5_000).catch((x: unknown) => x);
  t.match(e, { retryable: true, message: /child broke/ });
  await childStopped.promise;
  t.notOk(child.alive, 'the parent reset stopped its child');
  t.ok(parent.alive, 'the parent lives on');
  t.equal(parentInits.n, 2, 'the parent was restarted');
  t.equal(sys.stats.stops, 1, 'the child gave up');
  t.equal(sys.stats.restarts, 1, 'the parent restarted');
});

t.test('init may tell itself a message from a microtask (rehydration pattern)', async (t) => {
  const sys = newSystem(t);
  const ready = deferred<string>();
  sys.spawn<string, { k: 'hydrate' }>('self-teller', {
    init: (ctx) => {
      queueMicrotask(() => ctx.self.tell({ k: 'hydrate' }));
      return 'cold';
    },
    handle: (s, m, ctx) => {
      ready.resolve(`${s}->${m.k}@${ctx.name}`);
      return 'warm';
    },
  });
  t.equal(await ready.promise, 'cold->hydrate@self-teller');
});

t.test('EntityRegistry', async (t) => {
  t.test('spawns once per id', async (t) => {
    const sys = newSystem(t);
    const inits = new Map<string, number>();
    const reg = new EntityRegistry<Msg>(sys, undefined, 'inst', (id) => listActor({
      init: () => {
        inits.set(id, (inits.get(id) ?? 0) + 1);
        return [];
      },
    }).def);
    const a1 = reg.ref('a');
    const a2 = reg.ref('a');
    t.equal(a1, a2, 'the same ref for the same id');
    t.equal(inits.get('a'), 1, 'init ran once');
    const b = reg.ref('b');
    t.not(b, a1);
    t.equal(reg.size, 2);
    t.equal(a1.path, '/inst-a', 'named <prefix>-<id>');
    a1.tell({ k: 'add', v: 1 });
    b.tell({ k: 'add', v: 2 });
    t.same(await get(reg.ref('a')), [1], 'each id has its own state');
    t.same(await get(reg.ref('b')), [2]);
  });

  t.test('respawns after stop with fresh state', async (t) => {
    const sys = newSystem(t);
    let inits = 0;
    let stopped = deferred();
    const reg = new EntityRegistry<Msg>(sys, undefined, 'inst', () => listActor({
      init: () => { inits++; return []; },
      afterStop: () => stopped.resolve(),
    }).def);
    const first = reg.ref('a');
    first.tell({ k: 'add', v: 1 });
    t.same(await get(first), [1]);
    first.stop();
    await stopped.promise;
    t.equal(reg.size, 0, 'a stopped actor leaves the registry');
    stopped = deferred();
    const second = reg.ref('a');
    t.equal(inits, 2, 'a new actor was spawned');
    t.ok(second.alive);
    t.same(await get(second), [], 'fresh state, rehydrated by init');
  });

  t.test('a ref asked for between stop and afterStop is a live successor', async (t) => {
    const sys = newSystem(t);
    const stopped = deferred();
    let inits = 0;
    const reg = new EntityRegistry<Msg>(sys, undefined, 'inst', () => listActor({
      init: () => { inits++; return []; },
      afterStop: () => stopped.resolve(),
    }).def);
    const first = reg.ref('a');
    first.stop();
    t.notOk(first.alive, 'not alive right after stop');
    const second = reg.ref('a');
    t.ok(second.alive);
    await stopped.promise;
    t.equal(reg.size, 1, 'the late afterStop of the old actor does not evict its successor');
    t.equal(reg.ref('a'), second);
    t.equal(inits, 2);
  });

  t.test('messages left in the mailbox at stop go to the successor', async (t) => {
    const sys = newSystem(t);
    type M = Msg | { k: 'hold' };
    const entered = deferred();
    const gate = deferred();
    const leftovers: M[][] = [];
    const firstStopped = deferred();
    let generation = 0;
    const reg = new EntityRegistry<M>(sys, undefined, 'inst', () => {
      const gen = ++generation;
      const base = listActor().def;
      return {
        init: () => [] as number[],
        handle: async (s: number[], m: M, ctx) => {
          if (m.k === 'hold') {
            entered.resolve();
            await gate.promise;
            return s;
          }
          return base.handle(s, m, ctx as never);
        },
        afterStop: (_s: number[], leftover: M[]) => {
          leftovers.push(leftover);
          if (gen === 1) firstStopped.resolve();
        },
      };
    });
    const first = reg.ref('a');
    first.tell({ k: 'hold' });
    await entered.promise;
    first.tell({ k: 'add', v: 1 });
    first.tell({ k: 'add', v: 2 });
    first.stop();
    gate.resolve();
    await firstStopped.promise;
    t.same(leftovers[0], [{ k: 'add', v: 1 }, { k: 'add', v: 2 }], 'afterStop sees the unhandled messages');
    t.equal(generation, 2, 'a successor was spawned to take them');
    const successor = reg.ref('a');
    t.not(successor, first);
    t.same(await get(successor), [1, 2], 'the successor handled the leftovers, in order');
  });

  t.test('idle actors passivate and come back on demand', async (t) => {
    const sys = newSystem(t);
    let stopped = deferred();
    let inits = 0;
    const reg = new EntityRegistry<Msg>(sys, undefined, 'inst', () => listActor({
      idleShutdownMs: 5,
      init: () => { inits++; return []; },
      afterStop: () => stopped.resolve(),
    }).def);
    const a = reg.ref('a');
    a.tell({ k: 'add', v: 1 });
    t.same(await get(a), [1]);
    await stopped.promise; // nact's own idle timer stops it
    t.notOk(a.alive);
    t.equal(reg.size, 0);
    stopped = deferred();
    t.same(await get(reg.ref('a')), []);
    t.equal(inits, 2);
  });

  t.test('children of a parent; stopAll stops everything and drops leftovers', async (t) => {
    const sys = newSystem(t);
    const parent = sys.spawn<null, never>('owner', { init: () => null, handle: (s) => s });
    const stops: string[] = [];
    const allStopped = deferred();
    let generation = 0;
    const reg = new EntityRegistry<Msg>(sys, parent, 'inst', (id) => {
      generation++;
      return listActor({
        afterStop: () => {
          stops.push(id);
          if (stops.length === 2) allStopped.resolve();
        },
      }).def;
    });
    const a = reg.ref('a');
    const b = reg.ref('b');
    t.equal(a.path, '/owner/inst-a', 'spawned under the parent');
    t.same(await get(a), []);
    t.same(await get(b), []);
    reg.stopAll();
    t.equal(reg.size, 0);
    await allStopped.promise;
    t.same(stops.sort(), ['a', 'b']);
    t.notOk(a.alive);
    t.notOk(b.alive);
    t.equal(generation, 2, 'nothing respawned after stopAll');
  });
});
