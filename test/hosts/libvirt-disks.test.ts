import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convert, createBlank, createOverlay, diskInfo, grow } from '../../hosts/libvirt/disks.js';
import { run } from '../../hosts/libvirt/exec.js';
import { rejection } from '../harness/driver-rejection.js';

const MiB = 2 ** 20;
const dir = await mkdtemp(join(tmpdir(), 'novact-disks-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);

// A 4 MiB raw base whose first MiB carries a marker, and a qcow2 base made from it.
const marker = Buffer.alloc(MiB, 0x5a);
await writeFile(p('base.raw'), Buffer.concat([marker, Buffer.alloc(3 * MiB)]));
await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', p('base.raw'), p('base.qcow2')]);

let reads = 0;
/** The guest-visible bytes of a disk's first MiB. */
async function firstMiB(path: string, format: string): Promise<Buffer> {
  const out = p(`read-${reads++}.raw`);
  await run('qemu-img', ['dd', '-f', format, '-O', 'raw', 'bs=1M', 'count=1', `if=${path}`, `of=${out}`]);
  return readFile(out);
}

t.test('info reads format and size of raw and qcow2', async (t) => {
  const raw = await diskInfo(p('base.raw'), 'raw');
  t.equal(raw.format, 'raw');
  t.equal(raw.virtualSize, 4 * MiB);
  t.equal(raw.backingFile, undefined);
  const q = await diskInfo(p('base.qcow2'), 'qcow2');
  t.equal(q.format, 'qcow2');
  t.equal(q.virtualSize, 4 * MiB);
  t.ok(q.actualSize > 0);
});

t.test('an overlay on a raw base: backing file and format recorded, the base visible through it', async (t) => {
  await createOverlay(p('base.raw'), 'raw', p('ov-raw.qcow2'));
  const info = await diskInfo(p('ov-raw.qcow2'), 'qcow2');
  t.equal(info.format, 'qcow2');
  t.equal(info.backingFile, p('base.raw'));
  t.equal(info.backingFormat, 'raw');
  t.equal(info.virtualSize, 4 * MiB, 'no size given: the base size');
  t.same(await firstMiB(p('ov-raw.qcow2'), 'qcow2'), marker);
});

t.test('an overlay on a qcow2 base with -F qcow2, grown to the size asked for', async (t) => {
  await createOverlay(p('base.qcow2'), 'qcow2', p('ov-q.qcow2'), 16 * MiB);
  const info = await diskInfo(p('ov-q.qcow2'), 'qcow2');
  t.equal(info.backingFile, p('base.qcow2'));
  t.equal(info.backingFormat, 'qcow2');
  t.equal(info.virtualSize, 16 * MiB);
  t.same(await firstMiB(p('ov-q.qcow2'), 'qcow2'), marker);
});

t.test('an overlay never smaller than its base', async (t) => {
  await createOverlay(p('base.qcow2'), 'qcow2', p('ov-small.qcow2'), MiB);
  t.equal((await diskInfo(p('ov-small.qcow2'), 'qcow2')).virtualSize, 4 * MiB);
});

t.test('a relative base path is recorded absolute', async (t) => {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    await createOverlay('base.raw', 'raw', 'ov-rel.qcow2');
  } finally {
    process.chdir(cwd);
  }
  t.equal((await diskInfo(p('ov-rel.qcow2'), 'qcow2')).backingFile, p('base.raw'));
});

t.test('a blank qcow2 of the size asked for, with no backing file', async (t) => {
  await createBlank(p('blank.qcow2'), 8 * MiB);
  const info = await diskInfo(p('blank.qcow2'), 'qcow2');
  t.equal(info.format, 'qcow2');
  t.equal(info.virtualSize, 8 * MiB);
  t.equal(info.backingFile, undefined);
  t.same(await firstMiB(p('blank.qcow2'), 'qcow2'), Buffer.alloc(MiB));
});

t.test('convert gives a standalone image with the overlay chain\'s data', async (t) => {
  await createOverlay(p('base.raw'), 'raw', p('ov-conv.qcow2'), 8 * MiB);
  await convert(p('ov-conv.qcow2'), 'qcow2', p('snap.qcow2'), 'qcow2');
  const info = await diskInfo(p('snap.qcow2'), 'qcow2');
  t.equal(info.backingFile, undefined);
  t.equal(info.virtualSize, 8 * MiB);
  t.same(await firstMiB(p('snap.qcow2'), 'qcow2'), marker);
  await convert(p('ov-conv.qcow2'), 'qcow2', p('snap.raw'), 'raw');
  t.equal((await diskInfo(p('snap.raw'), 'raw')).virtualSize, 8 * MiB);
  t.same(await firstMiB(p('snap.raw'), 'raw'), marker);
});

t.test('grow enlarges and never shrinks', async (t) => {
  await createBlank(p('g.qcow2'), 4 * MiB);
  await grow(p('g.qcow2'), 'qcow2', 12 * MiB);
  t.equal((await diskInfo(p('g.qcow2'), 'qcow2')).virtualSize, 12 * MiB);
  await grow(p('g.qcow2'), 'qcow2', 2 * MiB);
  t.equal((await diskInfo(p('g.qcow2'), 'qcow2')).virtualSize, 12 * MiB, 'a smaller size is a no-op');
  await writeFile(p('g.raw'), Buffer.alloc(MiB));
  await grow(p('g.raw'), 'raw', 3 * MiB);
  t.equal((await diskInfo(p('g.raw'), 'raw')).virtualSize, 3 * MiB);
});

t.test('failures are DriverError failed with a short reason', async (t) => {
  const missing = await rejection(diskInfo(p('missing.qcow2'), 'qcow2'));
  t.equal(missing.kind, 'failed');
  t.match(missing.message, /missing\.qcow2.*No such file/);
  t.ok(missing.message.length < 400);
  t.equal((await rejection(createOverlay(p('missing.raw'), 'raw', p('x.qcow2')))).kind, 'failed');
  t.equal((await rejection(grow(p('missing.qcow2'), 'qcow2', MiB))).kind, 'failed');
  t.equal((await rejection(convert(p('missing.qcow2'), 'qcow2', p('y.qcow2'), 'qcow2'))).kind, 'failed');
  t.equal((await rejection(createBlank(p('z.qcow2'), 0))).kind, 'failed', 'a size of 0 is refused');
  const wrong = await rejection(diskInfo(p('base.raw'), 'qcow2'));
  t.equal(wrong.kind, 'failed', 'raw bytes read as qcow2 fail: the given format is never probed around');
});

t.test('deadlines and signals reach qemu-img', async (t) => {
  const ac = new AbortController();
  ac.abort();
  t.equal((await rejection(diskInfo(p('base.raw'), 'raw', { signal: ac.signal }))).kind, 'aborted');
});
