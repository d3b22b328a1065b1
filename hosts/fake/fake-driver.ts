/**
 * The fake hypervisor: an in-memory `HypervisorDriver` for simulating thousands of hosts in one
 * process and for chaos tests (Nova's `nova.virt.fake.FakeDriver`, made first-class). A guest is
 * a handful of fields; zero latency means "resolve on a microtask", so an idle host costs no timers.
 * Faults come from a `FaultInjector` that chaos harnesses can reach through `faults`.
 */
import { DriverError, type DriverCapabilities, type DriverEvent, type DriverOp, type GuestInfo,
  type GuestSpec, type HostInfo, type HostUsage, type HypervisorDriver } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import { systemClock, type Clock, type Timer } from '../../base/clock.js';
import { FaultInjector, type FaultPlan } from './fault-plan.js';

export interface FakeDriverOptions {
  hostname?: string;
  /** Physical capacity: defaults 64 vcpus, 256 GiB memory, 4 TiB disk. */
  vcpus?: number; memoryMb?: number; diskGb?: number;
  cpuArch?: string; hypervisorType?: string; hypervisorVersion?: number;
  /** Per-op latency; 0 (the default) resolves on a microtask without a timer. */
  latencyMs?: Partial<Record<DriverOp, number>>;
  faultPlan?: FaultPlan;
  clock?: Clock;
  /** Reject spawns that exceed physical capacity. Off by default: the scheduler may overcommit. */
  enforceCapacity?: boolean;
}

/** A guest is its GuestInfo plus console lines, created on first use and capped to stay small. */
interface Guest extends GuestInfo { log?: string[] }

/** A power transition: the states it is accepted from ('any' = always) and where it lands. */
interface Transition { from: readonly PowerState[] | 'any'; to: PowerState; verb: string; log: string }

const { RUNNING, PAUSED, SHUTDOWN, SUSPENDED } = PowerState;
// powerOff/powerOn/hard reboot work from any state, as libvirt's destroy/create do; the rest need
// the one state they leave.
const T = {
  powerOff: { from: 'any', to: SHUTDOWN, verb: 'power off', log: 'reboot: Power down' },
  powerOn: { from: 'any', to: RUNNING, verb: 'power on', log: 'fake-hv: guest powered on' },
  softReboot: { from: [RUNNING], to: RUNNING, verb: 'soft reboot', log: 'reboot: Restarting system' },
  hardReboot: { from: 'any', to: RUNNING, verb: 'hard reboot', log: 'fake-hv: hard reset' },
  pause: { from: [RUNNING], to: PAUSED, verb: 'pause', log: 'fake-hv: guest paused' },
  unpause: { from: [PAUSED], to: RUNNING, verb: 'unpause', log: 'fake-hv: guest unpaused' },
  suspend: { from: [RUNNING], to: SUSPENDED, verb: 'suspend', log: 'fake-hv: guest state saved' },
  resume: { from: [SUSPENDED], to: RUNNING, verb: 'resume', log: 'fake-hv: guest state restored' },
} as const satisfies Record<string, Transition>;

const MAX_LOG_LINES = 16;
const STATE_NAMES = new Map<number, string>(Object.entries(PowerState).map(([k, v]) => [v, k]));
const stateName = (s: PowerState): string => STATE_NAMES.get(s) ?? String(s);
const closedError = (): DriverError => new DriverError('closed', 'fake driver is closed');

/** A parked operation (slow, hung or latent) that `close()` must be able to reject. */
interface Waiter { reject: (e: Error) => void; timer?: Timer }

// Shared by every instance: ten thousand hosts need not carry ten thousand copies.
const CAPABILITIES: DriverCapabilities = Object.freeze({
  supportsPause: true, supportsSuspend: true, supportsSnapshot: false, supportsLiveMigration: false, emitsEvents: true,
});

export class FakeDriver implements HypervisorDriver {
  readonly capabilities = CAPABILITIES;
  readonly hostname: string;
  /** The live fault injector; chaos harnesses add and clear rules here. */
  readonly faults: FaultInjector;

  private readonly info: HostInfo;
  private readonly latency: Partial<Record<DriverOp, number>> | undefined;
  private readonly clock: Clock;
  private readonly enforceCapacity: boolean;
  private readonly guests = new Map<string, Guest>();
  // Created lazily: most simulated hosts never need them.
  private spawning?: Map<string, Promise<GuestInfo>>;
  private waiters?: Set<Waiter>;
  private listeners?: Set<(e: DriverEvent) => void>;
  private closed = false;

  constructor(opts: FakeDriverOptions = {}) {
    this.hostname = opts.hostname ?? 'fake-host';
    this.info = {
      hypervisorType: opts.hypervisorType ?? 'fake',
      hypervisorVersion: opts.hypervisorVersion ?? 1000,
      cpuArch: opts.cpuArch ?? 'x86_64',
      vcpus: opts.vcpus ?? 64,
      memoryMb: opts.memoryMb ?? 262144,
      diskGb: opts.diskGb ?? 4096,
    };
    for (const [op, ms] of Object.entries(opts.latencyMs ?? {})) {
      if (!(Number.isFinite(ms) && ms >= 0)) throw new Error(`fake driver: latencyMs.${op} must be >= 0, got ${ms}`);
    }
    this.latency = opts.latencyMs && { ...opts.latencyMs };
    this.clock = opts.clock ?? systemClock;
    this.enforceCapacity = opts.enforceCapacity ?? false;
    this.faults = new FaultInjector(opts.faultPlan);
  }

  async hostInfo(): Promise<HostInfo> { this.assertOpen(); return { ...this.info }; }
  /** Every existing guest counts, whatever its power state (Nova counts allocations, not load). */
  async usage(): Promise<HostUsage> { this.assertOpen(); return this.sum(); }
  async listGuests(): Promise<GuestInfo[]> { this.assertOpen(); return [...this.guests.values()].map(toInfo); }
  async getGuest(uuid: string): Promise<GuestInfo | undefined> {
    this.assertOpen();
    const g = this.guests.get(uuid);
    return g && toInfo(g);
  }

  /**
   * Idempotent on uuid: an existing guest is returned as is (no fault is consulted, a replay must
   * converge) and a concurrent spawn of the same uuid shares the in-flight promise. The guest only
   * comes into being after faults and latency, so a failed spawn leaves nothing behind.
   */
  spawn(spec: GuestSpec): Promise<GuestInfo> {
    if (this.closed) return Promise.reject(closedError());
    const existing = this.guests.get(spec.uuid);
    if (existing) return Promise.resolve(toInfo(existing));
    const inFlight = this.spawning?.get(spec.uuid);
    if (inFlight) return inFlight;
    const p = this.run('spawn', spec.uuid, () => this.create(spec))
      .finally(() => this.spawning?.delete(spec.uuid));
    (this.spawning ??= new Map()).set(spec.uuid, p);
    return p;
  }

  /** Absent guests succeed; a spawn in flight for the uuid is waited for first, so the delete wins. */
  async destroy(uuid: string): Promise<void> {
    await this.spawning?.get(uuid)?.catch(() => undefined);
    await this.run('destroy', uuid, () => { this.guests.delete(uuid); });
  }

  powerOff(uuid: string): Promise<GuestInfo> { return this.transition('powerOff', uuid, T.powerOff); }
  powerOn(uuid: string): Promise<GuestInfo> { return this.transition('powerOn', uuid, T.powerOn); }
  reboot(uuid: string, hard: boolean): Promise<GuestInfo> {
    return this.transition('reboot', uuid, hard ? T.hardReboot : T.softReboot);
  }
  pause(uuid: string): Promise<GuestInfo> { return this.transition('pause', uuid, T.pause); }
  unpause(uuid: string): Promise<GuestInfo> { return this.transition('unpause', uuid, T.unpause); }
  suspend(uuid: string): Promise<GuestInfo> { return this.transition('suspend', uuid, T.suspend); }
  resume(uuid: string): Promise<GuestInfo> { return this.transition('resume', uuid, T.resume); }

  /** The last `lines` lines (all when omitted): a boot banner rendered on demand, then the op log. */
  consoleOutput(uuid: string, lines?: number): Promise<string> {
    return this.run('consoleOutput', uuid, () => {
      const g = this.need(uuid);
      const all = [
        `Linux version 6.1.0-fake (novact fake hypervisor ${this.info.hypervisorVersion})`,
        `Booting guest ${g.name} (${g.uuid}) on ${this.hostname}`,
        `cloud-init: ${g.name} reached target Multi-User System`,
        `${g.name} login:`,
        ...(g.log ?? []),
      ];
      return (lines === undefined ? all : lines > 0 ? all.slice(-lines) : []).join('\n');
    });
  }

  onEvent(listener: (e: DriverEvent) => void): () => void {
    if (this.closed) return () => undefined;
    (this.listeners ??= new Set()).add(listener);
    return () => { this.listeners?.delete(listener); };
  }

  /** Simulates the guest crashing on the hypervisor (power state CRASHED) and emits the event. */
  crashGuest(uuid: string): void {
    this.setPowerStateExternally(uuid, PowerState.CRASHED);
  }

  /**
   * Simulates a hypervisor-side change (guest shut itself down, crashed, ...). Emits a DriverEvent
   * when the state actually changes, as libvirt's lifecycle events do. Throws `not-found`/`closed`.
   */
  setPowerStateExternally(uuid: string, state: PowerState): void {
    this.assertOpen();
    const g = this.need(uuid);
    if (g.powerState === state) return;
    g.powerState = state;
    this.log(g, `fake-hv: guest is now ${stateName(state)} (external)`);
    const e: DriverEvent = { uuid, powerState: state, at: this.clock.now() };
    // One throwing listener must not starve the others; its error surfaces after all have run.
    let failure: unknown;
    for (const l of [...(this.listeners ?? [])]) {
      try { l(e); } catch (err) { failure ??= err; }
    }
    if (failure !== undefined) throw failure;
  }

  /** Rejects every parked (slow, latent or hung) operation with `closed`; later calls reject too. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters ?? []) { w.timer?.cancel(); w.reject(closedError()); }
    this.waiters = this.listeners = undefined;
    this.guests.clear();
  }

  /** Every operation's path: fault decision, hang/latency/slow, then the state change itself. */
  private async run<T>(op: DriverOp, uuid: string, body: () => T): Promise<T> {
    this.assertOpen();
    const d = this.faults.decide(op, uuid);
    if (d.action === 'hang') await this.park(undefined);
    const ms = (this.latency?.[op] ?? 0) + (d.action === 'slow' ? d.delayMs : 0);
    // With no delay, still yield once so state changes happen after the call returns.
    await (ms > 0 ? this.park(ms) : undefined);
    this.assertOpen();
    if (d.action === 'fail') throw new DriverError('failed', d.message, d.retryable);
    return body();
  }

  /** Waits `ms` on the clock (forever when undefined) unless `close()` rejects it first. */
  private park(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { reject };
      if (ms !== undefined) {
        w.timer = this.clock.setTimeout(() => { this.waiters?.delete(w); resolve(); }, ms);
      }
      (this.waiters ??= new Set()).add(w);
    });
  }

  private transition(op: DriverOp, uuid: string, t: Transition): Promise<GuestInfo> {
    return this.run(op, uuid, () => {
      const g = this.need(uuid);
      if (t.from !== 'any' && !t.from.includes(g.powerState)) {
        throw new DriverError('invalid-state', `cannot ${t.verb} guest ${uuid}: it is ${stateName(g.powerState)}`);
      }
      g.powerState = t.to;
      this.log(g, t.log);
      return toInfo(g);
    });
  }

  private create(s: GuestSpec): GuestInfo {
    if (this.enforceCapacity) this.checkCapacity(s);
    const g: Guest = {
      uuid: s.uuid, name: s.name, powerState: RUNNING, vcpus: s.vcpus, memoryMb: s.memoryMb, diskGb: s.diskGb,
    };
    this.guests.set(g.uuid, g);
    return toInfo(g);
  }

  /** Checked when the guest is created (not when asked), so concurrent spawns cannot both fit. */
  private checkCapacity(spec: GuestSpec): void {
    const u = this.sum(), h = this.info;
    const check = (what: string, want: number, used: number, total: number): void => {
      if (used + want <= total) return;
      throw new DriverError('insufficient-resources',
        `${this.hostname}: guest ${spec.uuid} needs ${want} ${what}, only ${total - used} of ${total} free`);
    };
    check('MB memory', spec.memoryMb, u.memoryMbUsed, h.memoryMb);
    check('vcpus', spec.vcpus, u.vcpusUsed, h.vcpus);
    check('GB disk', spec.diskGb, u.diskGbUsed, h.diskGb);
  }

  /** A walk over the guests: cheaper in memory than keeping running totals in step. */
  private sum(): HostUsage {
    const u: HostUsage = { vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0 };
    for (const g of this.guests.values()) {
      u.vcpusUsed += g.vcpus;
      u.memoryMbUsed += g.memoryMb;
      u.diskGbUsed += g.diskGb;
      if (g.powerState === RUNNING) u.runningVms++;
    }
    return u;
  }

  private need(uuid: string): Guest {
    const g = this.guests.get(uuid);
    if (!g) throw new DriverError('not-found', `guest ${uuid} not found on ${this.hostname}`);
    return g;
  }

  private log(g: Guest, line: string): void {
    const log = (g.log ??= []);
    log.push(line);
    if (log.length > MAX_LOG_LINES) log.shift();
  }

  private assertOpen(): void { if (this.closed) throw closedError(); }
}

function toInfo(g: Guest): GuestInfo {
  const { uuid, name, powerState, vcpus, memoryMb, diskGb } = g; // a copy, without the console log
  return { uuid, name, powerState, vcpus, memoryMb, diskGb };
}
