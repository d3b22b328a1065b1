/**
 * Glance's image update: a JSON-patch (`application/openstack-images-v2.1-json-patch`) applied to an
 * image's mutable attributes and free-form properties. Pure: the image actor applies the result by
 * compare-and-swap, so two concurrent patches never interleave.
 *
 * Glance's rules kept here: read-only attributes (status, checksum, size, …) and reserved names
 * (`os_glance_*`) answer 403; core attributes cannot be removed (403); disk and container formats
 * change only while the image is queued (403); replacing or removing a property that does not exist
 * is a 409; at most 128 properties (values of at most 255 characters, 128 KiB in all) and 128 tags.
 */
import { BadRequestError, ConflictError, ForbiddenError, OverLimitError } from './errors.js';
import type { ImageMeta, ImageStatus } from './resources.js';
import { MAX_MAP_BYTES, mapBytes } from './text.js';
import { CONTAINER_FORMATS, DISK_FORMATS, checkFormats } from './image-formats.js';

export interface ImagePatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** The attributes a patch may change. Formats are '' while unset (Glance's null). */
export interface MutableImage {
  name: string;
  visibility: ImageMeta['visibility'];
  minDisk: number;
  minRam: number;
  protected: boolean;
  osHidden: boolean;
  tags: string[];
  diskFormat: string;
  containerFormat: string;
  owner: string | null;
  properties: Record<string, string>;
}

export const READ_ONLY_ATTRIBUTES = [
  'id', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size', 'created_at', 'updated_at',
  'file', 'self', 'schema', 'direct_url', 'locations', 'stores',
] as const;
export const CORE = ['name', 'visibility', 'min_disk', 'min_ram', 'protected', 'os_hidden', 'tags', 'disk_format', 'container_format', 'owner'] as const;
export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export const MAX_PROPERTIES = 128;
export const MAX_TAGS = 128;
export const MAX_PROPERTY_VALUE = 255;
const MAX_INT = 2 ** 31 - 1;

/** Why an attribute may not be set by a user, or undefined when it may. */
export function forbiddenAttribute(name: string): string | undefined {
  if ((READ_ONLY_ATTRIBUTES as readonly string[]).includes(name)) return `Attribute '${name}' is read-only.`;
  if (name.startsWith('os_glance')) return `Attribute '${name}' is reserved.`;
  return undefined;
}

/** A property name from a one-level JSON pointer (`/name`, with `~1` for `/` and `~0` for `~`). */
function attributeOf(path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.length < 2) throw new BadRequestError(`Invalid JSON pointer for this resource: '${String(path)}'`);
  const parts = path.slice(1).split('/');
  if (parts.length !== 1) throw new BadRequestError(`Invalid JSON pointer for this resource: '${path}'`);
  const name = parts[0]!.replace(/~1/g, '/').replace(/~0/g, '~');
  if (name.length === 0 || name.length > 255) throw new BadRequestError(`Invalid JSON pointer for this resource: '${path}'`);
  return name;
}

/**
 * Glance's two patch dialects: `v2.1` is RFC 6902 (`{"op": "replace", "path": "/name", "value": …}`);
 * the older `v2.0` names the operation by its key (`{"replace": "/name", "value": …}`), which is what
 * Tempest's image client sends.
 */
export type PatchDialect = 'v2.0' | 'v2.1';
const OPS = ['add', 'replace', 'remove'] as const;

/** A v2.0 operation in RFC 6902 form (checked like any other afterwards). */
function fromV20(o: Record<string, unknown>): Record<string, unknown> {
  const named = OPS.filter((k) => k in o);
  if (named.length !== 1 || 'op' in o || 'path' in o) throw new BadRequestError('Operation objects must contain exactly one member named "add", "remove", or "replace".');
  const { [named[0]!]: path, ...rest } = o;
  return { op: named[0], path, ...rest };
}

export function parsePatchOps(body: unknown, dialect: PatchDialect = 'v2.1'): ImagePatchOp[] {
  if (!Array.isArray(body)) throw new BadRequestError('Request body must be a JSON array of operation objects.');
  if (body.length > 1000) throw new BadRequestError('Too many operations in one patch.');
  return body.map((raw) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BadRequestError('Operations must be JSON objects.');
    const o = dialect === 'v2.0' ? fromV20(raw as Record<string, unknown>) : (raw as Record<string, unknown>);
    const extra = Object.keys(o).filter((k) => k !== 'op' && k !== 'path' && k !== 'value');
    if (extra.length > 0) throw new BadRequestError(`Operation objects may not contain ${extra.join(', ')}.`);
    if (o.op !== 'add' && o.op !== 'replace' && o.op !== 'remove') {
      throw new BadRequestError(`Operation objects must contain exactly one member named "add", "remove", or "replace".`);
    }
    if (o.op !== 'remove' && !('value' in o)) throw new BadRequestError(`Operation "${o.op}" requires a member named "value".`);
    attributeOf(o.path);
    const op: ImagePatchOp = { op: o.op, path: o.path as string };
    if ('value' in o) op.value = o.value;
    return op;
  });
}

function nonNegativeInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_INT) throw new BadRequestError(`Invalid value for '${name}': must be an integer between 0 and ${MAX_INT}.`);
  return v;
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new BadRequestError(`Invalid value for '${name}': must be a boolean.`);
  return v;
}

/** A property value: a string of at most 255 characters, as Nova's image metadata and Glance's own properties. */
export function checkPropertyValue(name: string, v: unknown): void {
  if (typeof v !== 'string' || v.length > MAX_PROPERTY_VALUE) {
    throw new BadRequestError(`Invalid value for property '${name}': must be a string of at most ${MAX_PROPERTY_VALUE} characters.`);
  }
}

/** At most 128 properties, and a byte bound on them all, so one image stays a few hundred KB at most. */
export function checkPropertyVolume(properties: Record<string, string>): void {
  const n = Object.keys(properties).length;
  if (n > MAX_PROPERTIES) throw new OverLimitError(`Maximum number of image properties exceeded: ${n} of ${MAX_PROPERTIES}.`);
  if (mapBytes(properties) > MAX_MAP_BYTES) throw new OverLimitError(`Image properties exceed ${MAX_MAP_BYTES} bytes.`);
}

export function validTags(v: unknown): string[] {
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string' || t.length < 1 || t.length > 255)) {
    throw new BadRequestError("Invalid value for 'tags': must be a list of strings of 1-255 characters.");
  }
  const tags = [...new Set(v as string[])];
  if (tags.length > MAX_TAGS) throw new OverLimitError(`Maximum number of tags exceeded: ${tags.length} of ${MAX_TAGS}.`);
  return tags;
}

/** Sets one core attribute (add and replace behave alike on them, as in Glance). */
function setCore(img: MutableImage, name: (typeof CORE)[number], v: unknown, status: ImageStatus): void {
  switch (name) {
    case 'name':
      if (v !== null && (typeof v !== 'string' || v.length > 255)) throw new BadRequestError("Invalid value for 'name': must be a string of at most 255 characters.");
      img.name = (v as string | null) ?? '';
      return;
    case 'visibility':
      if (!(VISIBILITIES as readonly unknown[]).includes(v)) throw new BadRequestError(`Invalid value for 'visibility': must be one of ${VISIBILITIES.join(', ')}.`);
      img.visibility = v as MutableImage['visibility'];
      return;
    case 'min_disk':
      img.minDisk = nonNegativeInt(name, v);
      return;
    case 'min_ram':
      img.minRam = nonNegativeInt(name, v);
      return;
    case 'protected':
      img.protected = bool(name, v);
      return;
    case 'os_hidden':
      img.osHidden = bool(name, v);
      return;
    case 'tags':
      img.tags = validTags(v);
      return;
    case 'owner':
      if (v !== null && (typeof v !== 'string' || v.length > 64)) throw new BadRequestError("Invalid value for 'owner': must be a project id of at most 64 characters.");
      img.owner = v as string | null;
      return;
    case 'disk_format':
    case 'container_format': {
      if (status !== 'queued') throw new ForbiddenError(`Attribute ${name} can be only replaced for a queued image.`);
      const allowed: readonly string[] = name === 'disk_format' ? DISK_FORMATS : CONTAINER_FORMATS;
      if (v !== null && (typeof v !== 'string' || !allowed.includes(v))) throw new BadRequestError(`Invalid value for '${name}': must be one of ${allowed.join(', ')}.`);
      if (name === 'disk_format') img.diskFormat = (v as string | null) ?? '';
      else img.containerFormat = (v as string | null) ?? '';
      return;
    }
  }
}

/** The image after applying `ops` in order; throws the typed error of the first operation that fails. */
export function applyImagePatch(current: MutableImage, ops: ImagePatchOp[], status: ImageStatus): MutableImage {
  const img: MutableImage = { ...current, tags: [...current.tags], properties: { ...current.properties } };
  for (const op of ops) {
    const name = attributeOf(op.path);
    const why = forbiddenAttribute(name);
    if (why) throw new ForbiddenError(why);
    if ((CORE as readonly string[]).includes(name)) {
      if (op.op === 'remove') throw new ForbiddenError(`Attribute '${name}' cannot be removed.`);
      setCore(img, name as (typeof CORE)[number], op.value, status);
      continue;
    }
    const exists = Object.hasOwn(img.properties, name);
    if (op.op === 'remove' || op.op === 'replace') {
      if (!exists) throw new ConflictError(`Property ${name} does not exist.`);
    }
    if (op.op === 'remove') {
      delete img.properties[name];
      continue;
    }
    checkPropertyValue(name, op.value);
    img.properties[name] = op.value as string;
  }
  checkPropertyVolume(img.properties);
  if (img.diskFormat !== '' && img.containerFormat !== '') checkFormats(img.diskFormat, img.containerFormat);
  return img;
}
