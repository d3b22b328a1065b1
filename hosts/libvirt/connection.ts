/**
 * The driver's handle on libvirt: `@unraid/libvirt` loaded on first use (an optional dependency:
 * without it the driver says `unsupported`), one connection opened lazily and opened again after
 * it was lost, every call raced against its `Bound`, and `virsh -c <uri>` for what the binding
 * lacks (NMI, migration, domain stats). The binding rejects with bare messages (no error codes),
 * so failures are classified by their text.
 */
import { DriverError, type DriverHealth } from '../driver.js';
import { Bound } from './bound.js';
import { run } from './exec.js';

/** The part of `@unraid/libvirt`'s Hypervisor the driver uses (structural: the package is optional). */
export interface LibvirtDomainInfo { state: number; maxMem: number; memory: number; nrVirtCpu: number; cpuTime: number }
export interface LibvirtNodeInfo { model: string; memory: number; cpus: number; mhz: number }
export type Dom = object;
export interface Hypervisor {
  connectOpen(): Promise<void>;
  connectClose(): Promise<void>;
  connectListAllDomains(): Promise<Dom[]>;
  connectGetHostname(): Promise<string>;
  nodeGetInfo(): Promise<LibvirtNodeInfo>;
  domainDefineXML(xml: string): Promise<Dom>;
  domainLookupByUUIDString(uuid: string): Promise<Dom>;
  domainGetUUIDString(d: Dom): Promise<string>;
  domainGetName(d: Dom): Promise<string>;
  domainGetXMLDesc(d: Dom): Promise<string>;
  domainGetInfo(d: Dom): Promise<LibvirtDomainInfo>;
  domainCreate(d: Dom): Promise<void>;
  domainShutdown(d: Dom): Promise<void>;
  domainDestroy(d: Dom): Promise<void>;
  domainUndefine(d: Dom): Promise<void>;
  domainSuspend(d: Dom): Promise<void>;
  domainResume(d: Dom): Promise<void>;
  domainSave(d: Dom, file: string): Promise<void>;
  domainRestore(file: string): Promise<void>;
}
export interface LibvirtBinding { Hypervisor: new (o: { uri: string }) => Hypervisor }

const PACKAGE = '@unraid/libvirt';
let shared: Promise<LibvirtBinding> | undefined;

/** Imports the binding once per process (the name is a variable: the package is optional, also to tsc). */
export function loadBinding(): Promise<LibvirtBinding> {
  shared ??= (import(PACKAGE) as Promise<LibvirtBinding>).catch((e: unknown) => { shared = undefined; throw e; });
  return shared;
}

// A libvirt message → what it means. The first match wins; `lost` drops the connection.
const CLASSES: [RegExp, DriverError['kind'], boolean, boolean][] = [
  [new RegExp(['client socket is closed', 'broken pipe', 'end of file while reading', 'cannot (recv|write) data',
    'connection (reset|refused|closed)', 'failed to connect socket', 'no connection driver', 'invalid connection pointer'].join('|'), 'i'),
  'failed', true, true],
  [/domain not found|no domain with matching/i, 'not-found', false, false],
  [/not running|not paused|is already running|already active|operation is not valid|domain is not running/i, 'invalid-state', false, false],
];

/**
 * `h` with every call's receiver and arguments held until the call settles. The binding's async
 * workers keep raw pointers to the Domain and Hypervisor objects they were given, not references:
 * one the GC finalizes before its worker ran (queued behind slow calls such as destroys on the
 * four-thread pool) is freed under the worker, and libvirt segfaults the process.
 */
export function pinning(h: Hypervisor): Hypervisor {
  const held = new Set<unknown[]>();
  return new Proxy(h, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const p: unknown = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (!(p instanceof Promise)) return p;
        const pin = [target, ...args];
        held.add(pin);
        const unpin = () => { held.delete(pin); };
        p.then(unpin, unpin);
        return p;
      };
    },
  });
}

/** A binding rejection as a DriverError, and whether it means the connection is gone. */
export function classify(what: string, e: unknown): { error: DriverError; lost: boolean } {
  if (e instanceof DriverError) return { error: e, lost: false };
  const msg = e instanceof Error ? e.message : String(e);
  for (const [re, kind, retryable, lost] of CLASSES) {
    if (re.test(msg)) return { error: new DriverError(kind, `${what}: ${msg}`, retryable), lost };
  }
  return { error: new DriverError('failed', `${what}: ${msg}`), lost: false };
}

export class Connection {
  private h: Hypervisor | undefined;
  private opening: Promise<Hypervisor> | undefined;
  private lastError: string | undefined;
  private closed = false;
  private version: number | undefined;

  constructor(readonly uri: string, private readonly load: () => Promise<LibvirtBinding> = loadBinding) {}

  /** Whether `virsh -c <uri>` reaches the daemon the binding talks to (`test:` drivers live in-process). */
  get virshReachesDomains(): boolean { return !this.uri.startsWith('test:'); }

  /** Runs `fn` on the open connection, bounded by `b`; `what` names it in errors. */
  async call<T>(b: Bound, what: string, fn: (h: Hypervisor) => Promise<T>): Promise<T> {
    const h = await this.open(b);
    try {
      return await b.race(fn(h));
    } catch (e) {
      if (b.signal.aborted) throw b.signal.reason as DriverError;
      const c = classify(what, e);
      if (c.lost) this.drop(h, c.error.message);
      throw c.error;
    }
  }

  /** Opens the connection unless it is open (concurrent callers share one attempt). */
  async open(b: Bound): Promise<Hypervisor> {
    if (this.closed) throw new DriverError('closed', 'libvirt driver is closed');
    if (this.h) return this.h;
    this.opening ??= this.connect().finally(() => { this.opening = undefined; });
    return b.race(this.opening);
  }

  /** `virsh -c <uri> args…`, bounded; stdout. Only for daemons virsh can reach (not `test:`). */
  async virsh(b: Bound, args: readonly string[]): Promise<string> {
    if (!this.virshReachesDomains) {
      throw new DriverError('unsupported', `${args[0]}: virsh cannot reach the in-process ${this.uri} driver`);
    }
    return this.runVirsh(b, args);
  }

  /** The hypervisor's version as Nova encodes it (major * 1e6 + minor * 1e3 + micro), from `virsh version`. */
  async hypervisorVersion(b: Bound): Promise<number> {
    if (this.version !== undefined) return this.version;
    const out = await this.runVirsh(b, ['version']);
    const m = /Running hypervisor:\s*\S+\s+(\d+)\.(\d+)\.(\d+)/.exec(out);
    if (!m) throw new DriverError('failed', `virsh version: no hypervisor version in its output`);
    this.version = Number(m[1]) * 1_000_000 + Number(m[2]) * 1_000 + Number(m[3]);
    return this.version;
  }

  /** Never rejects: `closed`, `up` when a cheap call answers within `ms`, else `down` with the reason. */
  async health(ms = 5_000): Promise<DriverHealth> {
    if (this.closed) return { state: 'closed' };
    const b = new Bound('health', { deadlineMs: ms });
    try {
      await this.call(b, 'health', (h) => h.connectGetHostname());
      return { state: 'up' };
    } catch (e) {
      return { state: 'down', detail: e instanceof Error ? e.message : this.lastError ?? 'unknown' };
    } finally {
      b.dispose();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const h = this.h;
    this.h = undefined;
    // Bounded: a daemon that stopped answering must not hold close up.
    if (h) await Promise.race([h.connectClose().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
  }

  private async connect(): Promise<Hypervisor> {
    const lib = await this.load().catch((e: unknown) => {
      throw e instanceof DriverError ? e : new DriverError('unsupported',
        `${PACKAGE} is not available (an optional dependency, built against libvirt-dev: see scripts/setup.sh): ${e instanceof Error ? e.message : String(e)}`);
    });
    const h = pinning(new lib.Hypervisor({ uri: this.uri }));
    try {
      await h.connectOpen();
    } catch (e) {
      const err = classify(`connect to ${this.uri}`, e).error;
      this.lastError = err.message;
      throw new DriverError('failed', err.message, true);
    }
    if (this.closed) {
      await h.connectClose().catch(() => undefined);
      throw new DriverError('closed', 'libvirt driver is closed');
    }
    this.h = h;
    return h;
  }

  /** Forgets a lost connection (the next call opens a new one). */
  private drop(h: Hypervisor, why: string): void {
    if (this.h !== h) return;
    this.h = undefined;
    this.lastError = why;
    h.connectClose().catch(() => undefined);
  }

  private runVirsh(b: Bound, args: readonly string[]): Promise<string> {
    return b.race(run('virsh', ['-q', '-c', this.uri, ...args], b.opts));
  }
}
