/**
 * A host's image cache (Nova's `_base`): each image's bytes once per host, fetched through the
 * host's `ImageFetcher`, verified, and shared by every guest built from it. Concurrent acquires of
 * one image share one fetch. `sweep` removes bases no guest uses, oldest use first, while the cache
 * is over its byte cap or a base is unused past `maxUnusedMs`; a base in use is never removed.
 *
 * A fetch lands in `<dir>/<id>.part` and is renamed to `<dir>/<id>` only once the fetcher verified
 * the bytes and their format passed the checks below, so a file named `<id>` is always a checked
 * base (a restart keeps them; `.part` files are leftovers and removed). One cache per directory.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, rename, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverError, type CallOptions, type ImageFetcher } from '../driver.js';
import type { GuestImage } from '../../protocols/host.js';
import { diskInfo, type DiskFormat } from './disks.js';

export interface ImageCacheOptions {
  /** The `_base` directory (created when missing). */
  dir: string;
  fetcher: ImageFetcher;
  /** Bytes the cache may hold before a sweep removes unused bases (default 10 GiB). */
  maxBytes?: number;
  /** A base unused this long is removed by a sweep even under the cap (default 24 h; Nova: remove_unused_original_minimum_age_seconds). */
  maxUnusedMs?: number;
  now?: () => number;
}

export interface CachedImage {
  path: string;
  /** What the bytes are, checked with qemu-img against the image's disk_format (`raw` for aki/ari/ami). */
  format: DiskFormat;
  sizeBytes: number;
}

export interface CacheStats {
  /** Fetches started (each one shared by every acquire that came while it ran). */
  fetches: number;
  /** Acquires that started no fetch. */
  hits: number;
  /** Bytes received from the fetcher, also by fetches that failed. */
  bytesFetched: number;
  /** Bytes of the bases on disk. */
  bytes: number;
  images: number;
}

/**
 * What the bytes of each Glance disk_format are used as. Raw-like formats are never probed by
 * qemu-img; a raw image whose header is another format's is refused (`refuseDisguised`). Formats missing here (vmdk, vhd,
 * vhdx, vdi, ploop) are refused rather than converted: their readers have had host-file escapes of
 * their own (VMDK extents, CVE-2024-32498), and Glance can convert on import instead.
 */
const FORMAT_OF: Record<string, DiskFormat> = { qcow2: 'qcow2', raw: 'raw', iso: 'raw', ami: 'raw', aki: 'raw', ari: 'raw' };

/** Image ids become file names: letters, digits, `-` and `_` only (no `/`, no `..`, no `.part`). */
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const PART = '.part';

interface Base {
  sizeBytes: number;
  lastUse: number;
}

/** A running fetch, shared by its waiters; aborted when the last one gives up. */
interface Flight {
  done: Promise<void>;
  waiters: number;
  abort: AbortController;
}

function checkId(id: string): void {
  if (!ID.test(id)) throw new DriverError('failed', `image id ${JSON.stringify(id.slice(0, 80))} is not usable as a file name`);
}

function formatOf(image: GuestImage): DiskFormat {
  const f = FORMAT_OF[image.diskFormat];
  if (!f) throw new DriverError('unsupported', `image ${image.id}: disk_format ${image.diskFormat} is not supported (only ${Object.keys(FORMAT_OF).join(', ')})`);
  return f;
}

function asDriverError(image: GuestImage, e: unknown): DriverError {
  if (e instanceof DriverError) return e;
  return new DriverError('failed', `image ${image.id}: ${e instanceof Error ? e.message : String(e)}`);
}

/** Rejects with `timeout`/`aborted` when the caller's bounds pass first; `p` itself goes on. */
function bounded<T>(p: Promise<T>, what: string, opts: CallOptions): Promise<T> {
  if (opts.signal?.aborted) return Promise.reject(new DriverError('aborted', `${what}: aborted`));
  if (opts.deadlineMs === undefined && !opts.signal) return p;
  return new Promise<T>((resolve, reject) => {
    const finish = (): void => { clearTimeout(timer); opts.signal?.removeEventListener('abort', onAbort); };
    const onAbort = (): void => { finish(); reject(new DriverError('aborted', `${what}: aborted`)); };
    const timer = opts.deadlineMs === undefined ? undefined
      : setTimeout(() => { finish(); reject(new DriverError('timeout', `${what} took longer than ${opts.deadlineMs} ms`, true)); }, opts.deadlineMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { finish(); resolve(v); }, (e: unknown) => { finish(); reject(e); });
  });
}

export class ImageCache {
  private readonly bases = new Map<string, Base>();
  /** Who holds each image (guest uuids); taken at the start of an acquire, so a sweep never races a fetch's waiters. */
  private readonly holders = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight>();
  /**
   * File work on an id still running outside `flights` (a sweep's unlink, an abandoned fetch
   * cleaning up its `.part`): a new fetch of that id waits for it before touching the files.
   */
  private readonly draining = new Map<string, Promise<void>>();
  private readonly counters = { fetches: 0, hits: 0, bytesFetched: 0 };
  private readonly maxBytes: number;
  private readonly maxUnusedMs: number;
  private readonly now: () => number;

  constructor(readonly opts: ImageCacheOptions) {
    this.maxBytes = opts.maxBytes ?? 10 * 2 ** 30;
    this.maxUnusedMs = opts.maxUnusedMs ?? 24 * 3600_000;
    this.now = opts.now ?? Date.now;
    mkdirSync(opts.dir, { recursive: true });
    for (const name of readdirSync(opts.dir)) {
      const file = join(opts.dir, name);
      if (name.endsWith(PART)) rmSync(file, { force: true });
      else if (ID.test(name)) {
        const st = statSync(file);
        // The file's mtime is its last use (touched on every acquire and release).
        if (st.isFile()) this.bases.set(name, { sizeBytes: st.size, lastUse: st.mtimeMs });
      }
    }
  }

  /** The image's cached file, fetched and verified once; `user` (a guest uuid) holds it until `release`. */
  async acquire(image: GuestImage, user: string, opts: CallOptions = {}): Promise<CachedImage> {
    checkId(image.id);
    const format = formatOf(image);
    const held = this.holders.get(image.id)?.has(user) ?? false;
    this.hold(image.id, user);
    try {
      if (this.bases.has(image.id)) this.counters.hits++;
      else await this.join(image, format, opts);
      const base = this.bases.get(image.id);
      // A sweep cannot take a held base; this only fails if the file vanished under us.
      if (!base) throw new DriverError('failed', `image ${image.id}: its base disappeared`, true);
      this.touch(image.id, base);
      return { path: this.pathOf(image.id), format, sizeBytes: base.sizeBytes };
    } catch (e) {
      if (!held) this.unhold(image.id, user);
      throw e;
    }
  }

  /** `user` no longer needs the image (its guest is gone). Unknown pairs are ignored. */
  release(imageId: string, user: string): void {
    if (!this.holders.get(imageId)?.has(user)) return;
    this.unhold(imageId, user);
    const base = this.bases.get(imageId);
    if (base) this.touch(imageId, base);
  }

  /** Marks a base as used by `user` without fetching (guests found after a restart). */
  adopt(imageId: string, user: string): void {
    if (ID.test(imageId)) this.hold(imageId, user);
  }

  /** Removes what the policy allows; resolves with the removed image ids. */
  async sweep(): Promise<string[]> {
    const now = this.now();
    const unused = [...this.bases].filter(([id]) => !this.holders.has(id) && !this.flights.has(id))
      .sort(([, a], [, b]) => a.lastUse - b.lastUse);
    let bytes = this.stats.bytes;
    const victims: string[] = [];
    for (const [id, base] of unused) {
      if (bytes <= this.maxBytes && now - base.lastUse <= this.maxUnusedMs) continue;
      victims.push(id);
      bytes -= base.sizeBytes;
      // Out of the map before the unlink, so no acquire meanwhile takes a file about to go.
      this.bases.delete(id);
    }
    await Promise.all(victims.map((id) => this.drain(id, rm(this.pathOf(id), { force: true }))));
    return victims;
  }

  get stats(): CacheStats {
    let bytes = 0;
    for (const b of this.bases.values()) bytes += b.sizeBytes;
    return { ...this.counters, bytes, images: this.bases.size };
  }

  private pathOf(id: string): string {
    return join(this.opts.dir, id);
  }

  private hold(id: string, user: string): void {
    const set = this.holders.get(id) ?? new Set<string>();
    set.add(user);
    this.holders.set(id, set);
  }

  private unhold(id: string, user: string): void {
    const set = this.holders.get(id);
    set?.delete(user);
    if (set?.size === 0) this.holders.delete(id);
  }

  /** Records a use, also in the file's mtime so a restart keeps the base's age. */
  private touch(id: string, base: Base): void {
    base.lastUse = this.now();
    const t = base.lastUse / 1000;
    utimes(this.pathOf(id), t, t).catch(() => {});
  }

  private drain(id: string, work: Promise<unknown>): Promise<void> {
    const settled = work.then(() => {}, () => {});
    const gone = Promise.all([this.draining.get(id), settled]).then(() => {
      if (this.draining.get(id) === gone) this.draining.delete(id);
    });
    this.draining.set(id, gone);
    return gone;
  }

  /**
   * Waits for the image's fetch, starting it when none runs. When the last waiter gives up the
   * fetch is aborted and leaves `flights` at once, so the next acquire starts afresh (after it).
   */
  private async join(image: GuestImage, format: DiskFormat, opts: CallOptions): Promise<void> {
    const id = image.id;
    let flight = this.flights.get(id);
    if (flight) this.counters.hits++;
    else {
      this.counters.fetches++;
      const abort = new AbortController();
      const done: Promise<void> = this.fetch(image, format, abort.signal).finally(() => {
        if (this.flights.get(id)?.done === done) this.flights.delete(id);
      });
      flight = { done, waiters: 0, abort };
      this.flights.set(id, flight);
    }
    const f = flight;
    f.waiters++;
    try {
      await bounded(f.done, `fetch of image ${id}`, opts);
    } finally {
      if (--f.waiters === 0 && this.flights.get(id) === f) {
        this.flights.delete(id);
        f.abort.abort();
        void this.drain(id, f.done);
      }
    }
  }

  private async fetch(image: GuestImage, format: DiskFormat, signal: AbortSignal): Promise<void> {
    const part = this.pathOf(image.id) + PART;
    await this.draining.get(image.id);
    // An abandoned fetch of the same id may have finished meanwhile.
    if (this.bases.has(image.id)) return;
    if (signal.aborted) throw new DriverError('aborted', `fetch of image ${image.id}: every caller gave up`);
    const fh = await open(part, 'w', 0o644);
    let closed = false;
    try {
      const expected = { sizeBytes: image.sizeBytes, checksum: image.checksum, osHashAlgo: image.osHashAlgo, osHashValue: image.osHashValue };
      await this.opts.fetcher.fetch(image.id, async (chunk) => {
        if (signal.aborted) throw new DriverError('aborted', `fetch of image ${image.id}: every caller gave up`);
        this.counters.bytesFetched += chunk.byteLength;
        await fh.write(chunk);
      }, expected, { signal });
      // On disk before the rename: a crash must not leave a named base with missing bytes.
      await fh.sync();
      const { size } = await fh.stat();
      closed = true;
      await fh.close();
      if (format === 'qcow2') await this.checkQcow2(image.id, part);
      else await refuseDisguised(image.id, part);
      await rename(part, this.pathOf(image.id));
      this.bases.set(image.id, { sizeBytes: size, lastUse: this.now() });
    } catch (e) {
      if (!closed) await fh.close().catch(() => {});
      await rm(part, { force: true });
      throw asDriverError(image, e);
    }
  }

  /**
   * A qcow2 base must be self-contained: a backing file or an external data file in an image's
   * header would let its guest read any file on the host (the backing chain is opened by path).
   */
  private async checkQcow2(id: string, part: string): Promise<void> {
    let info;
    try {
      info = await diskInfo(part, 'qcow2');
    } catch (e) {
      throw new DriverError('failed', `image ${id}: not a qcow2 (${e instanceof Error ? e.message.slice(-200) : String(e)})`);
    }
    if (info.format !== 'qcow2') throw new DriverError('failed', `image ${id}: not a qcow2 (qemu-img reads ${info.format})`);
    if (info.backingFile !== undefined) throw new DriverError('failed', `image ${id}: a qcow2 with a backing file is refused`);
    if (info.dataFile !== undefined) throw new DriverError('failed', `image ${id}: a qcow2 with an external data file is refused`);
  }
}

/**
 * Headers of formats a raw image must not carry (Nova's format inspector since CVE-2024-32498):
 * a raw disk that is really a qcow2 or VMDK would be opened by path as such by whatever later
 * probes it, backing files and extents included.
 */
const DISGUISES: readonly { name: string; magic: Buffer }[] = [
  { name: 'qcow2', magic: Buffer.from([0x51, 0x46, 0x49, 0xfb]) },
  { name: 'vmdk', magic: Buffer.from('KDMV') },
  { name: 'vhdx', magic: Buffer.from('vhdxfile') },
  { name: 'vdi', magic: Buffer.from('<<< ') },
];

async function refuseDisguised(id: string, part: string): Promise<void> {
  const fh = await open(part, 'r');
  try {
    const head = Buffer.alloc(16);
    await fh.read(head, 0, head.length, 0);
    const found = DISGUISES.find((d) => head.subarray(0, d.magic.length).equals(d.magic));
    if (found) throw new DriverError('failed', `image ${id}: its disk_format is raw but its data is a ${found.name}`);
  } finally {
    await fh.close();
  }
}
