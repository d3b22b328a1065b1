/**
 * An image row as the wire shows it. In its own file, not the role's entry, because every verb
 * file needs it and the entry imports the verb files (that was an import circle).
 */
import type { ImageMeta } from '../../protocols/resources.js';
import type { ImageRow } from '../../runtime/db/entities/index.js';

export function imageView(r: ImageRow): ImageMeta {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    diskFormat: r.diskFormat,
    containerFormat: r.containerFormat,
    sizeBytes: Number(r.size),
    minDiskGb: r.minDisk,
    minRamMb: r.minRam,
    visibility: r.visibility,
    ownerProjectId: r.owner,
    properties: r.properties,
    checksum: r.checksum,
    osHashAlgo: r.osHashAlgo ?? null,
    osHashValue: r.osHashValue ?? null,
    tags: r.tags ?? [],
    protected: r.protected ?? false,
    osHidden: r.osHidden ?? false,
    stores: r.stores ?? [],
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
