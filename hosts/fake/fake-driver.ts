/**
 * The fake hypervisor: an in-memory `HypervisorDriver` for simulating thousands of hosts in one
 * process and for chaos tests (Nova's `nova.virt.fake.FakeDriver`, made first-class). A guest is
 * a handful of fields; zero latency means "resolve on a microtask", so an idle host costs no timers.
 * Faults come from a `FaultInjector` that chaos harnesses can reach through `faults`; the state and
 * the path every call takes are in fake-core.ts, the operations beyond power in fake-guest-ops.ts
 * and fake-migration.ts.
 */
import { DriverError, type CallOptions, type DriverCapabilities, type DriverEvent, type DriverHealth, type DriverOp,
  type GuestDiagnostics, type GuestInfo, type GuestSpec, type HostInfo, type HostUsage, type HypervisorDriver,
  type ImageDataSink, type MigrationTarget } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import { systemClock, type Clock, type Timer } from '../../base/clock.js';
import { closedError, FakeCore, toInfo, type Guest } from './fake-core.js';
import * as ops from './fake-guest-ops.js';
import * as mig from './fake-migration.js';
import type { FakeFabric } from './fake-migration.js';
import { FaultInjector, type FaultPlan } from './fault-plan.js';
import { uptimeLine } from '../uptime-line.js';

export interface FakeDriverOptions {
  hostname?: string;
  /** Physical capacity: defaults 64 vcpus, 256 GiB memory, 4 TiB disk. */
  vcpus?: number; memoryMb?: number; diskGb?: number;
  cpuArch?: string; hypervisorType?: string; hypervisorVersion?: number;
  /** Per-op latency; 0 (the default) resolves on a microtask without a timer. */
  latencyMs?: Partial<Record<DriverOp, number>>;
  /** Per-op faults, and spontaneous guest crashes / shutdowns (`guests`). */
  faultPlan?: FaultPlan;
  clock?: Clock;
  /** Fake hosts sharing a fabric can migrate guests to each other. */
  fabric?: FakeFabric;
  /** Reject spawns that exceed physical capacity. Off by default: the scheduler may overcommit. */
  enforceCapacity?: boolean;
  /** Keep the spec each guest was last built from, for `getSpec` (tests). Off by default: a simulated fleet need not hold them. */
  keepSpecs?: boolean;
  /** Report an `uptime` line (on by default); off, the host is one whose driver cannot tell (Nova's 501). */
  reportsUptime?: boolean;
}

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

// Shared by every instance: ten thousand hosts need not carry ten thousand copies.
const CAPABILITIES: DriverCapabilities = Object.freeze({
  supportsPause: true, supportsSuspend: true, supportsSnapshot: true, supportsMigration: true, supportsLiveMigration: true,
  supportsRescue: true, emitsEvents: true,
});

export class FakeDriver implements HypervisorDriver {
  readonly capabilities = CAPABILITIES;
  readonly hostname: string;
  /** The live fault injector; chaos harnesses add and clear rules here. */
  readonly faults: FaultInjector;

  private readonly core: FakeCore;
  private readonly enforceCapacity: boolean;
  private readonly fabric: FakeFabric | undefined;
  /** The fake machine booted with the driver: its uptime counts from here. */
  private readonly bootedAt: number | undefined;
  private guestFaultTimer?: Timer;
  private healthy = true;

  constructor(opts: FakeDriverOptions = {}) {
    this.hostname = opts.hostname ?? 'fake-host';
    const info: HostInfo = {
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
    const clock = opts.clock ?? systemClock;
    this.enforceCapacity = opts.enforceCapacity ?? false;
    this.bootedAt = opts.reportsUptime === false ? undefined : clock.now();
    this.faults = new FaultInjector(opts.faultPlan);
    this.core = new FakeCore(this.hostname, info, clock, this.faults, opts.latencyMs && { ...opts.latencyMs }, opts.keepSpecs ?? false);
    this.fabric = opts.fabric;
    this.fabric?.join(this.core);
    const g = this.faults.guests;
    // Only hosts that asked for spontaneous faults pay for a timer.
    if (g) this.guestFaultTimer = clock.setInterval(() => this.guestFaultTick(), g.everyMs);
  }

  /** The fake is ready at construction; init only checks it is still open. */
  async init(): Promise<void> { this.core.assertOpen(); }
  async health(): Promise<DriverHealth> {
    if (this.core.closed) return { state: 'closed' };
    return this.healthy ? { state: 'up' } : { state: 'down', detail: 'fake hypervisor connection lost' };
  }
  /** Simulates losing (false) and regaining (true) the hypervisor connection, as `health` reports it. */
  setHealthy(healthy: boolean): void { this.healthy = healthy; }

  /** Its disks are fully allocated (no sparse files), so what is left at the least is what no guest holds. */
  async hostInfo(): Promise<HostInfo> {
    this.core.assertOpen();
    const info: HostInfo = { ...this.core.info, diskAvailableLeastGb: this.core.info.diskGb - this.sum().diskGbUsed };
    if (this.bootedAt !== undefined) {
      const now = this.core.clock.now();
      const d = new Date(now);
      // UTC, so a test reads the same line in any time zone; an idle fake has no load and no one logged in.
      info.uptime = uptimeLine({
        clock: { hours: d.getUTCHours(), minutes: d.getUTCMinutes(), seconds: d.getUTCSeconds() },
        upSeconds: (now - this.bootedAt) / 1000, users: 0, load: [0, 0, 0],
      });
    }
    return info;
  }
  /** Every existing guest counts, whatever its power state, and so do disks kept for a revert (Nova counts allocations, not load). */
  async usage(): Promise<HostUsage> { this.core.assertOpen(); return this.sum(); }
  async listGuests(): Promise<GuestInfo[]> { this.core.assertOpen(); return [...this.core.guests.values()].map(toInfo); }
  async getGuest(uuid: string): Promise<GuestInfo | undefined> {
    this.core.assertOpen();
    const g = this.core.guests.get(uuid);
    return g && toInfo(g);
  }
  /** The spec the guest was last built from (spawn, rebuild, a migration's arrival); only with `keepSpecs`. */
  getSpec(uuid: string): GuestSpec | undefined { return this.core.guests.get(uuid)?.spec; }

  /**
   * Idempotent on uuid: an existing guest is returned as is (no fault is consulted, a replay must
   * converge) and a concurrent spawn of the same uuid shares the in-flight promise. The guest only
   * comes into being after faults and latency, so a failed spawn leaves nothing behind.
   */
  spawn(spec: GuestSpec, opts?: CallOptions): Promise<GuestInfo> {
    const c = this.core;
    if (c.closed) return Promise.reject(closedError());
    const existing = c.guests.get(spec.uuid);
    if (existing) return Promise.resolve(toInfo(existing));
    const inFlight = c.spawning?.get(spec.uuid);
    if (inFlight) return inFlight.p;
    const abort = new AbortController();
    const p = c.run('spawn', spec.uuid, opts, () => {
      if (this.enforceCapacity) this.checkCapacity(spec);
      return toInfo(c.create(spec, RUNNING));
    }, abort.signal).finally(() => c.spawning?.delete(spec.uuid));
    (c.spawning ??= new Map()).set(spec.uuid, { p, abort });
    return p;
  }

  /** Absent guests succeed; a spawn in flight for the uuid is cancelled first (it rejects `aborted`), so the delete wins. */
  async destroy(uuid: string, opts?: CallOptions): Promise<void> {
    const c = this.core;
    const s = c.spawning?.get(uuid);
    if (s) {
      s.abort.abort(new DriverError('aborted', `spawn of ${uuid} cancelled by a destroy`));
      await s.p.catch(() => undefined);
    }
    await c.run('destroy', uuid, opts, () => {
      c.guests.delete(uuid);
      c.kept?.delete(uuid);
      c.migrated?.delete(uuid);
      c.incoming?.delete(uuid);
    });
  }

  powerOff(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.transition('powerOff', uuid, T.powerOff, opts); }
  powerOn(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.transition('powerOn', uuid, T.powerOn, opts); }
  reboot(uuid: string, hard: boolean, opts?: CallOptions): Promise<GuestInfo> {
    return this.transition('reboot', uuid, hard ? T.hardReboot : T.softReboot, opts);
  }
  pause(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.transition('pause', uuid, T.pause, opts); }
  unpause(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.transition('unpause', uuid, T.unpause, opts); }
  suspend(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.transition('suspend', uuid, T.suspend, opts); }
  resume(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.transition('resume', uuid, T.resume, opts); }

  /** The last `lines` lines (all when omitted): a boot banner rendered on demand, then the op log. */
  consoleOutput(uuid: string, lines?: number, opts?: CallOptions): Promise<string> { return ops.consoleOutput(this.core, uuid, lines, opts); }
  diagnostics(uuid: string, opts?: CallOptions): Promise<GuestDiagnostics> { return ops.diagnostics(this.core, uuid, opts); }
  /** Writes `fakeDiskBytes(uuid, imageId, i)` for each chunk, so a test can check what arrived. */
  snapshot(uuid: string, sink: ImageDataSink, opts?: CallOptions): Promise<void> { return ops.snapshot(this.core, uuid, sink, opts); }
  rescue(uuid: string, rescueImage: string, _adminPass: string, opts?: CallOptions): Promise<GuestInfo> {
    return ops.rescue(this.core, uuid, rescueImage, opts);
  }
  unrescue(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return ops.unrescue(this.core, uuid, opts); }
  rebuild(spec: GuestSpec, opts?: CallOptions): Promise<GuestInfo> { return ops.rebuild(this.core, spec, opts); }
  setAdminPassword(uuid: string, _password: string, opts?: CallOptions): Promise<void> { return ops.setAdminPassword(this.core, uuid, opts); }
  triggerCrashDump(uuid: string, opts?: CallOptions): Promise<void> { return ops.triggerCrashDump(this.core, uuid, opts); }

  migrateOut(uuid: string, dest: MigrationTarget, opts?: CallOptions): Promise<GuestInfo> { return mig.migrateOut(this.core, this.fabric, uuid, dest, opts); }
  finishMigration(spec: GuestSpec, powerOn: boolean, opts?: CallOptions): Promise<GuestInfo> { return mig.finishMigration(this.core, spec, powerOn, opts); }
  confirmMigration(uuid: string, opts?: CallOptions): Promise<void> { return mig.confirmMigration(this.core, uuid, opts); }
  revertMigration(uuid: string, opts?: CallOptions): Promise<void> { return mig.revertMigration(this.core, uuid, opts); }
  finishRevertMigration(uuid: string, powerOn: boolean, opts?: CallOptions): Promise<GuestInfo> {
    return mig.finishRevertMigration(this.core, uuid, powerOn, opts);
  }
  prepareIncoming(spec: GuestSpec, opts?: CallOptions): Promise<void> { return mig.prepareIncoming(this.core, spec, opts); }
  liveMigrate(uuid: string, dest: MigrationTarget, opts?: CallOptions): Promise<void> { return mig.liveMigrate(this.core, this.fabric, uuid, dest, opts); }
  abortLiveMigration(uuid: string, opts?: CallOptions): Promise<void> { return mig.abortLiveMigration(this.core, uuid, opts); }
  finishIncoming(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return mig.finishIncoming(this.core, uuid, opts); }
  abortIncoming(uuid: string, opts?: CallOptions): Promise<void> { return mig.abortIncoming(this.core, uuid, opts); }

  onEvent(listener: (e: DriverEvent) => void): () => void { return this.core.onEvent(listener); }

  /** Simulates the guest crashing on the hypervisor (power state CRASHED) and emits the event. */
  crashGuest(uuid: string): void {
    this.core.external(uuid, PowerState.CRASHED, 'external');
  }

  /**
   * Simulates a hypervisor-side change (guest shut itself down, crashed, ...). Emits a DriverEvent
   * when the state actually changes, as libvirt's lifecycle events do. Throws `not-found`/`closed`.
   */
  setPowerStateExternally(uuid: string, state: PowerState): void {
    this.core.external(uuid, state, 'external');
  }

  /** Rejects every parked (slow, latent or hung) operation with `closed`; later calls reject too. */
  async close(): Promise<void> {
    if (this.core.closed) return;
    this.guestFaultTimer?.cancel();
    this.fabric?.leave(this.core);
    this.core.close();
  }

  /** One spontaneous-fault draw per RUNNING guest, in a stable order, so a seed replays the same faults. */
  private guestFaultTick(): void {
    for (const g of [...this.core.guests.values()]) {
      if (g.powerState !== RUNNING) continue;
      const f = this.faults.guestFault();
      if (f === 'crash') this.core.external(g.uuid, PowerState.CRASHED, 'guest crashed');
      else if (f === 'shutdown') this.core.external(g.uuid, SHUTDOWN, 'guest shut itself down');
    }
  }

  private transition(op: DriverOp, uuid: string, t: Transition, opts: CallOptions | undefined): Promise<GuestInfo> {
    return this.core.run(op, uuid, opts, () => {
      const g = this.core.need(uuid);
      if (t.from !== 'any') this.core.requireState(g, t.from, t.verb);
      return this.core.setState(g, t.to, t.log);
    });
  }

  /** Checked when the guest is created (not when asked), so concurrent spawns cannot both fit. */
  private checkCapacity(spec: GuestSpec): void {
    const u = this.sum(), h = this.core.info;
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
    const add = (g: Guest) => {
      u.vcpusUsed += g.vcpus;
      u.memoryMbUsed += g.memoryMb;
      u.diskGbUsed += g.diskGb;
      if (g.powerState === RUNNING) u.runningVms++;
    };
    for (const g of this.core.guests.values()) add(g);
    for (const g of this.core.kept?.values() ?? []) add(g);
    return u;
  }
}
