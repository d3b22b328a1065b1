/**
 * The libvirt hypervisor driver (Nova's `nova.virt.libvirt.LibvirtDriver`, cut down to what novact
 * drives) over `@unraid/libvirt`, with `virsh` for what the binding lacks. Guests live as libvirt
 * domains carrying novact metadata and as files under `<instancesPath>/<uuid>/` (see layout.ts), so
 * a restarted host finds its guests again from libvirt and disk alone. The binding has no events:
 * the driver polls power states every `pollMs` and emits what changed on its own.
 */
import { hostname } from 'node:os';
import { mkdir, rm } from 'node:fs/promises';
import { DriverError, type CallOptions, type DriverCapabilities, type DriverEvent, type DriverHealth, type GuestDiagnostics,
  type GuestInfo, type GuestSpec, type HostInfo, type HostServices, type HostUsage, type HypervisorDriver, type ImageDataSink,
  type MigrationTarget } from '../driver.js';
import { FaultInjector, type FaultPlan } from '../fake/fault-plan.js';
import type { Bound } from './bound.js';
import { build, imageIds, planMeta, releaseImages, teardown, undoBuild } from './build.js';
import * as cold from './cold-migration.js';
import { Connection, type LibvirtBinding } from './connection.js';
import { LibvirtCore } from './core.js';
import { detectDomainType, type DomainTypeSetting } from './domain-type.js';
import type { LibvirtFabric, FabricHost } from './fabric.js';
import * as ops from './guest-ops.js';
import { findGuest, listFound, probeGuest, toInfo } from './guests.js';
import { hostInfo, keptUuids, usage } from './host-info.js';
import { ImageCache } from './image-cache.js';
import * as img from './image-ops.js';
import { isUuid } from './layout.js';
import * as live from './live-migration.js';
import type { NicBackend } from './nics.js';
import * as power from './power.js';

export interface LibvirtDriverOptions {
  /** libvirt URI: `qemu+unix:///session?socket=…` for a novact libvirtd, `test:///default` for libvirt's in-process fake. */
  uri: string;
  /** Where guests' files live (Nova's instances_path). */
  instancesPath: string;
  /** This host's name (default: the machine's): written into every domain's metadata; the fabric's key. */
  host?: string;
  /** `kvm`, `qemu` (TCG), or `auto` (the default: kvm when /dev/kvm is usable and the daemon offers it). */
  domainType?: DomainTypeSetting;
  /** The image cache's byte cap (`_base`). */
  cacheMaxBytes?: number;
  /**
   * How guests' NICs are plugged: `user` (the default; QEMU's user-mode networking, all a session
   * libvirtd can do) or `ethernet` (a tap named `tap<port id's first 11>` the host made beforehand).
   */
  nicBackend?: NicBackend;
  /** How long a clean shutdown may take before a destroy (Nova's shutdown_timeout, default 60 s); 0 destroys at once. */
  softShutdownMs?: number;
  /** Power-state polling period (default 1 s); 0 turns polling, and so events, off. */
  pollMs?: number;
  /** How long reads without their own deadline (listings, host info) may take (default 30 s). */
  readTimeoutMs?: number;
  /** Hosts that can migrate to each other in this process. */
  fabric?: LibvirtFabric;
  /** Faults injected in front of libvirt (chaos tests), as for the fake driver. */
  faultPlan?: FaultPlan;
  /** How `@unraid/libvirt` is loaded (default: a dynamic import). */
  loadBinding?: () => Promise<LibvirtBinding>;
}

export class LibvirtDriver implements HypervisorDriver {
  readonly capabilities: DriverCapabilities;
  readonly host: string;
  /** The live fault injector; chaos harnesses add and clear rules here. */
  readonly faults: FaultInjector;

  private readonly core: LibvirtCore;
  private readonly fabricEntry: FabricHost;
  private services: HostServices | undefined;
  private initialized: Promise<void> | undefined;
  private ready = false;
  private poller: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly opts: LibvirtDriverOptions) {
    this.host = opts.host ?? hostname();
    this.faults = new FaultInjector(opts.faultPlan);
    const conn = new Connection(opts.uri, opts.loadBinding);
    this.core = new LibvirtCore(conn, opts.instancesPath, {
      host: this.host, domainType: opts.domainType === 'kvm' ? 'kvm' : 'qemu',
      softShutdownMs: opts.softShutdownMs ?? 60_000, cleanupMs: 30_000, nicBackend: opts.nicBackend ?? 'user',
    }, opts.fabric, this.faults);
    this.capabilities = Object.freeze({
      supportsPause: true, supportsSuspend: true, supportsSnapshot: true, supportsRescue: true,
      supportsMigration: opts.fabric !== undefined,
      supportsLiveMigration: opts.fabric !== undefined && live.possible(conn),
      emitsEvents: (opts.pollMs ?? 1_000) > 0,
    });
    this.fabricEntry = { instancesPath: opts.instancesPath, uri: opts.uri };
    opts.fabric?.join(this.host, this.fabricEntry);
  }

  attach(services: HostServices): void { this.services = services; }

  /** Connects, settles the domain type, creates the directories, re-adopts cache references of the guests found, starts polling. */
  init(opts?: CallOptions): Promise<void> {
    if (this.core.closed) return Promise.reject(new DriverError('closed', 'libvirt driver is closed'));
    this.initialized ??= this.start(opts).catch((e: unknown) => { this.initialized = undefined; throw e; });
    return this.initialized;
  }

  async health(): Promise<DriverHealth> {
    if (this.core.closed) return { state: 'closed' };
    return this.core.conn.health();
  }

  hostInfo(): Promise<HostInfo> { return this.read('hostInfo', (b) => hostInfo(this.core, b)); }
  usage(): Promise<HostUsage> { return this.read('usage', (b) => usage(this.core, b)); }
  listGuests(): Promise<GuestInfo[]> { return this.read('listGuests', async (b) => (await listFound(this.core, b)).map((f) => toInfo(f))); }
  getGuest(uuid: string): Promise<GuestInfo | undefined> {
    return this.read('getGuest', async (b) => { const f = await findGuest(this.core, b, uuid); return f && toInfo(f); });
  }

  /**
   * Idempotent on uuid: an existing guest is returned as is, a concurrent spawn of the same uuid
   * shares the one in flight. A failed or cancelled spawn removes what it made before it rejects.
   */
  spawn(spec: GuestSpec, opts?: CallOptions): Promise<GuestInfo> {
    const c = this.core;
    if (c.closed) return Promise.reject(new DriverError('closed', 'libvirt driver is closed'));
    const inFlight = c.spawning.get(spec.uuid);
    if (inFlight) return inFlight.p;
    const abort = new AbortController();
    const p = (async () => {
      await this.ensure(opts);
      return c.run('spawn', spec.uuid, opts, async (b, fault) => {
        if (!isUuid(spec.uuid)) throw new DriverError('failed', `spawn: ${JSON.stringify(spec.uuid)} is not a lower-case uuid`);
        const found = await probeGuest(c, b, spec.uuid);
        if (found === 'foreign') throw new DriverError('failed', `spawn: the daemon has a domain ${spec.uuid} that is not this host's`);
        if (found) return toInfo(found);
        // A directory without a domain is what a build left when even its cleanup failed.
        await rm(c.layout.guest(spec.uuid).dir, { recursive: true, force: true });
        try {
          await build(c, b, spec, new Date().toISOString(), fault);
        } catch (e) {
          return undoBuild(c, b, spec, e);
        }
        return power.current(c, b, spec.uuid);
      }, { internal: abort.signal, ownFault: true });
    })().finally(() => c.spawning.delete(spec.uuid));
    c.spawning.set(spec.uuid, { p, abort });
    return p;
  }

  /** Absent guests succeed; a spawn in flight is cancelled first (it rejects `aborted`), so the delete wins. */
  async destroy(uuid: string, opts?: CallOptions): Promise<void> {
    const c = this.core;
    c.assertOpen();
    const s = c.spawning.get(uuid);
    if (s) {
      s.abort.abort(new DriverError('aborted', `spawn of ${uuid} cancelled by a destroy`));
      await s.p.catch(() => undefined);
    }
    c.outgoing.get(uuid)?.abort(new DriverError('aborted', `live migration of ${uuid} cancelled by a destroy`));
    await this.ensure(opts);
    await c.run('destroy', uuid, opts, async (b) => {
      if (!isUuid(uuid)) return;
      const f = await findGuest(c, b, uuid);
      if (f) releaseImages(c, f.meta);
      await teardown(c, b, uuid, f !== undefined);
      const kept = await planMeta(c.layout.kept(uuid));
      await rm(c.layout.kept(uuid).dir, { recursive: true, force: true });
      await rm(`${c.layout.guest(uuid).dir}.migrating`, { recursive: true, force: true });
      if (kept) releaseImages(c, kept);
      c.watch.forget(uuid);
      c.startedAt.delete(uuid);
    });
    // Nova's image cache manager runs periodically; here a delete is when a base may become unused.
    c.sweep();
  }

  powerOff(uuid: string, opts?: CallOptions): Promise<GuestInfo> {
    return this.op('powerOff', uuid, opts, (b) => power.powerOff(this.core, b, uuid));
  }
  powerOn(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.op('powerOn', uuid, opts, (b) => power.powerOn(this.core, b, uuid)); }
  reboot(uuid: string, hard: boolean, opts?: CallOptions): Promise<GuestInfo> {
    return this.op('reboot', uuid, opts, (b) => power.reboot(this.core, b, uuid, hard));
  }
  pause(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.op('pause', uuid, opts, (b) => power.pause(this.core, b, uuid)); }
  unpause(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.op('unpause', uuid, opts, (b) => power.unpause(this.core, b, uuid)); }
  suspend(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.op('suspend', uuid, opts, (b) => power.suspend(this.core, b, uuid)); }
  resume(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.op('resume', uuid, opts, (b) => power.resume(this.core, b, uuid)); }

  consoleOutput(uuid: string, lines?: number, opts?: CallOptions): Promise<string> {
    return this.op('consoleOutput', uuid, opts, (b) => ops.consoleOutput(this.core, b, uuid, lines));
  }
  diagnostics(uuid: string, opts?: CallOptions): Promise<GuestDiagnostics> {
    return this.op('diagnostics', uuid, opts, (b) => ops.diagnostics(this.core, b, uuid));
  }
  setAdminPassword(uuid: string, _password: string, opts?: CallOptions): Promise<void> {
    return this.op('setAdminPassword', uuid, opts, (b) => ops.setAdminPassword(this.core, b, uuid));
  }
  triggerCrashDump(uuid: string, opts?: CallOptions): Promise<void> {
    return this.op('triggerCrashDump', uuid, opts, (b) => ops.triggerCrashDump(this.core, b, uuid));
  }

  snapshot(uuid: string, sink: ImageDataSink, opts?: CallOptions): Promise<void> {
    return this.op('snapshot', uuid, opts, (b) => img.snapshot(this.core, b, uuid, sink));
  }
  /** The admin password is not injected (Nova writes it into the rescue config drive; not built here). */
  rescue(uuid: string, rescueImage: string, _adminPass: string, opts?: CallOptions): Promise<GuestInfo> {
    return this.op('rescue', uuid, opts, (b) => img.rescue(this.core, b, uuid, rescueImage));
  }
  unrescue(uuid: string, opts?: CallOptions): Promise<GuestInfo> { return this.op('unrescue', uuid, opts, (b) => img.unrescue(this.core, b, uuid)); }
  rebuild(spec: GuestSpec, opts?: CallOptions): Promise<GuestInfo> {
    return this.op('rebuild', spec.uuid, opts, (b) => img.rebuild(this.core, b, spec));
  }

  migrateOut(uuid: string, dest: MigrationTarget, opts?: CallOptions): Promise<GuestInfo> {
    return this.op('migrateOut', uuid, opts, (b) => cold.migrateOut(this.core, b, uuid, dest));
  }
  finishMigration(spec: GuestSpec, powerOn: boolean, opts?: CallOptions): Promise<GuestInfo> {
    return this.op('finishMigration', spec.uuid, opts, (b) => cold.finishMigration(this.core, b, spec, powerOn));
  }
  confirmMigration(uuid: string, opts?: CallOptions): Promise<void> {
    return this.op('confirmMigration', uuid, opts, (b) => cold.confirmMigration(this.core, b, uuid));
  }
  revertMigration(uuid: string, opts?: CallOptions): Promise<void> {
    return this.op('revertMigration', uuid, opts, (b) => cold.revertMigration(this.core, b, uuid));
  }
  finishRevertMigration(uuid: string, powerOn: boolean, opts?: CallOptions): Promise<GuestInfo> {
    return this.op('finishRevertMigration', uuid, opts, (b) => cold.finishRevertMigration(this.core, b, uuid, powerOn));
  }

  prepareIncoming(spec: GuestSpec, opts?: CallOptions): Promise<void> {
    return this.op('prepareIncoming', spec.uuid, opts, (b) => live.prepareIncoming(this.core, b, spec));
  }
  /** The transfer runs under its own signal too, so `abortLiveMigration` (or a destroy) can stop it. */
  async liveMigrate(uuid: string, dest: MigrationTarget, opts?: CallOptions): Promise<void> {
    const c = this.core;
    c.assertOpen();
    const abort = new AbortController();
    c.outgoing.set(uuid, abort);
    try {
      await this.ensure(opts);
      await c.run('liveMigrate', uuid, opts, (b) => live.liveMigrate(c, b, uuid, dest), { internal: abort.signal });
    } finally {
      if (c.outgoing.get(uuid) === abort) c.outgoing.delete(uuid);
    }
  }
  async abortLiveMigration(uuid: string, opts?: CallOptions): Promise<void> {
    this.core.outgoing.get(uuid)?.abort(new DriverError('aborted', `live migration of ${uuid} aborted`));
    await this.read('abortLiveMigration', async (b) => {
      if (!(await findGuest(this.core, b, uuid))) throw new DriverError('not-found', `guest ${uuid} not found on ${this.host}`);
    }, opts);
  }
  finishIncoming(uuid: string, opts?: CallOptions): Promise<GuestInfo> {
    return this.op('finishIncoming', uuid, opts, (b) => live.finishIncoming(this.core, b, uuid));
  }
  abortIncoming(uuid: string, opts?: CallOptions): Promise<void> {
    return this.op('abortIncoming', uuid, opts, (b) => live.abortIncoming(this.core, b, uuid));
  }

  onEvent(listener: (e: DriverEvent) => void): () => void {
    if (this.core.closed) return () => undefined;
    return this.core.watch.onEvent(listener);
  }

  /** Pending calls reject `closed`; the domains and their files stay (a host restart finds them). */
  async close(): Promise<void> {
    if (this.core.closed) return;
    this.core.close();
    clearInterval(this.poller);
    this.opts.fabric?.leave(this.host, this.fabricEntry);
    await this.core.conn.close();
  }

  private async start(opts: CallOptions | undefined): Promise<void> {
    const c = this.core;
    const b = c.bound('init', opts);
    try {
      await c.conn.open(b);
      if ((this.opts.domainType ?? 'auto') === 'auto') c.settings.domainType = await detectDomainType(c.conn, b);
      await mkdir(c.layout.base, { recursive: true });
      if (this.services) {
        c.cache = new ImageCache({
          dir: c.layout.base, fetcher: this.services.images,
          ...(this.opts.cacheMaxBytes === undefined ? {} : { maxBytes: this.opts.cacheMaxBytes }),
        });
        // The guests found hold their images, as they did before a restart.
        for (const f of await listFound(c, b)) for (const id of imageIds(f.meta)) c.adopt(id, f.meta.uuid);
        for (const uuid of await keptUuids(c)) {
          const m = await planMeta(c.layout.kept(uuid));
          if (m) for (const id of imageIds(m)) c.adopt(id, uuid);
        }
      }
      const pollMs = this.opts.pollMs ?? 1_000;
      if (pollMs > 0 && !this.poller) this.poller = setInterval(() => this.poll(), pollMs).unref();
      this.ready = true;
    } finally {
      b.dispose();
    }
  }

  private async ensure(opts: CallOptions | undefined): Promise<void> {
    if (!this.ready) await this.init(opts);
  }

  /** One observation of every guest, when someone listens and the previous tick is done. */
  private poll(): void {
    if (this.polling || !this.core.watch.listening || this.core.closed) return;
    this.polling = true;
    const b = this.core.bound('poll', { deadlineMs: this.opts.readTimeoutMs ?? 30_000 });
    listFound(this.core, b).catch(() => undefined).finally(() => { b.dispose(); this.polling = false; });
  }

  private async op<T>(op: Parameters<LibvirtCore['run']>[0], uuid: string, opts: CallOptions | undefined, body: (b: Bound) => Promise<T>): Promise<T> {
    this.core.assertOpen();
    await this.ensure(opts);
    return this.core.run(op, uuid, opts, async (b) => {
      if (!isUuid(uuid)) throw new DriverError('not-found', `guest ${JSON.stringify(uuid)} not found on ${this.host}`);
      return body(b);
    });
  }

  private async read<T>(what: string, body: (b: Bound) => Promise<T>, opts?: CallOptions): Promise<T> {
    this.core.assertOpen();
    await this.ensure(opts);
    const b = this.core.bound(what, opts ?? { deadlineMs: this.opts.readTimeoutMs ?? 30_000 });
    try {
      return await body(b);
    } finally {
      b.dispose();
    }
  }
}
