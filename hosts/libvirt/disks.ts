/**
 * A guest's disk files through `qemu-img` (hosts/libvirt/exec.ts bounds every call). Formats are
 * always given explicitly (`-f`, `-F`): probing a format lets a guest-written raw disk pose as a
 * qcow2 with a backing file anywhere on the host.
 * SIGNATURES ONLY: the bodies land with the image-cache work.
 */
import { DriverError, type CallOptions } from '../driver.js';

export type DiskFormat = 'raw' | 'qcow2';

export interface DiskInfo {
  format: string;
  virtualSize: number;
  actualSize: number;
  backingFile?: string;
  backingFormat?: string;
}

const todo = (): never => { throw new DriverError('unsupported', 'disks: not built yet'); };

/** `qemu-img info --output=json` of `path`, read as `format` when given (no probing then). */
export async function diskInfo(_path: string, _format?: DiskFormat, _opts?: CallOptions): Promise<DiskInfo> { return todo(); }
/** A qcow2 overlay at `path` on `base` (`-F baseFormat`), of `sizeBytes` when larger than the base's virtual size. */
export async function createOverlay(_base: string, _baseFormat: DiskFormat, _path: string, _sizeBytes?: number, _opts?: CallOptions): Promise<void> { return todo(); }
/** An empty qcow2 of `sizeBytes` (ephemeral and swap disks). */
export async function createBlank(_path: string, _sizeBytes: number, _opts?: CallOptions): Promise<void> { return todo(); }
/** Copies `src` into a standalone `dst` (snapshots: no backing file), readable while a guest runs (`-U`). */
export async function convert(_src: string, _srcFormat: DiskFormat, _dst: string, _dstFormat: DiskFormat, _opts?: CallOptions): Promise<void> { return todo(); }
/** Grows `path` to `sizeBytes`; never shrinks (a smaller size is a no-op). */
export async function grow(_path: string, _format: DiskFormat, _sizeBytes: number, _opts?: CallOptions): Promise<void> { return todo(); }
