import t from 'tap';
import { DEFAULT_RESTART_POLICY, RestartBudget, type RestartPolicy } from '../../runtime/actors/supervision.js';

const policy = (over: Partial<RestartPolicy> = {}): RestartPolicy => ({
  maxRestarts: 5,
  windowMs: 1_000,
  backoffMs: 10,
  maxBackoffMs: 1_000,
  onExhausted: 'stop',
  ...over,
});

t.test('default policy', async (t) => {
  t.same(DEFAULT_RESTART_POLICY, { maxRestarts: 10, windowMs: 60_000, backoffMs: 5, maxBackoffMs: 1_000, onExhausted: 'stop' });
});

t.test('backoff doubles per restart inside the window', async (t) => {
  const b = new RestartBudget(policy());
  t.equal(b.recent, 0);
  t.same([b.next(0), b.next(1), b.next(2), b.next(3), b.next(4)], [10, 20, 40, 80, 160]);
  t.equal(b.recent, 5);
});

t.test('backoff is capped at maxBackoffMs', async (t) => {
  const b = new RestartBudget(policy({ maxRestarts: 8, backoffMs: 100, maxBackoffMs: 500 }));
  const got = Array.from({ length: 8 }, (_, i) => b.next(i));
  t.same(got, [100, 200, 400, 500, 500, 500, 500, 500]);
});

t.test('the budget is exhausted after maxRestarts inside the window', async (t) => {
  const b = new RestartBudget(policy({ maxRestarts: 3 }));
  t.equal(b.next(0), 10);
  t.equal(b.next(100), 20);
  t.equal(b.next(200), 40);
  t.equal(b.next(300), undefined, 'fourth crash within the window: give up');
  t.equal(b.next(400), undefined, 'stays spent while the window holds three restarts');
  t.equal(b.recent, 3, 'a refused restart is not recorded');
});

t.test('restarts older than the window are forgotten, and the backoff shrinks with them', async (t) => {
  const b = new RestartBudget(policy({ maxRestarts: 3, windowMs: 1_000 }));
  b.next(0);
  b.next(100);
  b.next(200);
  t.equal(b.next(999), undefined, 'restart at 0 still inside the window at 999');
  t.equal(b.next(1_000), 40, 'the restart at 0 left the window: two recent, backoff 10*2^2');
  t.equal(b.recent, 3);
  t.equal(b.next(1_150), 40, 'the restart at 100 left: recent are 200 and 1000');
  t.equal(b.next(5_000), 10, 'a quiet period resets the backoff to its base');
  t.equal(b.recent, 1);
});

t.test('maxRestarts 0 never restarts', async (t) => {
  const b = new RestartBudget(policy({ maxRestarts: 0 }));
  t.equal(b.next(0), undefined);
  t.equal(b.recent, 0);
});

t.test('zero backoff restarts immediately', async (t) => {
  const b = new RestartBudget(policy({ backoffMs: 0 }));
  t.same([b.next(0), b.next(0), b.next(0)], [0, 0, 0]);
});
