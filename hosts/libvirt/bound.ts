/**
 * The bounds of one driver call: its deadline, the caller's signal, the driver's own signals (a
 * destroy cancelling a spawn, a migration abort) and the driver's close, folded into one
 * AbortSignal whose reason is the DriverError the call must reject with. Every libvirt call and
 * every child process of the call is raced against it; the native calls it raced are remembered,
 * so a cleanup can wait for late ones to land before it undoes them.
 */
import { DriverError, type CallOptions } from '../driver.js';

const never = new Promise<never>(() => undefined);

export class Bound {
  readonly signal: AbortSignal;
  private readonly ctl = new AbortController();
  private readonly deadlineAt: number | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly offs: (() => void)[] = [];
  private readonly raced = new Set<Promise<unknown>>();
  private readonly aborted: Promise<never>;

  /**
   * `what` names the call in errors ("powerOff of <uuid>"). `signals` are the driver's own: each
   * aborts with its reason when that is a DriverError (`closed`, `aborted`), else `aborted`.
   */
  constructor(readonly what: string, opts: CallOptions | undefined, signals: readonly (AbortSignal | undefined)[] = []) {
    this.signal = this.ctl.signal;
    this.aborted = new Promise<never>((_, reject) => {
      this.signal.addEventListener('abort', () => reject(this.signal.reason), { once: true });
    });
    this.aborted.catch(() => undefined);
    const ms = opts?.deadlineMs;
    this.deadlineAt = ms === undefined ? undefined : Date.now() + ms;
    for (const s of [opts?.signal, ...signals]) {
      if (!s) continue;
      const on = () => this.stop(abortReason(s, what));
      if (s.aborted) { on(); break; }
      s.addEventListener('abort', on, { once: true });
      this.offs.push(() => s.removeEventListener('abort', on));
    }
    if (ms !== undefined && !this.signal.aborted) {
      if (ms <= 0) this.stop(timeoutError(what, ms));
      else this.timer = setTimeout(() => this.stop(timeoutError(what, ms)), ms);
    }
  }

  /** Throws the call's DriverError once it is over its bounds. */
  check(): void {
    if (this.signal.aborted) throw this.signal.reason as DriverError;
  }

  /** `p`, unless the bounds end first (then their DriverError; `p` may still settle later). */
  race<T>(p: Promise<T>): Promise<T> {
    this.check();
    this.raced.add(p);
    const forget = () => { this.raced.delete(p); };
    p.then(forget, forget);
    return Promise.race([p, this.aborted]);
  }

  /** Waits `ms`, bounded. */
  sleep(ms: number): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    return this.race(new Promise<void>((resolve) => { t = setTimeout(resolve, ms); })).finally(() => clearTimeout(t));
  }

  /** Never resolves; rejects when the bounds end (a hung call, for fault injection). */
  hang(): Promise<never> { return this.race(never); }

  /** What a child process or a helper taking CallOptions gets: the remaining time and the signal. */
  get opts(): CallOptions {
    return { signal: this.signal, ...(this.deadlineAt === undefined ? {} : { deadlineMs: Math.max(0, this.deadlineAt - Date.now()) }) };
  }

  /** Resolves once every call raced here has settled, or after `maxMs` (a hung one never does). */
  async settled(maxMs: number): Promise<void> {
    if (this.raced.size === 0) return;
    let t: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.raced]),
      new Promise<void>((resolve) => { t = setTimeout(resolve, maxMs); }),
    ]);
    clearTimeout(t);
  }

  /** Releases the timer and listeners (always, when the call ends). */
  dispose(): void {
    clearTimeout(this.timer);
    for (const off of this.offs.splice(0)) off();
  }

  private stop(e: DriverError): void {
    if (this.signal.aborted) return;
    this.ctl.abort(e);
    this.dispose();
  }
}

function abortReason(s: AbortSignal, what: string): DriverError {
  const r: unknown = s.reason;
  if (r instanceof DriverError) return r;
  return new DriverError('aborted', `${what}: aborted (${r instanceof Error ? r.message : String(r)})`, true);
}

function timeoutError(what: string, ms: number): DriverError {
  return new DriverError('timeout', `${what} passed its deadline (${ms} ms)`, true);
}
