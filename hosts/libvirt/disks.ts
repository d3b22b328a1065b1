/**
 * A guest's disk files through `qemu-img` (hosts/libvirt/exec.ts bounds every call). Formats are
 * always given explicitly (`-f`, `-F`): probing a format lets a guest-written raw disk pose as a
 * qcow2 with a backing file anywhere on the host. Paths are made absolute before they reach
 * qemu-img, which reads `name:rest` with no `/` before the colon as a protocol (`json:`, `nbd:`).
 */
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DriverError, type CallOptions } from '../driver.js';
import { run } from './exec.js';

export type DiskFormat = 'raw' | 'qcow2';

export interface DiskInfo {
  format: string;
  virtualSize: number;
  actualSize: number;
  backingFile?: string;
  backingFormat?: string;
  /** A qcow2's external data file (`data_file`): its clusters live in another file, anywhere. */
  dataFile?: string;
}

/** The part of `qemu-img info --output=json` read here. */
const InfoJson = Type.Object({
  format: Type.String(),
  'virtual-size': Type.Integer({ minimum: 0 }),
  'actual-size': Type.Optional(Type.Integer({ minimum: 0 })),
  'backing-filename': Type.Optional(Type.String()),
  'backing-filename-format': Type.Optional(Type.String()),
  'format-specific': Type.Optional(Type.Object({ data: Type.Optional(Type.Object({ 'data-file': Type.Optional(Type.String()) })) })),
});

/**
 * Nova's limits on `qemu-img info` (a crafted image can make it loop or allocate without bound):
 * 1 GiB of address space, 30 s of CPU.
 */
const INFO_LIMITS = ['--as=1073741824', '--cpu=30'];

/** The reason qemu-img gave (its last stderr line), short: the message reaches logs and faults. */
function failure(what: string, e: unknown): DriverError {
  if (!(e instanceof DriverError) || e.kind !== 'failed') return e instanceof DriverError ? e : new DriverError('failed', `${what}: ${String(e)}`);
  const last = e.message.trim().split('\n').pop() ?? '';
  return new DriverError('failed', `${what}: ${last.replace(/^.*?qemu-img: /, '').slice(0, 300)}`);
}

async function qemuImg(what: string, args: string[], opts?: CallOptions): Promise<string> {
  try {
    return await run('qemu-img', args, opts);
  } catch (e) {
    throw failure(what, e);
  }
}

function checkSize(what: string, sizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) throw new DriverError('failed', `${what}: size ${sizeBytes} is not a positive integer`);
}

/** `qemu-img info --output=json` of `path`, read as `format` when given (no probing then); `-U` reads a disk a running guest holds. */
export async function diskInfo(path: string, format?: DiskFormat, opts?: CallOptions): Promise<DiskInfo> {
  const abs = resolve(path);
  const what = `disk info of ${abs}`;
  let out: string;
  try {
    out = await run('prlimit', [...INFO_LIMITS, '--', 'qemu-img', 'info', '--output=json', '-U', ...(format ? ['-f', format] : []), abs], opts);
  } catch (e) {
    throw failure(what, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    throw new DriverError('failed', `${what}: qemu-img printed no JSON`);
  }
  if (!Value.Check(InfoJson, json)) throw new DriverError('failed', `${what}: unexpected qemu-img output`);
  const j: Static<typeof InfoJson> = json;
  return {
    format: j.format,
    virtualSize: j['virtual-size'],
    actualSize: j['actual-size'] ?? 0,
    ...(j['backing-filename'] !== undefined && { backingFile: j['backing-filename'] }),
    ...(j['backing-filename-format'] !== undefined && { backingFormat: j['backing-filename-format'] }),
    ...(j['format-specific']?.data?.['data-file'] !== undefined && { dataFile: j['format-specific'].data['data-file'] }),
  };
}

/** A qcow2 overlay at `path` on `base` (`-F baseFormat`), of `sizeBytes` when larger than the base's virtual size. */
export async function createOverlay(base: string, baseFormat: DiskFormat, path: string, sizeBytes?: number, opts?: CallOptions): Promise<void> {
  const absBase = resolve(base);
  const abs = resolve(path);
  const what = `overlay ${abs} on ${absBase}`;
  if (sizeBytes !== undefined) checkSize(what, sizeBytes);
  const { virtualSize } = await diskInfo(absBase, baseFormat, opts);
  const size = sizeBytes !== undefined && sizeBytes > virtualSize ? [String(sizeBytes)] : [];
  await qemuImg(what, ['create', '-q', '-f', 'qcow2', '-F', baseFormat, '-b', absBase, abs, ...size], opts);
}

/** An empty qcow2 of `sizeBytes` (ephemeral and swap disks). */
export async function createBlank(path: string, sizeBytes: number, opts?: CallOptions): Promise<void> {
  const abs = resolve(path);
  const what = `blank disk ${abs}`;
  checkSize(what, sizeBytes);
  await qemuImg(what, ['create', '-q', '-f', 'qcow2', abs, String(sizeBytes)], opts);
}

/** Copies `src` into a standalone `dst` (snapshots: no backing file), readable while a guest runs (`-U`). */
export async function convert(src: string, srcFormat: DiskFormat, dst: string, dstFormat: DiskFormat, opts?: CallOptions): Promise<void> {
  const absSrc = resolve(src);
  const absDst = resolve(dst);
  // Without `-B`, convert writes the whole chain's data into one image: the result has no backing file.
  await qemuImg(`convert ${absSrc} to ${absDst}`, ['convert', '-q', '-U', '-f', srcFormat, '-O', dstFormat, absSrc, absDst], opts);
}

/** Grows `path` to `sizeBytes`; never shrinks (a smaller size is a no-op). */
export async function grow(path: string, format: DiskFormat, sizeBytes: number, opts?: CallOptions): Promise<void> {
  const abs = resolve(path);
  const what = `grow ${abs}`;
  checkSize(what, sizeBytes);
  const { virtualSize } = await diskInfo(abs, format, opts);
  if (sizeBytes <= virtualSize) return;
  await qemuImg(what, ['resize', '-q', '-f', format, abs, String(sizeBytes)], opts);
}
