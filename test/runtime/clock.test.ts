import t from 'tap';
import { ManualClock, systemClock } from '../../runtime/clock.js';

t.test('ManualClock starts where told and only moves on advance', async (t) => {
  t.equal(new ManualClock().now(), 0);
  const c = new ManualClock(1_000);
  t.equal(c.now(), 1_000);
  let fired = false;
  c.setTimeout(() => { fired = true; }, 10);
  t.equal(c.now(), 1_000, 'scheduling does not move time');
  c.advance(9);
  t.equal(c.now(), 1_009);
  t.notOk(fired, 'not due yet');
  c.advance(1);
  t.ok(fired, 'fires exactly when due');
  t.equal(c.now(), 1_010);
});

t.test('timers fire in due order, ties in scheduling order, with now() at their due time', async (t) => {
  const c = new ManualClock(0);
  const log: string[] = [];
  const at = (name: string) => () => log.push(`${name}@${c.now()}`);
  c.setTimeout(at('c30'), 30);
  c.setTimeout(at('a10'), 10);
  c.setTimeout(at('b20'), 20);
  c.setTimeout(at('a10-second'), 10);
  c.setTimeout(at('late'), 100);
  c.advance(50);
  t.same(log, ['a10@10', 'a10-second@10', 'b20@20', 'c30@30']);
  t.equal(c.now(), 50, 'time ends at the advance target, not the last timer');
  c.advance(50);
  t.same(log.slice(4), ['late@100']);
  c.advance(1_000);
  t.equal(log.length, 5, 'a timeout fires once');
});

t.test('a zero-delay timeout fires on the next advance, even advance(0)', async (t) => {
  const c = new ManualClock(5);
  let n = 0;
  c.setTimeout(() => n++, 0);
  t.equal(n, 0, 'never synchronously');
  c.advance(0);
  t.equal(n, 1);
  t.equal(c.now(), 5);
});

t.test('timers set from a callback fire in the same advance when due', async (t) => {
  const c = new ManualClock(0);
  const log: string[] = [];
  c.setTimeout(() => {
    log.push(`outer@${c.now()}`);
    c.setTimeout(() => log.push(`inner@${c.now()}`), 5);
    c.setTimeout(() => log.push(`beyond@${c.now()}`), 50);
  }, 10);
  c.setTimeout(() => log.push(`mid@${c.now()}`), 12);
  c.advance(20);
  t.same(log, ['outer@10', 'mid@12', 'inner@15']);
  c.advance(40);
  t.same(log, ['outer@10', 'mid@12', 'inner@15', 'beyond@60']);
});

t.test('intervals repeat at their period, interleaved with timeouts', async (t) => {
  const c = new ManualClock(0);
  const log: string[] = [];
  c.setInterval(() => log.push(`i@${c.now()}`), 10);
  c.setTimeout(() => log.push(`t@${c.now()}`), 15);
  c.advance(35);
  t.same(log, ['i@10', 't@15', 'i@20', 'i@30']);
  c.advance(5);
  t.same(log.slice(4), ['i@40'], 'the interval lands exactly on the boundary');
  c.advance(100);
  t.equal(log.filter((x) => x.startsWith('i@')).length, 14, 'one fire per period: 10..140');
});

t.test('a zero interval still advances (period clamped to 1 ms)', async (t) => {
  const c = new ManualClock(0);
  const at: number[] = [];
  const timer = c.setInterval(() => at.push(c.now()), 0);
  c.advance(3);
  t.same(at, [0, 1, 2, 3]);
  timer.cancel();
  c.advance(10);
  t.equal(at.length, 4);
});

t.test('cancel', async (t) => {
  const c = new ManualClock(0);
  const log: string[] = [];
  const a = c.setTimeout(() => log.push('a'), 10);
  c.setTimeout(() => log.push('b'), 10);
  a.cancel();
  c.advance(20);
  t.same(log, ['b'], 'a cancelled timeout never fires');
  a.cancel();
  t.pass('cancelling twice is harmless');

  const iv = c.setInterval(() => log.push(`i@${c.now()}`), 10);
  c.advance(25);
  iv.cancel();
  c.advance(100);
  t.same(log, ['b', 'i@30', 'i@40'], 'a cancelled interval stops');

  // An interval can cancel itself from its own callback.
  const self: number[] = [];
  const own = c.setInterval(() => {
    self.push(c.now());
    if (self.length === 3) own.cancel();
  }, 5);
  c.advance(100);
  t.same(self, [150, 155, 160], "from now=145, every 5 ms, three times");

  // A timer cancelled by an earlier timer in the same advance does not fire.
  const order: string[] = [];
  const victim = c.setTimeout(() => order.push('victim'), 20);
  c.setTimeout(() => { order.push('killer'); victim.cancel(); }, 10);
  c.advance(30);
  t.same(order, ['killer']);
});

t.test('sleep resolves only once time is advanced past it', async (t) => {
  const c = new ManualClock(0);
  let woke = false;
  const p = c.sleep(100).then(() => { woke = true; });
  c.advance(99);
  await Promise.resolve();
  t.notOk(woke, 'still sleeping at 99');
  c.advance(1);
  await p;
  t.ok(woke);
  t.equal(c.now(), 100);

  // Sleepers wake in due order.
  const order: number[] = [];
  const ps = [c.sleep(30).then(() => order.push(30)), c.sleep(10).then(() => order.push(10)), c.sleep(20).then(() => order.push(20))];
  c.advance(30);
  await Promise.all(ps);
  t.same(order, [10, 20, 30]);
});

t.test('systemClock', async (t) => {
  const before = Date.now();
  const now = systemClock.now();
  t.ok(now >= before && now <= Date.now(), 'now() is wall-clock time');
  // systemClock timers are unref'd: keep the loop alive while the test waits on them.
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    let fired = false;
    const timer = systemClock.setTimeout(() => { fired = true; }, 1);
    timer.cancel();
    // The system clock's own timer is what is under test here. Node runs equal-delay timers in
    // creation order: once this one ran, the cancelled one would have.
    await new Promise<void>((later) => systemClock.setTimeout(() => later(), 1));
    t.notOk(fired, 'a cancelled system timeout does not fire');

    let ticks = 0;
    await new Promise<void>((resolve) => {
      const iv = systemClock.setInterval(() => {
        ticks++;
        if (ticks === 3) {
          iv.cancel();
          resolve();
        }
      }, 1);
    });
    t.equal(ticks, 3, 'interval fires repeatedly until cancelled');

    const t0 = Date.now();
    await systemClock.sleep(2);
    t.ok(Date.now() - t0 >= 1, 'sleep waits (allowing for timer rounding)');
  } finally {
    clearInterval(keepAlive);
  }
});
