/**
 * How much the guests' disks may still grow (Nova's `_get_disk_over_committed_size_total`): per disk
 * file, its virtual size less the blocks it holds. A qcow2's virtual size is in its header (read
 * here, no `qemu-img` per disk on every report); any other file's is its length.
 */
import { open, readdir, stat } from 'node:fs/promises';
import type { Layout } from './layout.js';
import { isUuid } from './layout.js';

const QCOW2_MAGIC = 0x514649fb;

/** The virtual size of the disk at `path` and the bytes it holds; undefined when it is gone. */
async function sizes(path: string): Promise<{ virtual: number; held: number } | undefined> {
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  const held = st.blocks * 512;
  const f = await open(path, 'r');
  try {
    const head = Buffer.alloc(32);
    const { bytesRead } = await f.read(head, 0, 32, 0);
    const virtual = bytesRead === 32 && head.readUInt32BE(0) === QCOW2_MAGIC ? Number(head.readBigUInt64BE(24)) : st.size;
    return { virtual, held };
  } finally {
    await f.close();
  }
}

/** Over the guest directories under the instances path (a guest being built counts: its disks exist). */
export async function overCommittedBytes(layout: Layout): Promise<number> {
  const names = await readdir(layout.root).catch(() => [] as string[]);
  let total = 0;
  for (const uuid of names.filter(isUuid)) {
    const g = layout.guest(uuid);
    for (const path of [g.disk, g.eph0, g.swap, g.rescue, g.config]) {
      // A disk removed while being read (a delete, a resize) no longer counts.
      const s = await sizes(path).catch(() => undefined);
      if (s) total += Math.max(0, s.virtual - s.held);
    }
  }
  return total;
}
