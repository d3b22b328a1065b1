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
  if (body.move) {
    req.move = { migrationUuid: body.move.migrationUuid.toLowerCase(), sourceHost: body.move.sourceHost, allowSameHost: body.move.allowSameHost ?? false };
    if (body.move.targetHost !== undefined) req.move.targetHost = body.move.targetHost;
  }
  return req;
}

/** A multi-create: up to 100 instances placed all or nothing, each instance once. */
export function normaliseBatch(body: { requests: SelectRequestBody[] }): SelectRequest[] {
  const reqs = body.requests.map(normaliseSelect);
  if (new Set(reqs.map((r) => r.instanceUuid)).size !== reqs.length) throw new BadRequestError('each instance may appear once in a batch');
  if (reqs.some((r) => r.move)) throw new BadRequestError('a move is placed on its own, not in a batch');
  return reqs;
}

export type { SelectBatchRequest };
