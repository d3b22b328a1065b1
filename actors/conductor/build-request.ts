/** Validation of a build request and the instance row it becomes. */
import type { RequestedNetworks } from '../../protocols/catalog/network.js';
import { randomUUID } from 'node:crypto';
import { BadRequestError } from '../../protocols/errors.js';
import { initialState } from '../../protocols/lifecycle.js';
import type { BuildRequest } from '../../protocols/messages.js';
import type { Flavor, ImageMeta } from '../../protocols/resources.js';
import { parseHints } from '../../protocols/hints.js';
import { fieldsOf, optInt, optStr, str, stringMap } from '../../protocols/validate.js';
import { isValidTag, MAX_TAGS, sanitizeHostname, uniqueTags } from '../../protocols/server-fields.js';
import { addressFields } from './address-fields.js';
import { parseGuestData } from './guest-data.js';
import { imageNeedsConfigDrive } from './guest-spec.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';

const NAME = /^[^\x00-\x1f\x7f]+$/;
/** The most instances one build may ask for (a batch is one scheduler decision and one transaction). */
export const MAX_COUNT = 100;

export function parseBuild(body: Record<string, unknown>): BuildRequest {
  const o = fieldsOf(body, [
    'name', 'flavorRef', 'imageRef', 'projectId', 'userId', 'availabilityZone', 'metadata', 'keyName', 'keyData', 'keyType', 'userData', 'configDrive',
    'schedulerHints', 'minCount', 'maxCount', 'tags', 'description', 'hostname', 'accessIPv4', 'accessIPv6', 'networks', 'securityGroups',
  ], 'server');
  const req: BuildRequest = {
    name: str(o, 'name', { pattern: NAME }),
    flavorRef: str(o, 'flavorRef', { max: 255 }),
    imageRef: str(o, 'imageRef', { max: 255 }),
    metadata: stringMap(o, 'metadata'),
    schedulerHints: parseHints(o.schedulerHints),
  };
  const projectId = optStr(o, 'projectId', { max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
  const userId = optStr(o, 'userId', { max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
  const az = optStr(o, 'availabilityZone');
  const keyName = optStr(o, 'keyName', { max: 255 });
  if (keyName !== undefined) req.keyName = keyName;
  if (projectId !== undefined) req.projectId = projectId;
  if (userId !== undefined) req.userId = userId;
  if (az !== undefined) req.availabilityZone = az;
  const min = optInt(o, 'minCount', { min: 1, max: MAX_COUNT });
  const max = optInt(o, 'maxCount', { min: 1, max: MAX_COUNT });
  if (min !== undefined && max !== undefined && min > max) throw new BadRequestError("'minCount' may not exceed 'maxCount'");
  Object.assign(req, parseServerFields(o), parseGuestData(o));
  if (min !== undefined) req.minCount = min;
  if (max !== undefined) req.maxCount = max;
  // Shape checked by the catalog schema; the network role resolved it for the API.
  if (o.networks !== undefined && o.networks !== null) req.networks = o.networks as RequestedNetworks;
  if (Array.isArray(o.securityGroups) && o.securityGroups.length > 0) req.securityGroups = o.securityGroups as string[];
  return req;
}

/** The user-set fields of a build (tags, description, hostname, access addresses), checked as Nova does. */
function parseServerFields(o: Record<string, unknown>): Partial<BuildRequest> {
  const out: Partial<BuildRequest> = {};
  if (o.tags !== undefined && o.tags !== null) {
    if (!Array.isArray(o.tags) || o.tags.length > MAX_TAGS || !o.tags.every((t) => typeof t === 'string' && isValidTag(t))) {
      throw new BadRequestError(`'tags' must be at most ${MAX_TAGS} tags of 1-60 characters without '/' or ','`);
    }
    out.tags = uniqueTags(o.tags as string[]);
  }
  const description = optStr(o, 'description', { min: 0, max: 255, pattern: /^[^\x00-\x1f\x7f]*$/ });
  if (description !== undefined) out.description = description;
  Object.assign(out, addressFields(o));
  return out;
}

/** Nova's image/flavor compatibility checks at create time. */
export function checkFits(flavor: Flavor, image: ImageMeta): void {
  if (image.minRamMb > flavor.memoryMb) throw new BadRequestError(`Flavor's memory is too small for requested image.`);
  if (flavor.diskGb > 0 && image.minDiskGb > flavor.diskGb) throw new BadRequestError(`Flavor's disk is too small for requested image.`);
}

export function newInstanceRow(req: BuildRequest, flavor: Flavor, image: ImageMeta, idempotencyKey: string | null, now: Date): InstanceRow {
  const life = initialState();
  const uuid = randomUUID();
  return {
    uuid,
    name: req.name,
    projectId: req.projectId ?? 'default',
    userId: req.userId ?? 'admin',
    flavorId: flavor.id,
    flavorName: flavor.name,
    vcpus: flavor.vcpus,
    memoryMb: flavor.memoryMb,
    rootGb: flavor.diskGb,
    ephemeralGb: flavor.ephemeralGb,
    swapMb: flavor.swapMb,
    imageRef: image.id,
    vmState: life.vmState,
    taskState: life.taskState,
    powerState: life.powerState,
    host: null,
    node: null,
    alternates: [],
    availabilityZone: req.availabilityZone ?? null,
    metadata: req.metadata ?? {},
    keyName: req.keyName ?? null,
    keyData: req.keyData ?? null,
    keyType: req.keyData === undefined ? null : req.keyType ?? 'ssh',
    userData: req.userData ?? null,
    // As Nova's compute manager (`configdrive.update_instance`): an image that requires one gets one, and says so.
    configDrive: (req.configDrive ?? false) || imageNeedsConfigDrive(image),
    tags: req.tags ?? [],
    description: req.description ?? null,
    // Fixed at create, as Nova's `_populate_instance_names` does (a later rename keeps it).
    hostname: req.hostname ?? sanitizeHostname(req.name, uuid),
    accessIpV4: req.accessIPv4 ?? null,
    accessIpV6: req.accessIPv6 ?? null,
    schedulerHints: req.schedulerHints ?? {},
    fault: null,
    taskContext: req.networks !== undefined && req.networks !== 'none'
      ? { ...life.ctx, networks: req.networks, ...(req.securityGroups ? { securityGroups: req.securityGroups } : {}) }
      : life.ctx,
    lockedBy: null,
    lockedReason: null,
    idempotencyKey,
    launchedAt: null,
    terminatedAt: null,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
    version: 1,
  };
}
