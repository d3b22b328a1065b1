/**
 * The spec a host builds a guest from, in Nova's terms: the flavor's split (root, ephemeral, swap),
 * who owns it, its hostname, the key pair, user data and metadata (what a config drive carries), and
 * the image with the integrity fields the host checks the downloaded bytes against.
 */
import type { GuestSpec } from '../../protocols/host.js';
import type { FlavorRef } from '../../protocols/lifecycle.js';
import type { ImageMeta } from '../../protocols/resources.js';
import { sanitizeHostname } from '../../protocols/server-fields.js';
import { decodeBase64 } from '../../protocols/user-data.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';

/** The row's own flavor (a move passes its new one instead). */
export const rowFlavor = (r: InstanceRow): FlavorRef => ({
  id: r.flavorId, name: r.flavorName, vcpus: r.vcpus, memoryMb: r.memoryMb, rootGb: r.rootGb, ephemeralGb: r.ephemeralGb, swapMb: r.swapMb ?? 0,
});

/** Glance's `img_config_drive=mandatory`: the image needs one whatever the request said (Nova's `configdrive.required_by`). */
export const imageNeedsConfigDrive = (image: Pick<ImageMeta, 'properties'>): boolean => image.properties.img_config_drive === 'mandatory';

/**
 * The user data as the host gets it: the canonical base64 of the bytes Nova would decode (the API
 * accepted the caller's text under Python's lenient reading), absent when there are none (Nova
 * writes no user data for an empty value).
 */
function hostUserData(text: string | null): string | undefined {
  if (!text) return undefined;
  const bytes = decodeBase64(text);
  return bytes && bytes.length > 0 ? Buffer.from(bytes).toString('base64') : undefined;
}

export function guestSpecOf(row: InstanceRow, f: FlavorRef, image: ImageMeta): GuestSpec {
  const spec: GuestSpec = {
    uuid: row.uuid,
    name: row.name,
    vcpus: f.vcpus,
    memoryMb: f.memoryMb,
    diskGb: f.rootGb + f.ephemeralGb,
    rootGb: f.rootGb,
    ephemeralGb: f.ephemeralGb,
    swapMb: f.swapMb ?? 0,
    flavor: { id: f.id, name: f.name },
    image: {
      id: image.id, diskFormat: image.diskFormat, properties: image.properties, sizeBytes: image.sizeBytes,
      checksum: image.checksum ?? null, osHashAlgo: image.osHashAlgo ?? null, osHashValue: image.osHashValue ?? null,
    },
    projectId: row.projectId,
    userId: row.userId,
    hostname: row.hostname ?? sanitizeHostname(row.name, row.uuid),
    configDrive: (row.configDrive ?? false) || imageNeedsConfigDrive(image),
    metadata: row.metadata,
  };
  if (row.keyName && row.keyData) spec.keyPair = { name: row.keyName, publicKey: row.keyData, type: row.keyType ?? 'ssh' };
  const userData = hostUserData(row.userData ?? null);
  if (userData !== undefined) spec.userData = userData;
  return spec;
}
