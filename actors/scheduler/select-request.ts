/**
 * The scheduler's request bodies after schema validation (protocols/catalog/scheduler.ts): defaults
 * filled in and UUIDs lower-cased, which a schema does not do.
 */
import { BadRequestError } from '../../protocols/errors.js';
import type { SelectBatchRequest, SelectRequest } from '../../protocols/messages.js';
import type { SelectRequestBody } from '../../protocols/catalog/scheduler.js';
import { parseHints } from '../../protocols/hints.js';

export { MAX_BATCH } from '../../protocols/catalog/scheduler.js';

export function normaliseSelect(body: SelectRequestBody): SelectRequest {
  const req: SelectRequest = {
    instanceUuid: body.instanceUuid.toLowerCase(),
    projectId: body.projectId,
    resources: body.resources,
    flavor: { id: body.flavor.id, name: body.flavor.name, extraSpecs: body.flavor.extraSpecs ?? {} },
    image: { id: body.image.id, properties: body.image.properties ?? {} },
    availabilityZone: body.availabilityZone ?? null,
    ignoreHosts: body.ignoreHosts ?? [],
    schedulerHints: parseHints(body.schedulerHints),
  };
  if (body.count !== undefined) req.count = body.count;
  return req;
}

/** A multi-create: up to 100 instances placed all or nothing, each instance once. */
export function normaliseBatch(body: { requests: SelectRequestBody[] }): SelectRequest[] {
  const reqs = body.requests.map(normaliseSelect);
  if (new Set(reqs.map((r) => r.instanceUuid)).size !== reqs.length) throw new BadRequestError('each instance may appear once in a batch');
  return reqs;
}

export type { SelectBatchRequest };
