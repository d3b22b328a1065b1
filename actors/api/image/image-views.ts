/**
 * Glance's image JSON (v2): core attributes, with free-form properties flattened into the top level,
 * and the relative `self`/`file`/`schema` links Glance gives. `size` is null until data is uploaded;
 * formats not yet chosen are null.
 */
import type { ImageMeta } from '../../../protocols/resources.js';

/** Glance prints times without fractional seconds: `2016-06-29T16:13:07Z`. */
export const glanceTime = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');

export function glanceImage(m: ImageMeta): Record<string, unknown> {
  const pending = m.status === 'queued' || m.status === 'saving' || m.status === 'uploading' || m.status === 'importing';
  return {
    ...m.properties,
    id: m.id,
    name: m.name === '' ? null : m.name,
    status: m.status,
    visibility: m.visibility,
    protected: m.protected ?? false,
    os_hidden: m.osHidden ?? false,
    checksum: m.checksum ?? null,
    os_hash_algo: m.osHashAlgo ?? null,
    os_hash_value: m.osHashValue ?? null,
    owner: m.ownerProjectId,
    size: pending ? null : m.sizeBytes,
    virtual_size: null,
    min_ram: m.minRamMb,
    min_disk: m.minDiskGb,
    disk_format: m.diskFormat === '' ? null : m.diskFormat,
    container_format: m.containerFormat === '' ? null : m.containerFormat,
    created_at: glanceTime(m.createdAt),
    updated_at: glanceTime(m.updatedAt),
    tags: m.tags ?? [],
    // Glance's multi-store: where the data is, as one comma-separated string.
    ...(m.stores?.length ? { stores: m.stores.join(',') } : {}),
    self: `/v2/images/${m.id}`,
    file: `/v2/images/${m.id}/file`,
    schema: '/v2/schemas/image',
  };
}
