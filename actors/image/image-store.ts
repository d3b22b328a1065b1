/**
 * Image data on a filesystem: one file per image, named by its id, under one directory. Uploads are
 * written to a staging file and renamed into place when complete, so a reader never sees half an
 * image. Several image replicas share the store by pointing at the same (shared) directory.
 */
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, mkdtemp, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ImageStore {
  readonly dir: string;
  /** A fresh staging file for one upload (open it for append). */
  stagingPath(): string;
  /** Moves a complete staging file into place as the data of `id`. */
  commit(stagingPath: string, id: string): Promise<void>;
  /** Up to `length` bytes from `offset`; undefined when the image has no data. */
  read(id: string, offset: number, length: number): Promise<Buffer | undefined>;
  /** The stored size in bytes, or undefined when the image has no data. */
  size(id: string): Promise<number | undefined>;
  /** Where the data of `id` lives (copies between stores read it from here). */
  dataPath(id: string): string;
  /** Removes the data of `id` (absent data is not an error). */
  remove(id: string): Promise<void>;
  discard(stagingPath: string): Promise<void>;
  /** Every staging file with its last modification (the sweep removes those no upload writes). */
  stagingFiles(): Promise<{ path: string; mtimeMs: number }[]>;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class FsImageStore implements ImageStore {
  private constructor(
    readonly dir: string,
    /** A store in a temporary directory removes it on close. */
    private readonly temporary: boolean,
  ) {}

  /**
   * A store under `dir` (created 0700 if missing), or in a new private (0700) temporary directory of
   * its own. Image files are written 0600: they are tenants' data.
   */
  static async open(dir?: string): Promise<FsImageStore> {
    const store = dir === undefined ? new FsImageStore(await mkdtemp(join(tmpdir(), 'novact-images-')), true) : new FsImageStore(dir, false);
    if (dir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
    // Staging lives inside the store so the final rename never crosses filesystems.
    await mkdir(join(store.dir, 'staging'), { recursive: true, mode: 0o700 });
    return store;
  }

  stagingPath(): string {
    return join(this.dir, 'staging', randomUUID());
  }

  async commit(stagingPath: string, id: string): Promise<void> {
    await rename(stagingPath, this.path(id));
  }

  async read(id: string, offset: number, length: number): Promise<Buffer | undefined> {
    let fh;
    try {
      fh = await open(this.path(id), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async size(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  dataPath(id: string): string {
    return this.path(id);
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }

  async discard(stagingPath: string): Promise<void> {
    await rm(stagingPath, { force: true });
  }

  async stagingFiles(): Promise<{ path: string; mtimeMs: number }[]> {
    const dir = join(this.dir, 'staging');
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: { path: string; mtimeMs: number }[] = [];
    for (const name of names) {
      const path = join(dir, name);
      const st = await lstat(path).catch(() => undefined);
      if (st?.isFile()) out.push({ path, mtimeMs: st.mtimeMs });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.temporary) await rm(this.dir, { recursive: true, force: true });
  }

  private path(id: string): string {
    // Ids come from validated subjects; refuse anything else rather than build a path from it.
    if (!UUID.test(id)) throw new Error(`not an image id: ${id}`);
    return join(this.dir, id);
  }
}
