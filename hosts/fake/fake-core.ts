/**
 * The fake hypervisor's state and its one way of running an operation (fault decision, hang,
 * latency, deadline, abort, close), shared by the op modules (fake-power, fake-guest-ops,
 * fake-migration) that `FakeDriver` delegates to. Not exported from the package: internal.
 */
import { DriverError, type CallOptions, type DriverEvent, type DriverOp, type GuestInfo, type GuestSpec, type HostInfo } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import type { Clock, Timer } from '../../base/clock.js';
import type { FaultInjector } from './fault-plan.js';

/** A guest is its GuestInfo plus what the fake needs to answer later operations. */
export interface Guest extends GuestInfo {
  imageId: string;
  /** When it last started (diagnostics' uptime). */
  startedAt: number;
  /** Console lines, created on first use and capped to stay small. */
  log?: string[];
  /** Booted from this rescue image; its own disk is attached. */
  rescueImage?: string;
  /** The spec it was last built from (only when the driver keeps specs). */
  spec?: GuestSpec;
}

/** What a live migration's destination was told to expect, and whether the guest has arrived. */
export interface Incoming { spec: GuestSpec; arrived: boolean }

/** Disks copied here by a cold migration, waiting for `finishMigration`. */
export interface MigratedDisks { imageId: string; diskGb: number }

/** A parked operation (slow, hung or latent) that `close()` must be able to reject. */
interface Waiter { reject: (e: Error) => void; timer?: Timer }

const MAX_LOG_LINES = 16;
const STATE_NAMES = new Map<number, string>(Object.entries(PowerState).map(([k, v]) => [v, k]));
export const stateName = (s: PowerState): string => STATE_NAMES.get(s) ?? String(s);
export const closedError = (): DriverError => new DriverError('closed', 'fake driver is closed');

export class FakeCore {
  readonly guests = new Map<string, Guest>();
  // Created lazily: most simulated hosts never need them.
  spawning?: Map<string, { p: Promise<GuestInfo>; abort: AbortController }>;
  /** Source side of a cold migration: the guest as it was, kept for a revert until confirmed. */
  kept?: Map<string, Guest>;
  migrated?: Map<string, MigratedDisks>;
  incoming?: Map<string, Incoming>;
  /** Live migrations running from here, so `abortLiveMigration` can stop them. */
  outgoing?: Map<string, { p: Promise<void>; abort: AbortController }>;
  private waiters?: Set<Waiter>;
  private listeners?: Set<(e: DriverEvent) => void>;
  closed = false;

  constructor(
    readonly hostname: string,
    readonly info: HostInfo,
    readonly clock: Clock,
    readonly faults: FaultInjector,
    private readonly latency: Partial<Record<DriverOp, number>> | undefined,
    private readonly keepSpecs = false,
  ) {}

  /**
   * Every operation's path: fault decision, hang/latency/slow, then the state change itself. The
   * body runs only if nothing intervened, so a timed-out, aborted or failed call changed nothing.
   * `internal` are the driver's own signals (a destroy cancelling a spawn, a migration abort). A
   * long body (a snapshot's chunks) calls `check` between its steps.
   */
  async run<T>(op: DriverOp, uuid: string, opts: CallOptions | undefined, body: (check: () => void) => T | Promise<T>, internal?: AbortSignal): Promise<T> {
    this.assertOpen();
    const deadlineAt = opts?.deadlineMs === undefined ? undefined : this.clock.now() + opts.deadlineMs;
    const signals = [opts?.signal, internal].filter((s): s is AbortSignal => s !== undefined);
    const check = () => {
      this.assertOpen();
      for (const s of signals) if (s.aborted) throw abortError(s);
      if (deadlineAt !== undefined && this.clock.now() >= deadlineAt) throw timeoutError(op, uuid);
    };
    check();
    const d = this.faults.decide(op, uuid);
    if (d.action === 'hang') await this.park(undefined, op, uuid, deadlineAt, signals);
    const ms = (this.latency?.[op] ?? 0) + (d.action === 'slow' ? d.delayMs : 0);
    // With no delay, still yield once so state changes happen after the call returns.
    await (ms > 0 ? this.park(ms, op, uuid, deadlineAt, signals) : undefined);
    check();
    if (d.action === 'fail') throw new DriverError('failed', d.message, d.retryable);
    return body(check);
  }

  /** Waits `ms` on the clock (forever when undefined) unless close, the deadline or a signal ends it first. */
  private park(ms: number | undefined, op: DriverOp, uuid: string, deadlineAt: number | undefined, signals: AbortSignal[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timers: Timer[] = [];
      const offs: (() => void)[] = [];
      const done = (err?: Error) => {
        this.waiters?.delete(w);
        for (const t of timers) t.cancel();
        for (const off of offs) off();
        if (err) reject(err); else resolve();
      };
      const w: Waiter = { reject: (e) => done(e) };
      if (ms !== undefined) timers.push(this.clock.setTimeout(() => done(), ms));
      if (deadlineAt !== undefined) {
        timers.push(this.clock.setTimeout(() => done(timeoutError(op, uuid)), Math.max(0, deadlineAt - this.clock.now())));
      }
      for (const s of signals) {
        const on = () => done(abortError(s));
        s.addEventListener('abort', on, { once: true });
        offs.push(() => s.removeEventListener('abort', on));
      }
      (this.waiters ??= new Set()).add(w);
    });
  }

  need(uuid: string): Guest {
    const g = this.guests.get(uuid);
    if (!g) throw new DriverError('not-found', `guest ${uuid} not found on ${this.hostname}`);
    return g;
  }

  /** Throws `invalid-state` unless the guest is in one of `from`. */
  requireState(g: Guest, from: readonly PowerState[], verb: string): void {
    if (!from.includes(g.powerState)) {
      throw new DriverError('invalid-state', `cannot ${verb} guest ${g.uuid}: it is ${stateName(g.powerState)}`);
    }
  }

  create(s: GuestSpec, powerState: PowerState, imageId = s.image.id): Guest {
    const g: Guest = {
      uuid: s.uuid, name: s.name, powerState, vcpus: s.vcpus, memoryMb: s.memoryMb, diskGb: s.diskGb,
      imageId, startedAt: this.clock.now(),
    };
    this.keepSpec(g, s);
    this.guests.set(g.uuid, g);
    return g;
  }

  /** Remembers what `g` was built from, when asked to (tests read it back with `FakeDriver.getSpec`). */
  keepSpec(g: Guest, s: GuestSpec): void {
    if (this.keepSpecs) g.spec = s;
  }

  /** Sets the power state as an operation does (no event: the caller asked for it). */
  setState(g: Guest, state: PowerState, line: string): GuestInfo {
    if (state === PowerState.RUNNING && g.powerState !== PowerState.RUNNING) g.startedAt = this.clock.now();
    g.powerState = state;
    this.log(g, line);
    return toInfo(g);
  }

  log(g: Guest, line: string): void {
    const log = (g.log ??= []);
    log.push(line);
    if (log.length > MAX_LOG_LINES) log.shift();
  }

  onEvent(listener: (e: DriverEvent) => void): () => void {
    if (this.closed) return () => undefined;
    (this.listeners ??= new Set()).add(listener);
    return () => { this.listeners?.delete(listener); };
  }

  /** A hypervisor-side change: emits a DriverEvent when the state actually changes, as libvirt does. */
  external(uuid: string, state: PowerState, why: string): void {
    this.assertOpen();
    const g = this.need(uuid);
    if (g.powerState === state) return;
    this.setState(g, state, `fake-hv: guest is now ${stateName(state)} (${why})`);
    const e: DriverEvent = { uuid, powerState: state, at: this.clock.now() };
    // One throwing listener must not starve the others; its error surfaces after all have run.
    let failure: unknown;
    for (const l of [...(this.listeners ?? [])]) {
      try { l(e); } catch (err) { failure ??= err; }
    }
    if (failure !== undefined) throw failure;
  }

  /** Rejects every parked operation with `closed`; later calls reject too. */
  close(): void {
    this.closed = true;
    for (const w of [...(this.waiters ?? [])]) w.reject(closedError());
    this.waiters = this.listeners = undefined;
    this.guests.clear();
    this.kept = this.migrated = this.incoming = undefined;
  }

  assertOpen(): void { if (this.closed) throw closedError(); }
}

export function toInfo(g: Guest): GuestInfo {
  const { uuid, name, powerState, vcpus, memoryMb, diskGb } = g; // a copy, without the fake's own fields
  return { uuid, name, powerState, vcpus, memoryMb, diskGb };
}

function timeoutError(op: DriverOp, uuid: string): DriverError {
  return new DriverError('timeout', `${op} of ${uuid} passed its deadline`, true);
}

function abortError(s: AbortSignal): DriverError {
  const r: unknown = s.reason;
  return r instanceof DriverError ? r : new DriverError('aborted', `aborted: ${r instanceof Error ? r.message : String(r)}`, true);
}
