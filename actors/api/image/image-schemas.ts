/**
 * Glance's JSON-schema documents for what the image API answers (`GET /v2/schemas/image`, `…/images`):
 * the attributes of glanceImage (image-views.ts), free-form properties as extra string members; and
 * the metadefs' (`…/metadefs/*`), made from the very schemas their bodies are checked against.
 */
import { DISK_FORMATS, CONTAINER_FORMATS } from '../../../protocols/image-formats.js';
import { VISIBILITIES } from '../../../protocols/image-patch.js';
import { AssociationCreateSchema, NamespaceCreateSchema, ObjectCreateSchema, PropertyCreateSchema, TagCreateSchema } from '../../../protocols/image-metadefs.js';
import { reader } from '../policy.js';
import type { Route } from '../routes.js';

const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: ['null', 'string'], description, ...extra });
const READ_ONLY = { readOnly: true };

const IMAGE_PROPERTIES: Record<string, unknown> = {
  id: { type: 'string', description: 'An identifier for the image', pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$' },
  name: str('Descriptive name for the image', { maxLength: 255 }),
  status: { type: 'string', readOnly: true, description: 'Status of the image', enum: ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated'] },
  visibility: { type: 'string', description: 'Scope of image accessibility', enum: [...VISIBILITIES] },
  protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
  os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
  checksum: str('md5 hash of image contents.', { ...READ_ONLY, maxLength: 32 }),
  os_hash_algo: str('Algorithm to calculate the os_hash_value', { ...READ_ONLY, maxLength: 64 }),
  os_hash_value: str('Hexdigest of the image contents using the algorithm specified by the os_hash_algo', { ...READ_ONLY, maxLength: 128 }),
  owner: str('Owner of the image', { maxLength: 255 }),
  size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
  virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
  min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
  min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
  disk_format: str('Format of the disk', { enum: [null, ...DISK_FORMATS] }),
  container_format: str('Format of the container', { enum: [null, ...CONTAINER_FORMATS] }),
  created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
  updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification' },
  tags: { type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255 } },
  self: { type: 'string', readOnly: true, description: 'An image self url' },
  file: { type: 'string', readOnly: true, description: 'An image file url' },
  schema: { type: 'string', readOnly: true, description: 'An image schema url' },
};

const IMAGE_LINKS = [{ rel: 'self', href: '{self}' }, { rel: 'enclosure', href: '{file}' }, { rel: 'describedby', href: '{schema}' }];

export const IMAGE_SCHEMA = {
  name: 'image',
  properties: IMAGE_PROPERTIES,
  additionalProperties: { type: 'string' },
  links: IMAGE_LINKS,
};

export const IMAGES_SCHEMA = {
  name: 'images',
  properties: {
    images: { type: 'array', items: { type: 'object', name: 'image', properties: IMAGE_PROPERTIES, additionalProperties: { type: 'string' }, links: IMAGE_LINKS } },
    schema: { type: 'string' },
    first: { type: 'string' },
    next: { type: 'string' },
  },
  links: [{ rel: 'first', href: '{first}' }, { rel: 'next', href: '{next}' }, { rel: 'describedby', href: '{schema}' }],
};

const MEMBER_PROPERTIES: Record<string, unknown> = {
  created_at: { type: 'string', description: 'Date and time of image member creation' },
  image_id: { type: 'string', description: 'An identifier for the image', pattern: (IMAGE_PROPERTIES.id as { pattern: string }).pattern },
  member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
  status: { type: 'string', description: 'The status of this image member', enum: ['pending', 'accepted', 'rejected'] },
  updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
  schema: { type: 'string', readOnly: true },
};

export const MEMBER_SCHEMA = { name: 'member', properties: MEMBER_PROPERTIES };

export const MEMBERS_SCHEMA = {
  name: 'members',
  properties: { members: { type: 'array', items: { name: 'member', properties: MEMBER_PROPERTIES } }, schema: { type: 'string' } },
  links: [{ rel: 'describedby', href: '{schema}' }],
};

/** A TypeBox schema as plain JSON Schema (its symbols dropped), named as Glance names its documents. */
const named = (name: string, schema: unknown, extra: Record<string, unknown> = {}) => {
  const plain = JSON.parse(JSON.stringify(schema)) as { properties: Record<string, unknown> };
  return { name, ...plain, properties: { ...plain.properties, ...extra } };
};
const STAMPS = { created_at: { type: 'string', readOnly: true, format: 'date-time' }, updated_at: { type: 'string', readOnly: true, format: 'date-time' } };
const LINKS = { schema: { type: 'string', readOnly: true }, self: { type: 'string', readOnly: true } };
const listOf = (name: string, item: Record<string, unknown>, key = name) =>
  ({ name, properties: { [key]: { type: 'array', items: item }, schema: { type: 'string' }, first: { type: 'string' }, next: { type: 'string' } } });

const MD_NAMESPACE = named('namespace', NamespaceCreateSchema, { ...STAMPS, ...LINKS });
const MD_OBJECT = named('object', ObjectCreateSchema, { ...STAMPS, ...LINKS });
const MD_PROPERTY = named('property', PropertyCreateSchema);
const MD_TAG = named('tag', TagCreateSchema, STAMPS);
const MD_ASSOCIATION = named('resource_type_association', AssociationCreateSchema, STAMPS);
export const METADEF_SCHEMAS: Record<string, unknown> = {
  namespace: MD_NAMESPACE, namespaces: listOf('namespaces', MD_NAMESPACE),
  object: MD_OBJECT, objects: listOf('objects', MD_OBJECT),
  property: MD_PROPERTY, properties: { name: 'properties', properties: { properties: { type: 'object', additionalProperties: MD_PROPERTY } } },
  tag: MD_TAG, tags: listOf('tags', MD_TAG),
  resource_type: MD_ASSOCIATION, resource_types: listOf('resource_type_associations', MD_ASSOCIATION),
};

export function imageSchemaRoutes(): Route[] {
  return [
    ...Object.entries(METADEF_SCHEMAS).map(([name, doc]): Route => ({ method: 'GET', url: `/image/v2/schemas/metadefs/${name}`, policy: reader('get_metadef_schema'), handler: async () => doc })),
    { method: 'GET', url: '/image/v2/schemas/image', policy: reader('get_image'), handler: async () => IMAGE_SCHEMA },
    { method: 'GET', url: '/image/v2/schemas/images', policy: reader('get_images'), handler: async () => IMAGES_SCHEMA },
    { method: 'GET', url: '/image/v2/schemas/member', policy: reader('get_member'), handler: async () => MEMBER_SCHEMA },
    { method: 'GET', url: '/image/v2/schemas/members', policy: reader('get_members'), handler: async () => MEMBERS_SCHEMA },
  ];
}
