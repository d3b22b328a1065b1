/**
 * The properties a snapshot (or backup) image gets, as Nova gives them: the source image's
 * properties minus those that belong to that one image (signatures, encryption keys, Nova's
 * `non_inheritable_image_properties`) and minus Glance's reserved and read-only names, then Nova's
 * own: `instance_uuid`, `user_id`, `image_type`, `base_image_ref`, then the request's own metadata
 * and, for a backup, `backup_type`.
 * Pure: the conductor builds a request with it, the image role applies it again (idempotent).
 */

/** Nova's NON_INHERITABLE_IMAGE_PROPERTIES plus the option's default (`cache_in_nova`, `bittorrent`). */
export const NON_INHERITABLE_IMAGE_PROPERTIES: ReadonlySet<string> = new Set([
  'cinder_encryption_key_id', 'cinder_encryption_key_deletion_policy',
  'img_signature', 'img_signature_hash_method', 'img_signature_key_type', 'img_signature_certificate_uuid',
  'cache_in_nova', 'bittorrent',
]);

/** Glance's attributes that are not free-form properties (a property of that name is refused). */
const GLANCE_RESERVED: ReadonlySet<string> = new Set([
  'id', 'name', 'status', 'visibility', 'owner', 'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value',
  'disk_format', 'container_format', 'min_disk', 'min_ram', 'protected', 'os_hidden', 'tags', 'created_at', 'updated_at',
  'deleted', 'deleted_at', 'file', 'locations', 'direct_url', 'schema', 'self', 'stores',
]);

export const isInheritableProperty = (key: string): boolean =>
  !NON_INHERITABLE_IMAGE_PROPERTIES.has(key) && !GLANCE_RESERVED.has(key) && !key.startsWith('os_glance');

export type SnapshotImageType = 'snapshot' | 'backup';

export interface SnapshotOrigin {
  instanceUuid: string;
  baseImageRef: string;
  imageType: SnapshotImageType;
  userId?: string | undefined;
  backupType?: string | undefined;
}

/** Glance refuses these as properties, whoever asks for them (a request's own metadata included). */
const isGlanceReserved = (key: string): boolean => GLANCE_RESERVED.has(key) || key.startsWith('os_glance');

/**
 * `extra` is the request's own metadata (Nova's `extra_properties`): applied after Nova's keys, so
 * a snapshot asked for with `image_type: 'test'` is stored with it, as Nova does; only a backup's
 * `backup_type` still comes from the request's backup type (Nova sets it over the metadata).
 */
export function snapshotProperties(source: Readonly<Record<string, string>>, o: SnapshotOrigin, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (isInheritableProperty(k)) out[k] = v;
  // Nova's own keys win over anything inherited (a snapshot of a snapshot names its own instance).
  out.instance_uuid = o.instanceUuid;
  out.image_type = o.imageType;
  out.base_image_ref = o.baseImageRef;
  if (o.userId !== undefined) out.user_id = o.userId;
  delete out.backup_type;
  for (const [k, v] of Object.entries(extra)) if (!isGlanceReserved(k)) out[k] = v;
  if (o.imageType === 'backup' && o.backupType !== undefined) out.backup_type = o.backupType;
  return out;
}
