import t from 'tap';
import { Batcher } from '../../runtime/batcher.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An exec whose every call is recorded and finished by hand. */
function manualExec<T, R>() {
  const calls: { items: T[]; d: Deferred<R[]> }[] = [];
  let running = 0;
  let maxRunning = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const exec = (items: T[]): Promise<R[]> => {
    const d = deferred<R[]>();
    calls.push({ items, d });
    running++;
    maxRunning = Math.max(maxRunning, running);
    const settle = () => { running--; };
    d.promise.then(settle, settle);
    for (const w of waiters.filter((x) => calls.length >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    return d.promise;
  };
  /** Resolves when exec has been called `n` times in total. */
  const calledTimes = (n: number) =>
    calls.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }));
  return { exec, calls, calledTimes, get running() { return running; }, get maxRunning() { return maxRunning; } };
}

t.test('items added in the same tick run as one batch, results in order', async (t) => {
  const seen: number[][] = [];
  const b = new Batcher<number, string>(async (items) => {
    seen.push([...items]);
    return items.map((i) => `r${i}`);
  }, { maxSize: 10, maxInFlight: 2 });
  const ps = [b.add(1), b.add(2), b.add(3)];
  t.equal(b.pending, 3, 'nothing runs synchronously below maxSize');
  t.same(seen, [], 'exec not called in the same tick');
  t.same(await Promise.all(ps), ['r1', 'r2', 'r3']);
  t.same(seen, [[1, 2, 3]], 'one exec with all three items');
  t.equal(b.batches, 1);
  t.equal(b.items, 3);
  t.equal(b.pending, 0);

  // A later tick makes a new batch.
  t.same(await Promise.all([b.add(4), b.add(5)]), ['r4', 'r5']);
  t.same(seen, [[1, 2, 3], [4, 5]]);
  t.equal(b.batches, 2);
  t.equal(b.items, 5);
});

t.test('default options batch everything of one tick', async (t) => {
  let calls = 0;
  const b = new Batcher<number, number>(async (items) => {
    calls++;
    return items.map((i) => i * 2);
  });
  const ps = Array.from({ length: 100 }, (_, i) => b.add(i));
  const out = await Promise.all(ps);
  t.same(out, Array.from({ length: 100 }, (_, i) => i * 2));
  t.equal(calls, 1);
});

t.test('reaching maxSize starts a batch at once and splits the rest', async (t) => {
  const m = manualExec<number, number>();
  const b = new Batcher<number, number>(m.exec, { maxSize: 2, maxInFlight: 10 });
  const ps = [1, 2, 3, 4, 5].map((i) => b.add(i));
  // The first two full batches start synchronously, inside add().
  t.equal(m.calls.length, 2, 'two full batches started without waiting a tick');
  t.same(m.calls.map((c) => c.items), [[1, 2], [3, 4]]);
  t.equal(b.pending, 1, 'the odd item waits for the next tick');
  await m.calledTimes(3);
  t.same(m.calls.map((c) => c.items), [[1, 2], [3, 4], [5]], 'remainder runs as its own batch');
  t.ok(m.calls.every((c) => c.items.length <= 2), 'no batch exceeds maxSize');
  // Finish out of order: each item still gets its own batch's result.
  m.calls[2]!.d.resolve([50]);
  m.calls[0]!.d.resolve([10, 20]);
  m.calls[1]!.d.resolve([30, 40]);
  t.same(await Promise.all(ps), [10, 20, 30, 40, 50]);
  t.equal(b.batches, 3);
  t.equal(b.items, 5);
});

t.test('maxInFlight is respected; queued items grow into the next batch', async (t) => {
  const m = manualExec<number, number>();
  const b = new Batcher<number, number>(m.exec, { maxSize: 3, maxInFlight: 1 });
  const first = [b.add(1), b.add(2)];
  await m.calledTimes(1);
  t.same(m.calls[0]!.items, [1, 2]);
  t.equal(m.running, 1);

  // While the one allowed batch runs, everything else queues, even past maxSize.
  const rest = [3, 4, 5, 6, 7].map((i) => b.add(i));
  t.equal(m.calls.length, 1, 'no second batch while one is in flight');
  t.equal(b.pending, 5);

  m.calls[0]!.d.resolve([1, 2]);
  t.same(await Promise.all(first), [1, 2]);
  await m.calledTimes(2);
  t.same(m.calls[1]!.items, [3, 4, 5], 'next batch takes maxSize items from the queue');
  t.equal(b.pending, 2);
  t.equal(m.calls.length, 2, 'still only one in flight');

  m.calls[1]!.d.resolve([3, 4, 5]);
  await m.calledTimes(3);
  t.same(m.calls[2]!.items, [6, 7]);
  m.calls[2]!.d.resolve([6, 7]);
  t.same(await Promise.all(rest), [3, 4, 5, 6, 7]);
  t.equal(m.maxRunning, 1, 'never more than maxInFlight batches at once');
  t.equal(b.batches, 3);
  t.equal(b.pending, 0);
});

t.test('maxInFlight 2 allows exactly two concurrent batches', async (t) => {
  const m = manualExec<number, number>();
  const b = new Batcher<number, number>(m.exec, { maxSize: 2, maxInFlight: 2 });
  const ps = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => b.add(i));
  t.equal(m.calls.length, 2, 'two batches start, the other items queue');
  t.equal(b.pending, 4);
  m.calls[1]!.d.resolve([3, 4]);
  await m.calledTimes(3);
  t.same(m.calls[2]!.items, [5, 6]);
  t.equal(m.running, 2);
  m.calls[0]!.d.resolve([1, 2]);
  await m.calledTimes(4);
  t.same(m.calls[3]!.items, [7, 8]);
  m.calls[2]!.d.resolve([5, 6]);
  m.calls[3]!.d.resolve([7, 8]);
  t.same(await Promise.all(ps), [1, 2, 3, 4, 5, 6, 7, 8]);
  t.equal(m.maxRunning, 2);
});

t.test('a failing exec rejects every item of that batch only', async (t) => {
  const m = manualExec<string, string>();
  const b = new Batcher<string, string>(m.exec, { maxSize: 2, maxInFlight: 2 });
  const a = b.add('a');
  const bb = b.add('b');
  const c = b.add('c');
  await m.calledTimes(2);
  t.same(m.calls.map((x) => x.items), [['a', 'b'], ['c']]);
  const boom = new Error('transaction aborted');
  m.calls[0]!.d.reject(boom);
  m.calls[1]!.d.resolve(['C']);
  const settled = await Promise.allSettled([a, bb, c]);
  t.same(settled.map((s) => s.status), ['rejected', 'rejected', 'fulfilled']);
  t.equal((settled[0] as PromiseRejectedResult).reason, boom, 'the exec error itself is the rejection');
  t.equal((settled[1] as PromiseRejectedResult).reason, boom);
  t.equal((settled[2] as PromiseFulfilledResult<string>).value, 'C');

  // The batcher keeps working after a failure.
  const next = b.add('d');
  await m.calledTimes(3);
  m.calls[2]!.d.resolve(['D']);
  t.equal(await next, 'D');
});

t.test('an exec that throws synchronously rejects the batch too', async (t) => {
  const b = new Batcher<number, number>((items) => {
    if (items.includes(13)) throw new Error('unlucky');
    return Promise.resolve(items);
  }, { maxSize: 2, maxInFlight: 1 });
  const ps = [b.add(13), b.add(1), b.add(2)];
  const settled = await Promise.allSettled(ps);
  t.same(settled.map((s) => s.status), ['rejected', 'rejected', 'fulfilled']);
  t.match((settled[0] as PromiseRejectedResult).reason, { message: 'unlucky' });
  t.equal((settled[2] as PromiseFulfilledResult<number>).value, 2);
});
