/**
 * Glance's multiple stores (`enabled_backends`): named image stores, each an FsImageStore. The
 * default store is the image role's own directory (so data written before stores existed stays
 * where it was); the others live under `<dir>/stores/<id>/`. An image row lists the stores that hold
 * its data (`stores`; none listed means the default one). Data staged for `glance-direct` waits in
 * `<dir>/staged/<id>` until its import copies it into the chosen stores.
 */
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FsImageStore, type ImageStore } from './image-store.js';

export interface StoreConfig {
  id: string;
  description?: string;
}

/** One store as `/v2/info/stores` shows it. */
export interface StoreInfo {
  id: string;
  description: string;
  default?: true;
}

export const DEFAULT_STORES: readonly StoreConfig[] = [{ id: 'local', description: 'Image data on the image role’s disk' }];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class ImageStores {
  private constructor(
    readonly primary: ImageStore,
    private readonly byId: ReadonlyMap<string, ImageStore>,
    readonly info: readonly StoreInfo[],
  ) {}

  /** The first configured store is the default and uses `primary`; each other opens its own directory. */
  static async open(primary: ImageStore, config: readonly StoreConfig[] = DEFAULT_STORES): Promise<ImageStores> {
    if (config.length === 0) throw new Error('at least one image store must be configured');
    const byId = new Map<string, ImageStore>();
    for (const [i, c] of config.entries()) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(c.id)) throw new Error(`image store id '${c.id}' must be letters, digits, '-' or '_'`);
      if (byId.has(c.id)) throw new Error(`image store '${c.id}' is configured twice`);
      byId.set(c.id, i === 0 ? primary : await FsImageStore.open(join(primary.dir, 'stores', c.id)));
    }
    await mkdir(join(primary.dir, 'staged'), { recursive: true, mode: 0o700 });
    const info = config.map((c, i): StoreInfo => ({ id: c.id, description: c.description ?? c.id, ...(i === 0 ? { default: true as const } : {}) }));
    return new ImageStores(primary, byId, info);
  }

  get defaultId(): string {
    return this.info[0]!.id;
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** The stores holding an image's data (an image from before stores: the default). */
  of(stores: readonly string[] | undefined): string[] {
    return stores && stores.length > 0 ? stores.filter((s) => this.byId.has(s)) : [this.defaultId];
  }

  /** Up to `length` bytes of the image from the first of its stores that has them. */
  async read(id: string, stores: readonly string[] | undefined, offset: number, length: number): Promise<Buffer | undefined> {
    for (const s of this.of(stores)) {
      const buf = await this.byId.get(s)!.read(id, offset, length);
      if (buf !== undefined) return buf;
    }
    return undefined;
  }

  /** Copies the data of `id` from `from` (a path) into store `to`, atomically (staging file, then rename). */
  async copyInto(from: string, to: string, id: string): Promise<void> {
    const store = this.byId.get(to);
    if (!store) throw new Error(`no image store '${to}'`);
    const staging = store.stagingPath();
    try {
      await copyFile(from, staging);
      await store.commit(staging, id);
    } catch (err) {
      await store.discard(staging);
      throw err;
    }
  }

  /** The path of `id`'s data in the first of `stores` that holds it. */
  async source(id: string, stores: readonly string[] | undefined): Promise<string | undefined> {
    for (const s of this.of(stores)) {
      const path = this.byId.get(s)!.dataPath(id);
      if ((await stat(path).catch(() => undefined))?.isFile()) return path;
    }
    return undefined;
  }

  stagedPath(id: string): string {
    if (!UUID.test(id)) throw new Error(`not an image id: ${id}`);
    return join(this.primary.dir, 'staged', id);
  }

  /** Keeps a finished staging upload as `id`'s staged data. */
  async stage(stagingPath: string, id: string): Promise<void> {
    await rename(stagingPath, this.stagedPath(id));
  }

  async hasStaged(id: string): Promise<boolean> {
    return (await stat(this.stagedPath(id)).catch(() => undefined))?.isFile() === true;
  }

  async dropStaged(id: string): Promise<void> {
    await rm(this.stagedPath(id), { force: true });
  }

  async removeFrom(store: string, id: string): Promise<void> {
    await this.byId.get(store)?.remove(id);
  }

  /** Every copy of the image's data, staged or stored. */
  async removeAll(id: string): Promise<void> {
    await Promise.all([...this.byId.values()].map((s) => s.remove(id)));
    await this.dropStaged(id);
  }

  async close(): Promise<void> {
    for (const s of this.byId.values()) if (s !== this.primary) await s.close();
  }
}
