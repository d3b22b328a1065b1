import t from 'tap';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallOptions, type ImageExpectation, type ImageFetcher } from '../../hosts/driver.js';
import { ImageCache, type ImageCacheOptions } from '../../hosts/libvirt/image-cache.js';
import { run } from '../../hosts/libvirt/exec.js';
import type { GuestImage } from '../../protocols/host.js';
import { until } from '../harness/poll.js';
import { rejection } from '../harness/driver-rejection.js';

const root = await mkdtemp(join(tmpdir(), 'novact-imgcache-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `c${dirs++}`);

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/**
 * An in-memory image service: serves each image's bytes in chunks and, like the compute role's
 * fetcher, rejects once the bytes did not match what the caller expected. `hold` parks every fetch
 * until `open()`, so tests can line up concurrent acquires.
 */
class MemFetcher implements ImageFetcher {
  readonly data = new Map<string, Uint8Array>();
  calls = 0;
  signals: (AbortSignal | undefined)[] = [];
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((r) => { this.release = r; });
  }

  open(): void {
    this.release?.();
    this.gate = undefined;
  }

  async fetch(id: string, onChunk: (c: Uint8Array) => void | Promise<void>, expected?: ImageExpectation, opts?: CallOptions) {
    this.calls++;
    this.signals.push(opts?.signal);
    await this.gate;
    const bytes = this.data.get(id);
    if (!bytes) throw new Error(`no image ${id}`);
    for (let off = 0; off < bytes.length; off += 64 * 1024) await onChunk(bytes.subarray(off, off + 64 * 1024));
    if (expected?.sizeBytes !== undefined && expected.sizeBytes !== bytes.length) throw new Error('size mismatch');
    if (expected?.checksum && expected.checksum !== md5(bytes)) throw new Error(`Image ${id} failed verification: checksum mismatch.`);
    return { sizeBytes: bytes.length };
  }
}

function setup(opts: Partial<ImageCacheOptions> = {}) {
  const fetcher = new MemFetcher();
  const clock = { now: 1_700_000_000_000 };
  const dir = opts.dir ?? freshDir();
  const make = () => new ImageCache({ dir, fetcher, now: () => clock.now, ...opts });
  return { fetcher, clock, dir, cache: make(), make };
}

function image(fetcher: MemFetcher, id: string, bytes: Uint8Array, diskFormat = 'raw'): GuestImage {
  fetcher.data.set(id, bytes);
  return { id, diskFormat, properties: {}, sizeBytes: bytes.length, checksum: md5(bytes) };
}

/** A qcow2 file's bytes, made by qemu-img with `extra` options. */
async function qcow2Bytes(name: string, extra: string[]): Promise<Buffer> {
  const file = join(root, `${name}.qcow2`);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', ...extra, file, '1M']);
  return readFile(file);
}

t.test('concurrent acquires of one image share one fetch', async (t) => {
  const { fetcher, cache, dir } = setup();
  const img = image(fetcher, 'img-a', Buffer.alloc(300_000, 7));
  fetcher.hold();
  const a = cache.acquire(img, 'vm1');
  const b = cache.acquire(img, 'vm2');
  fetcher.open();
  const [ra, rb] = await Promise.all([a, b]);
  t.equal(fetcher.calls, 1);
  t.same(ra, { path: join(dir, 'img-a'), format: 'raw', sizeBytes: 300_000 });
  t.same(rb, ra);
  t.same(await readFile(ra.path), Buffer.alloc(300_000, 7));
  const c = await cache.acquire(img, 'vm3');
  t.equal(c.path, ra.path);
  t.equal(fetcher.calls, 1, 'a later acquire is a hit');
  t.same(cache.stats, { fetches: 1, hits: 2, bytesFetched: 300_000, bytes: 300_000, images: 1 });
});

t.test('a hash mismatch leaves nothing behind and a retry fetches again', async (t) => {
  const { fetcher, cache, dir } = setup();
  const good = Buffer.alloc(200_000, 1);
  const img = image(fetcher, 'img-b', good);
  fetcher.data.set('img-b', Buffer.alloc(200_000, 2));
  const e = await rejection(cache.acquire(img, 'vm1'));
  t.equal(e.kind, 'failed');
  t.match(e.message, /checksum mismatch/);
  t.same(await readdir(dir), [], 'no base and no .part');
  t.same(cache.stats, { fetches: 1, hits: 0, bytesFetched: 200_000, bytes: 0, images: 0 });
  fetcher.data.set('img-b', good);
  const r = await cache.acquire(img, 'vm1');
  t.same(await readFile(r.path), good);
  t.equal(fetcher.calls, 2);
});

t.test('a waiter that gives up leaves the fetch to the others; the last one aborts it', async (t) => {
  const { fetcher, cache, dir } = setup();
  const img = image(fetcher, 'img-c', Buffer.alloc(100_000, 3));
  fetcher.hold();
  const ac = new AbortController();
  const gaveUp = cache.acquire(img, 'vm1', { signal: ac.signal });
  const stays = cache.acquire(img, 'vm2');
  ac.abort();
  t.equal((await rejection(gaveUp)).kind, 'aborted');
  fetcher.open();
  t.equal((await stays).sizeBytes, 100_000);
  t.equal(fetcher.calls, 1);

  const img2 = image(fetcher, 'img-d', Buffer.alloc(100_000, 4));
  fetcher.hold();
  const ac2 = new AbortController();
  const alone = cache.acquire(img2, 'vm1', { signal: ac2.signal });
  t.ok(await until(() => fetcher.calls === 2), 'the fetch started');
  ac2.abort();
  t.equal((await rejection(alone)).kind, 'aborted');
  t.ok(fetcher.signals.at(-1)?.aborted, 'the fetcher is told to stop');
  const img3 = image(fetcher, 'img-e', Buffer.alloc(100_000, 5));
  t.equal((await rejection(cache.acquire(img3, 'vm1', { deadlineMs: 20 }))).kind, 'timeout');
  fetcher.open();
  t.ok(await until(async () => (await readdir(dir)).every((f) => f === 'img-c')), 'the abandoned fetches leave no file');
  const again = await cache.acquire(img2, 'vm1');
  t.equal(again.sizeBytes, 100_000);
  t.equal(fetcher.calls, 4, 'the next acquire fetched afresh');
});

t.test('qcow2 images must be qcow2 without a backing file or data file', async (t) => {
  const { fetcher, cache, dir } = setup();
  const plain = await qcow2Bytes('plain', []);
  const ok = await cache.acquire(image(fetcher, 'q-ok', plain, 'qcow2'), 'vm1');
  t.equal(ok.format, 'qcow2');

  const backed = await qcow2Bytes('backed', ['-u', '-F', 'raw', '-b', '/etc/passwd']);
  const e1 = await rejection(cache.acquire(image(fetcher, 'q-backed', backed, 'qcow2'), 'vm1'));
  t.equal(e1.kind, 'failed');
  t.match(e1.message, /backing file/);

  const external = await qcow2Bytes('external', ['-o', `data_file=${join(root, 'external.data')}`]);
  const e2 = await rejection(cache.acquire(image(fetcher, 'q-data', external, 'qcow2'), 'vm1'));
  t.match(e2.message, /data file/);

  const e3 = await rejection(cache.acquire(image(fetcher, 'q-raw', Buffer.alloc(65536, 9), 'qcow2'), 'vm1'));
  t.match(e3.message, /not a qcow2/);

  t.same((await readdir(dir)).sort(), ['q-ok'], 'refused images leave nothing');
});

t.test('a raw image whose bytes are a qcow2 (or VMDK) is refused, and leaves nothing', async (t) => {
  const { fetcher, cache, dir } = setup();
  const backed = await qcow2Bytes('raw-backed', ['-u', '-F', 'raw', '-b', '/etc/passwd']);
  for (const diskFormat of ['raw', 'ami', 'aki', 'ari', 'iso']) {
    const e = await rejection(cache.acquire(image(fetcher, `r-${diskFormat}`, backed, diskFormat), 'vm1'));
    t.match(e.message, /data is a qcow2/, diskFormat);
  }
  const vmdk = Buffer.concat([Buffer.from('KDMV'), Buffer.alloc(508)]);
  t.match((await rejection(cache.acquire(image(fetcher, 'r-vmdk', vmdk, 'raw'), 'vm1'))).message, /data is a vmdk/);
  t.same(await readdir(dir), [], 'nothing kept');
  const plain = Buffer.alloc(4096, 7);
  const r = await cache.acquire(image(fetcher, 'r-plain', plain, 'raw'), 'vm1');
  t.equal(r.format, 'raw');
  t.same(await readFile(r.path), plain, 'the bytes as given');
});

t.test('other disk formats are unsupported, before any fetch', async (t) => {
  const { fetcher, cache } = setup();
  for (const diskFormat of ['vmdk', 'vhd', 'vhdx', 'vdi', 'ploop', 'bogus']) {
    const e = await rejection(cache.acquire(image(fetcher, 'fmt', Buffer.alloc(10), diskFormat), 'vm1'));
    t.equal(e.kind, 'unsupported', diskFormat);
  }
  t.equal(fetcher.calls, 0);
});

t.test('ids that are not plain file names are refused', async (t) => {
  const { fetcher, cache, dir } = setup();
  for (const id of ['../x', '..', '.', 'a/b', '/etc/passwd', '', 'x.part', '.part', 'a\0b', 'a b', '-rf', 'x'.repeat(200)]) {
    const e = await rejection(cache.acquire(image(fetcher, id, Buffer.alloc(10)), 'vm1'));
    t.equal(e.kind, 'failed', JSON.stringify(id));
  }
  t.equal(fetcher.calls, 0);
  cache.adopt('../x', 'vm1');
  t.same(await readdir(dir), []);
});

t.test('sweep: in-use bases stay, unused ones go oldest first over the cap, and when too old', async (t) => {
  const { fetcher, cache, clock } = setup({ maxBytes: 250, maxUnusedMs: 1000 });
  const imgs = ['s1', 's2', 's3', 's4'].map((id) => image(fetcher, id, Buffer.alloc(100, 1)));
  for (const img of imgs) {
    await cache.acquire(img, 'vm');
    clock.now += 10;
  }
  t.same(await cache.sweep(), [], 'all in use: nothing goes, even over the cap');
  t.equal(cache.stats.bytes, 400);
  for (const id of ['s3', 's1', 's2']) {
    cache.release(id, 'vm');
    clock.now += 10;
  }
  t.same(await cache.sweep(), ['s3', 's1'], 'oldest release first, until under the cap');
  t.equal(cache.stats.bytes, 200);
  t.equal(cache.stats.images, 2);
  clock.now += 2000;
  t.same(await cache.sweep(), ['s2'], 'unused past maxUnusedMs, though under the cap');
  t.same(await cache.sweep(), [], 's4 is held');
  cache.release('s4', 'nobody');
  cache.release('s4', 'vm');
  cache.release('s4', 'vm');
  clock.now += 2000;
  t.same(await cache.sweep(), ['s4']);
  t.same(cache.stats.images, 0);
});

t.test('a base is held per (image, user)', async (t) => {
  const { fetcher, cache, clock } = setup({ maxBytes: 0, maxUnusedMs: 0 });
  const img = image(fetcher, 'h1', Buffer.alloc(10));
  await cache.acquire(img, 'vm1');
  await cache.acquire(img, 'vm1');
  await cache.acquire(img, 'vm2');
  cache.release('h1', 'vm1');
  clock.now += 1;
  t.same(await cache.sweep(), [], 'vm2 still holds it');
  cache.release('h1', 'vm2');
  t.same(await cache.sweep(), ['h1']);
});

t.test('a base being fetched is never swept', async (t) => {
  const { fetcher, cache, clock } = setup({ maxBytes: 0, maxUnusedMs: 0 });
  const img = image(fetcher, 'f1', Buffer.alloc(10));
  fetcher.hold();
  const p = cache.acquire(img, 'vm1');
  clock.now += 10;
  t.same(await cache.sweep(), []);
  fetcher.open();
  await p;
  t.same(await cache.sweep(), [], 'held once fetched');
});

t.test('a restart keeps the bases and their age, removes stale .part files, re-holds by adopt', async (t) => {
  const { fetcher, cache, clock, dir, make } = setup({ maxUnusedMs: 1000 });
  const a = image(fetcher, 'keep-a', Buffer.alloc(1000, 1));
  const b = image(fetcher, 'keep-b', Buffer.alloc(500, 2));
  await cache.acquire(a, 'vm1');
  await cache.acquire(b, 'vm2');
  clock.now += 100;
  cache.release('keep-b', 'vm2');
  const releasedAt = clock.now;
  await writeFile(join(dir, 'keep-c.part'), 'half');
  await writeFile(join(dir, 'notes.txt'), 'not ours');
  t.ok(await until(async () => Math.abs((await stat(join(dir, 'keep-b'))).mtimeMs - releasedAt) < 1), 'the release is in the mtime');

  clock.now += 600;
  const again = make();
  t.same(again.stats, { fetches: 0, hits: 0, bytesFetched: 0, bytes: 1500, images: 2 });
  t.same((await readdir(dir)).sort(), ['keep-a', 'keep-b', 'notes.txt']);
  again.adopt('keep-a', 'vm1');
  const r = await again.acquire(b, 'vm3');
  t.equal(r.sizeBytes, 500);
  t.equal(fetcher.calls, 2, 'no fetch after the restart');
  again.release('keep-b', 'vm3');
  clock.now += 600;
  t.same(await again.sweep(), [], 'keep-b was used 600 ms ago, keep-a is adopted');
  clock.now += 500;
  t.same(await again.sweep(), ['keep-b']);
  again.release('keep-a', 'vm1');
  clock.now += 1001;
  t.same(await again.sweep(), ['keep-a']);
  t.same(await readdir(dir), ['notes.txt']);
});

t.test('sweep invariants over random use (fast-check)', async (t) => {
  const op = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('acquire' as const), img: fc.nat(4), user: fc.nat(1) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), img: fc.nat(4), user: fc.nat(1) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 300 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
  );
  const sizes = [100, 200, 300, 400, 500];
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 40 }), fc.integer({ min: 0, max: 1500 }), async (ops, maxBytes) => {
    const maxUnusedMs = 1000;
    const { fetcher, cache, clock, dir } = setup({ maxBytes, maxUnusedMs });
    const imgs = sizes.map((n, i) => image(fetcher, `p${i}`, Buffer.alloc(n, i)));
    const held = new Map<string, Set<number>>();
    const lastUse = new Map<string, number>();
    for (const o of [...ops, { kind: 'sweep' as const }]) {
      if (o.kind === 'acquire') {
        const id = imgs[o.img]!.id;
        await cache.acquire(imgs[o.img]!, `u${o.user}`);
        held.set(id, (held.get(id) ?? new Set()).add(o.user));
        lastUse.set(id, clock.now);
      } else if (o.kind === 'release') {
        const id = imgs[o.img]!.id;
        if (held.get(id)?.delete(o.user)) lastUse.set(id, clock.now);
        cache.release(id, `u${o.user}`);
      } else if (o.kind === 'tick') {
        clock.now += o.ms;
      } else {
        const before = new Set((await readdir(dir)));
        const removed = await cache.sweep();
        const after = new Set(await readdir(dir));
        const inUse = (id: string) => (held.get(id)?.size ?? 0) > 0;
        for (const id of removed) {
          if (inUse(id)) return false;
          if (after.has(id) || !before.has(id)) return false;
        }
        const unusedLeft = [...after].filter((id) => !inUse(id));
        // What stays unused is young enough and, over the cap, nothing unused stays.
        if (unusedLeft.some((id) => clock.now - lastUse.get(id)! > maxUnusedMs)) return false;
        if (cache.stats.bytes > maxBytes && unusedLeft.length > 0) return false;
        // Removed for the cap means older than anything unused that stayed.
        const young = removed.filter((id) => clock.now - lastUse.get(id)! <= maxUnusedMs);
        if (young.some((r) => unusedLeft.some((k) => lastUse.get(k)! < lastUse.get(r)!))) return false;
        const onDisk = [...after].reduce((n, id) => n + sizes[Number(id.slice(1))]!, 0);
        if (onDisk !== cache.stats.bytes || after.size !== cache.stats.images) return false;
      }
    }
    return true;
  }), { numRuns: 100, seed: 20261201 });
  t.pass('invariants held');
});
