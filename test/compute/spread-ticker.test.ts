import t from 'tap';
import { spreadTicker } from '../../actors/compute/spread-ticker.js';
import { ManualClock, type Clock } from '../../runtime/clock.js';

t.test('every host once per interval, in slices, never all at once', async (t) => {
  const clock = new ManualClock();
  const hosts = Array.from({ length: 250 }, (_, i) => `h${i}`);
  const seen = new Map<string, number>();
  let biggestStep = 0;
  let step = 0;
  const timer = spreadTicker(clock, hosts, 1000, (h) => {
    seen.set(h, (seen.get(h) ?? 0) + 1);
    step++;
  });
  for (let ms = 0; ms < 1000; ms += 100) {
    step = 0;
    clock.advance(100);
    biggestStep = Math.max(biggestStep, step);
  }
  t.equal(seen.size, 250, 'every host within one interval');
  t.ok([...seen.values()].every((n) => n === 1), 'each exactly once');
  t.equal(biggestStep, 25, 'a tenth of the hosts per 100 ms step');
  clock.advance(1000);
  t.ok([...seen.values()].every((n) => n === 2), 'and again the next interval');
  timer.cancel();
  clock.advance(5000);
  t.ok([...seen.values()].every((n) => n === 2), 'nothing after cancel');
});

t.test('a step that fires late catches up: the interval per host holds under a busy loop', async (t) => {
  // A clock whose interval runs only when the test says, at whatever time the test set: a blocked loop.
  let now = 0;
  let step: () => void = () => undefined;
  const clock: Clock = { now: () => now, setTimeout: () => ({ cancel: () => undefined }), setInterval: (fn) => ((step = fn), { cancel: () => undefined }), sleep: async () => undefined };
  const hosts = Array.from({ length: 100 }, (_, i) => `h${i}`);
  let calls = 0;
  spreadTicker(clock, hosts, 1000, () => void calls++);
  now = 100;
  step();
  t.equal(calls, 10, 'a tenth per 100 ms');
  now = 550;
  step();
  t.equal(calls, 55, 'a step 350 ms late sends what the 450 ms owed');
  now = 5_000;
  step();
  t.equal(calls, 155, 'never more than every host at once');
});

t.test('a short interval or few hosts: whole interval per step, every host each time', async (t) => {
  const clock = new ManualClock();
  const calls: string[] = [];
  spreadTicker(clock, ['a', 'b', 'c'], 40, (h) => calls.push(h));
  clock.advance(40);
  t.same(calls, ['a', 'b', 'c']);
  const few: string[] = [];
  spreadTicker(clock, ['x', 'y'], 10_000, (h) => few.push(h));
  clock.advance(10_000);
  t.same(few.sort(), ['x', 'y'], 'two hosts over 10 s: each once');
});
