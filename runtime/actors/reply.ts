/**
 * A reply slot carried inside a message. nact's own `query` rejects with a bare Error on timeout and
 * its sender refs are untyped, so asks go through this instead: the asker owns the promise and the
 * timeout, the actor settles the slot exactly once.
 */
import { NovactError, TimeoutError, asNovactError } from '../../protocols/errors.js';
import type { Clock } from '../clock.js';

export interface ReplyTo<R> {
  ok(value: R): void;
  fail(err: unknown): void;
  readonly settled: boolean;
}

export function replySlot<R>(clock: Clock, timeoutMs: number, what: string): { reply: ReplyTo<R>; promise: Promise<R> } {
  let settled = false;
  let resolve!: (v: R) => void;
  let reject!: (e: NovactError) => void;
  const promise = new Promise<R>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = clock.setTimeout(() => {
    if (settled) return;
    settled = true;
    reject(new TimeoutError(`${what} did not answer within ${timeoutMs} ms`));
  }, timeoutMs);
  const reply: ReplyTo<R> = {
    ok(value) {
      if (settled) return;
      settled = true;
      timer.cancel();
      resolve(value);
    },
    fail(err) {
      if (settled) return;
      settled = true;
      timer.cancel();
      reject(asNovactError(err));
    },
    get settled() {
      return settled;
    },
  };
  return { reply, promise };
}

/** A reply slot whose answer goes to callbacks (the NATS bridge uses this: no promise, no timer). */
export function callbackReply<R>(onOk: (v: R) => void, onFail: (e: NovactError) => void): ReplyTo<R> {
  let settled = false;
  return {
    ok(v) {
      if (settled) return;
      settled = true;
      onOk(v);
    },
    fail(e) {
      if (settled) return;
      settled = true;
      onFail(asNovactError(e));
    },
    get settled() {
      return settled;
    },
  };
}
