/** Validation of the scheduler's request bodies (select, claim). */
import { BadRequestError } from '../../protocols/errors.js';
import type { ClaimRequest, SelectRequest } from '../../protocols/messages.js';
import type { Resources } from '../../protocols/resources.js';
import { parseHints } from '../../protocols/hints.js';
import { fieldsOf, int, isUuid, optStr, str } from '../../protocols/validate.js';


function resourcesOf(body: unknown): Resources {
  const r = fieldsOf(body, ['VCPU', 'MEMORY_MB', 'DISK_GB'], 'resources');
  return { VCPU: int(r, 'VCPU'), MEMORY_MB: int(r, 'MEMORY_MB'), DISK_GB: int(r, 'DISK_GB') };
}

function uuidField(o: Record<string, unknown>, key: string): string {
  const v = str(o, key, { max: 36 });
  if (!isUuid(v)) throw new BadRequestError(`'${key}' must be a UUID`);
  return v.toLowerCase();
}

export function parseSelect(body: Record<string, unknown>): SelectRequest {
  const o = fieldsOf(body, ['instanceUuid', 'projectId', 'resources', 'flavor', 'image', 'availabilityZone', 'ignoreHosts', 'schedulerHints', 'count'], 'select');
  const flavor = o.flavor as SelectRequest['flavor'];
  const image = o.image as SelectRequest['image'];
  if (typeof flavor !== 'object' || flavor === null || typeof image !== 'object' || image === null) throw new BadRequestError('select needs flavor and image');
  const ignore = o.ignoreHosts ?? [];
  if (!Array.isArray(ignore) || ignore.some((h) => typeof h !== 'string')) throw new BadRequestError("'ignoreHosts' must be a list of host names");
  const req: SelectRequest = {
    instanceUuid: uuidField(o, 'instanceUuid'),
    projectId: str(o, 'projectId', { max: 64 }),
    resources: resourcesOf(o.resources),
    flavor: { id: String(flavor.id), name: String(flavor.name), extraSpecs: flavor.extraSpecs ?? {} },
    image: { id: String(image.id), properties: image.properties ?? {} },
    availabilityZone: optStr(o, 'availabilityZone') ?? null,
    ignoreHosts: ignore as string[],
    schedulerHints: parseHints(o.schedulerHints),
  };
  if (o.count !== undefined) req.count = int(o, 'count', { min: 1, max: 10 });
  return req;
}

export function parseClaim(body: Record<string, unknown>): ClaimRequest {
  const o = fieldsOf(body, ['instanceUuid', 'projectId', 'host', 'resources'], 'claim');
  return { instanceUuid: uuidField(o, 'instanceUuid'), projectId: str(o, 'projectId', { max: 64 }), host: str(o, 'host'), resources: resourcesOf(o.resources) };
}

export function parseRelease(body: Record<string, unknown>): string {
  return uuidField(fieldsOf(body, ['instanceUuid'], 'release'), 'instanceUuid');
}

/** A multi-create: up to 100 instances placed all or nothing. */
export function parseSelectBatch(body: Record<string, unknown>): SelectRequest[] {
  const o = fieldsOf(body, ['requests'], 'select-batch');
  if (!Array.isArray(o.requests) || o.requests.length < 1 || o.requests.length > MAX_BATCH) {
    throw new BadRequestError(`'requests' must be a list of 1-${MAX_BATCH} select requests`);
  }
  const reqs = o.requests.map((r) => parseSelect(r as Record<string, unknown>));
  if (new Set(reqs.map((r) => r.instanceUuid)).size !== reqs.length) throw new BadRequestError('each instance may appear once in a batch');
  return reqs;
}

export const MAX_BATCH = 100;
