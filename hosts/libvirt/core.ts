/**
 * What every libvirt operation module shares: the connection, the layout, the image cache, the
 * power watch, the fault injector, a lock per guest, and `run`, the one path every operation takes
 * (closed check, bounds, the guest's lock, the injected fault, busy marking for the watch).
 */
import { setMaxListeners } from 'node:events';
import { DriverError, type CallOptions, type DriverOp, type GuestInfo } from '../driver.js';
import { FaultInjector, type FaultDecision } from '../fake/fault-plan.js';
import type { PowerState } from '../../protocols/states.js';
import { Bound } from './bound.js';
import type { Connection } from './connection.js';
import type { DomainType } from './domain-xml.js';
import type { ImageCache } from './image-cache.js';
import { Layout } from './layout.js';
import { PowerWatch } from './power-watch.js';
import type { LibvirtFabric } from './fabric.js';
import type { NicBackend } from './nics.js';

const REFUSALS = new Set<DriverError['kind']>(['invalid-state', 'not-found', 'unsupported']);

export const closedError = (): DriverError => new DriverError('closed', 'libvirt driver is closed');

/** Settings every module reads. */
export interface CoreSettings {
  host: string;
  domainType: DomainType;
  softShutdownMs: number;
  /** How long a cleanup (after a failed or cancelled call) may take. */
  cleanupMs: number;
  /** How guests' NICs are plugged (nics.ts). */
  nicBackend: NicBackend;
}

/** One lock per key, waited for within the caller's bounds. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();
  async acquire(key: string, b: Bound): Promise<() => void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    const done = () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    try {
      await b.race(prev);
    } catch (e) {
      done();
      throw e;
    }
    return done;
  }
}

export interface RunOptions {
  /** The driver's own cancellation of this call (a destroy cancelling a spawn, a migration abort). */
  internal?: AbortSignal;
  /** The body applies the injected fault itself, at the point it chooses (spawn: after its partial work). */
  ownFault?: boolean;
}

export class LibvirtCore {
  readonly watch = new PowerWatch();
  readonly faults: FaultInjector;
  readonly layout: Layout;
  /** In-flight spawns by uuid: concurrent spawns share one, a destroy cancels it. */
  readonly spawning = new Map<string, { p: Promise<GuestInfo>; abort: AbortController }>();
  /** Live migrations leaving from here, so `abortLiveMigration` can stop them. */
  readonly outgoing = new Map<string, AbortController>();
  /** When the driver last started each guest (diagnostics' uptime). */
  readonly startedAt = new Map<string, number>();
  private readonly locks = new KeyedLock();
  private readonly closing = new AbortController();
  private imageCache: ImageCache | undefined;

  constructor(
    readonly conn: Connection,
    instancesPath: string,
    readonly settings: CoreSettings,
    readonly fabric: LibvirtFabric | undefined,
    faults: FaultInjector | undefined,
  ) {
    // Every call in flight listens for the close (and stops listening when it ends): many is not a leak.
    setMaxListeners(0, this.closing.signal);
    this.layout = new Layout(instancesPath);
    this.faults = faults ?? new FaultInjector();
  }

  get closed(): boolean { return this.closing.signal.aborted; }
  assertOpen(): void { if (this.closed) throw closedError(); }

  set cache(c: ImageCache) { this.imageCache = c; }
  get cache(): ImageCache {
    if (!this.imageCache) throw new DriverError('failed', 'libvirt driver: no image source attached (attach() before init())');
    return this.imageCache;
  }

  /** `user` no longer holds the image (a driver without an image source holds nothing). */
  release(imageId: string, user: string): void { this.imageCache?.release(imageId, user); }
  /** `user` holds the image it was built from (found after a restart, or back after a revert). */
  adopt(imageId: string, user: string): void { this.imageCache?.adopt(imageId, user); }
  /** Removes the bases the cache's policy lets go; in the background, never failing the caller. */
  sweep(): void { void this.imageCache?.sweep().catch(() => undefined); }

  /** Bounds for work that is not one operation (listings, the poller). */
  bound(what: string, opts?: CallOptions, internal?: AbortSignal): Bound {
    return new Bound(what, opts, [this.closing.signal, internal]);
  }

  /**
   * Bounds for a cleanup after `b` failed: its own time, ended only by close, started once the
   * native calls `b` raced have landed (a late define must not reappear after the undefine).
   */
  async cleanupBound(b: Bound, what: string): Promise<Bound> {
    await b.settled(this.settings.cleanupMs);
    return this.bound(what, { deadlineMs: this.settings.cleanupMs });
  }

  async run<T>(op: DriverOp, uuid: string, opts: CallOptions | undefined, body: (b: Bound, fault: FaultDecision) => Promise<T>, o: RunOptions = {}): Promise<T> {
    this.assertOpen();
    const b = this.bound(`${op} of ${uuid}`, opts, o.internal);
    try {
      b.check();
      const release = await this.locks.acquire(uuid, b);
      let left: PowerState | 'same' | undefined;
      this.watch.begin(uuid);
      try {
        const fault = this.faults.decide(op, uuid);
        if (!o.ownFault) await this.apply(b, fault);
        const r = await body(b, fault).catch((e: unknown) => {
          // Refused before acting: the state is what it was.
          if (e instanceof DriverError && REFUSALS.has(e.kind)) left = 'same';
          throw e;
        });
        left = isInfo(r) ? r.powerState : 'same';
        return r;
      } finally {
        this.watch.end(uuid, left);
        release();
      }
    } finally {
      b.dispose();
    }
  }

  /** The injected fault, where the operation stands: hang until the bounds end, wait, or fail. */
  async apply(b: Bound, fault: FaultDecision): Promise<void> {
    if (fault.action === 'hang') await b.hang();
    if (fault.action === 'slow') await b.sleep(fault.delayMs);
    if (fault.action === 'fail') throw new DriverError('failed', fault.message, fault.retryable);
  }

  close(): void {
    this.closing.abort(closedError());
    this.watch.clear();
    for (const s of this.spawning.values()) s.abort.abort(closedError());
    for (const m of this.outgoing.values()) m.abort(closedError());
  }
}

function isInfo(r: unknown): r is GuestInfo {
  return typeof r === 'object' && r !== null && 'powerState' in r && 'uuid' in r;
}
