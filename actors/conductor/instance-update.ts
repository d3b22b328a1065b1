/**
 * The `update` verb of an instance actor: rename, and Nova's server metadata calls (replace all,
 * merge, set or delete one key). Run inside the instance's actor and written by compare-and-swap on
 * `version`, so it is serialised with the lifecycle and no concurrent change is lost.
 */
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, OverLimitError } from '../../protocols/errors.js';
import { fieldsOf, optInt, optStr, stringMap } from '../../protocols/validate.js';
import type { VmState } from '../../protocols/states.js';
import { MAX_MAP_BYTES, mapBytes } from '../../protocols/text.js';
import { Instance, type InstanceRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';

/** Nova's `@check_instance_state` for metadata changes. */
const METADATA_VM_STATES: readonly VmState[] = ['active', 'paused', 'suspended', 'stopped'];
const NAME = /^[^\x00-\x1f\x7f]+$/;

export async function updateInstance(orm: Orm, row: InstanceRow, body: Record<string, unknown>, now: Date): Promise<InstanceRow> {
  const o = fieldsOf(body, ['name', 'setMetadata', 'mergeMetadata', 'deleteMetadataKey', 'maxMetadataItems'], 'update');
  const changes: Partial<InstanceRow> = {};
  const name = optStr(o, 'name', { pattern: NAME });
  if (name !== undefined) changes.name = name;
  const touchesMetadata = o.setMetadata !== undefined || o.mergeMetadata !== undefined || o.deleteMetadataKey !== undefined;
  if (touchesMetadata) {
    if (!METADATA_VM_STATES.includes(row.vmState)) {
      throw new ConflictError(`Cannot 'update_metadata' instance ${row.uuid} while it is in vm_state ${row.vmState}`);
    }
    let metadata = o.setMetadata !== undefined ? stringMap(o, 'setMetadata') : { ...row.metadata };
    if (o.mergeMetadata !== undefined) metadata = { ...metadata, ...stringMap(o, 'mergeMetadata') };
    const del = optStr(o, 'deleteMetadataKey');
    if (del !== undefined) {
      if (!Object.hasOwn(metadata, del)) throw new NotFoundError('Metadata item was not found');
      delete metadata[del];
    }
    const max = optInt(o, 'maxMetadataItems', { min: -1 }) ?? -1;
    const count = Object.keys(metadata).length;
    if (max >= 0 && count > max) throw new ForbiddenError(`Quota exceeded for metadata_items: Requested ${count}, but the limit is ${max}.`);
    // Bounded in bytes too, whatever the quota says (-1 included): one server's row stays small.
    if (mapBytes(metadata) > MAX_MAP_BYTES) throw new OverLimitError(`Server metadata exceeds ${MAX_MAP_BYTES} bytes.`);
    changes.metadata = metadata;
  }
  if (Object.keys(changes).length === 0) throw new BadRequestError('nothing to update');
  const n = await orm.em.fork().nativeUpdate(Instance, { uuid: row.uuid, version: row.version }, { ...changes, updatedAt: now, version: row.version + 1 });
  if (n !== 1) throw new ConflictError(`Instance ${row.uuid} changed concurrently; retry`);
  return { ...row, ...changes, updatedAt: now, version: row.version + 1 };
}
