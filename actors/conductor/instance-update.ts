/**
 * The `update` verb of an instance actor: rename, description, hostname, access addresses, Nova's
 * server metadata calls (replace all, merge, set or delete one key) and server tags (replace all,
 * add one, delete one). Run inside the instance's actor and written by compare-and-swap on
 * `version`, so it is serialised with the lifecycle and no concurrent change is lost.
 */
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, OverLimitError } from '../../protocols/errors.js';
import { fieldsOf, optBool, optInt, optStr, stringMap } from '../../protocols/validate.js';
import type { VmState } from '../../protocols/states.js';
import { MAX_MAP_BYTES, mapBytes } from '../../protocols/text.js';
import { isValidTag, MAX_TAGS, uniqueTags } from '../../protocols/server-fields.js';
import { addressFields } from './address-fields.js';
import { Instance, type InstanceRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';

/** Nova's `@check_instance_state` for metadata changes. */
const METADATA_VM_STATES: readonly VmState[] = ['active', 'paused', 'suspended', 'stopped'];
/** Nova's server_tags.py `_check_instance_in_valid_state` (the same four states upstream). */
const TAG_VM_STATES: readonly VmState[] = ['active', 'paused', 'suspended', 'stopped'];
const NAME = /^[^\x00-\x1f\x7f]+$/;
const DESCRIPTION = /^[^\x00-\x1f\x7f]*$/;

const FIELDS = [
  'name', 'setMetadata', 'mergeMetadata', 'deleteMetadataKey', 'maxMetadataItems',
  'setTags', 'addTag', 'deleteTag', 'description', 'clearDescription', 'hostname', 'accessIPv4', 'accessIPv6',
] as const;

type Changes = Partial<InstanceRow>;

function invalidState(row: InstanceRow, action: string): ConflictError {
  return new ConflictError(`Cannot '${action}' instance ${row.uuid} while it is in vm_state ${row.vmState}`);
}

function metadataChange(row: InstanceRow, o: Record<string, unknown>): Record<string, string> | undefined {
  if (o.setMetadata === undefined && o.mergeMetadata === undefined && o.deleteMetadataKey === undefined) return undefined;
  if (!METADATA_VM_STATES.includes(row.vmState)) throw invalidState(row, 'update_metadata');
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
  return metadata;
}

const tag = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || !isValidTag(v)) throw new BadRequestError(`Tag '${String(v)}' is invalid. It must be a non empty string without characters '/' and ',' (${what}).`);
  return v;
};

/** The tags after the change, or undefined when the body asks for none. Nova's order of checks: state, then count. */
function tagsChange(row: InstanceRow, o: Record<string, unknown>): string[] | undefined {
  const current = row.tags ?? [];
  if (o.setTags !== undefined && o.setTags !== null) {
    if (!Array.isArray(o.setTags)) throw new BadRequestError("'setTags' must be an array");
    if (!TAG_VM_STATES.includes(row.vmState)) throw invalidState(row, o.setTags.length === 0 ? 'delete tags' : 'update tags');
    const tags = uniqueTags(o.setTags.map((t) => tag(t, 'setTags')));
    if (tags.length > MAX_TAGS) throw new BadRequestError(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
    return tags;
  }
  if (o.addTag !== undefined && o.addTag !== null) {
    if (!TAG_VM_STATES.includes(row.vmState)) throw invalidState(row, 'update tag');
    const t = tag(o.addTag, 'addTag');
    // As Nova: a full server refuses even a tag it already has.
    if (current.length >= MAX_TAGS) throw new BadRequestError(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
    return current.includes(t) ? current : [...current, t];
  }
  if (o.deleteTag !== undefined && o.deleteTag !== null) {
    if (!TAG_VM_STATES.includes(row.vmState)) throw invalidState(row, 'delete tag');
    const t = tag(o.deleteTag, 'deleteTag');
    if (!current.includes(t)) throw new NotFoundError(`Instance ${row.uuid} has no tag '${t}'.`);
    return current.filter((x) => x !== t);
  }
  return undefined;
}

/** Name, description, hostname and access addresses (`PUT /servers/{id}`): no state guard, as Nova. */
function fieldChanges(o: Record<string, unknown>): Changes {
  const changes: Changes = {};
  const name = optStr(o, 'name', { pattern: NAME });
  if (name !== undefined) changes.name = name;
  const description = optStr(o, 'description', { min: 0, max: 255, pattern: DESCRIPTION });
  if (description !== undefined) changes.description = description;
  if (optBool(o, 'clearDescription') === true) {
    if (description !== undefined) throw new BadRequestError("'description' and 'clearDescription' exclude each other");
    changes.description = null;
  }
  const addr = addressFields(o);
  if (addr.hostname !== undefined) changes.hostname = addr.hostname;
  if (addr.accessIPv4 !== undefined) changes.accessIpV4 = addr.accessIPv4;
  if (addr.accessIPv6 !== undefined) changes.accessIpV6 = addr.accessIPv6;
  return changes;
}

export async function updateInstance(orm: Orm, row: InstanceRow, body: Record<string, unknown>, now: Date): Promise<InstanceRow> {
  const o = fieldsOf(body, FIELDS, 'update');
  const changes = fieldChanges(o);
  const metadata = metadataChange(row, o);
  if (metadata !== undefined) changes.metadata = metadata;
  const tags = tagsChange(row, o);
  if (tags !== undefined) {
    // Adding a tag the server has already writes nothing (Nova's 204).
    const same = tags.length === (row.tags ?? []).length && tags.every((t, i) => t === row.tags[i]);
    if (same && Object.keys(changes).length === 0) return row;
    if (!same) changes.tags = tags;
  }
  if (Object.keys(changes).length === 0) {
    if (tags !== undefined) return row;
    throw new BadRequestError('nothing to update');
  }
  const n = await orm.em.fork().nativeUpdate(Instance, { uuid: row.uuid, version: row.version }, { ...changes, updatedAt: now, version: row.version + 1 });
  if (n !== 1) throw new ConflictError(`Instance ${row.uuid} changed concurrently; retry`);
  return { ...row, ...changes, updatedAt: now, version: row.version + 1 };
}
