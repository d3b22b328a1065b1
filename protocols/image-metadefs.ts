/**
 * Glance's metadata definitions catalog (metadefs), as pure data: a namespace is one document holding
 * its objects, property definitions, tags and resource type associations, and every change is a pure
 * step on that document (`applyMetadefChange`) the image role runs under the namespace's row lock. The
 * shapes are Glance's (snake_case, as the REST API shows them). No I/O.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from './errors.js';

const NO_CONTROL = '^[^\\u0000-\\u001f\\u007f-\\u009f/]*$';
const Name = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: NO_CONTROL });
const Text = (max: number) => Type.String({ maxLength: max });
const Opt = <T extends TSchema>(s: T) => Type.Optional(s);
const Strict = <P extends Record<string, TSchema>>(p: P) => Type.Object(p, { additionalProperties: false });

/** Glance's namespace, object and property names are at most 80 characters; tags 255. */
export const NamespaceName = Name(80);
const PROPERTY_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'] as const;
const Scalar = Type.Union([Type.String({ maxLength: 255 }), Type.Number(), Type.Boolean(), Type.Null()]);

/** A property definition (Glance's `PropertyType`): a small JSON-schema subset. */
const PropertyFields = {
  title: Text(255),
  type: Type.Union(PROPERTY_TYPES.map((t) => Type.Literal(t))),
  description: Opt(Text(4096)),
  default: Opt(Type.Union([Scalar, Type.Array(Scalar, { maxItems: 256 })])),
  enum: Opt(Type.Array(Scalar, { maxItems: 256 })),
  minimum: Opt(Type.Number()),
  maximum: Opt(Type.Number()),
  minLength: Opt(Type.Integer({ minimum: 0 })),
  maxLength: Opt(Type.Integer({ minimum: 0 })),
  pattern: Opt(Text(1024)),
  readonly: Opt(Type.Boolean()),
  operators: Opt(Type.Array(Text(255), { maxItems: 16 })),
  items: Opt(Strict({ type: Opt(Type.Union(PROPERTY_TYPES.map((t) => Type.Literal(t)))), enum: Opt(Type.Array(Scalar, { maxItems: 256 })) })),
  uniqueItems: Opt(Type.Boolean()),
  minItems: Opt(Type.Integer({ minimum: 0 })),
  maxItems: Opt(Type.Integer({ minimum: 0 })),
  additionalItems: Opt(Type.Boolean()),
};
export const PropertyDefSchema = Strict(PropertyFields);
export const PropertyCreateSchema = Strict({ name: Name(255), ...PropertyFields });
export type PropertyDef = Static<typeof PropertyDefSchema>;

const PropertyMap = Type.Record(Type.String({ pattern: '^[^\\u0000-\\u001f/]{1,255}$' }), PropertyDefSchema, { maxProperties: 256 });

export const ObjectCreateSchema = Strict({
  name: Name(80),
  description: Opt(Text(4096)),
  required: Opt(Type.Array(Name(255), { maxItems: 256 })),
  properties: Opt(PropertyMap),
});

export const TagCreateSchema = Strict({ name: Name(255) });
export const TagsCreateSchema = Strict({ tags: Type.Array(TagCreateSchema, { maxItems: 1000 }) });

export const AssociationCreateSchema = Strict({
  name: Name(80),
  prefix: Opt(Text(80)),
  properties_target: Opt(Text(80)),
});

const Visibility = Type.Union([Type.Literal('public'), Type.Literal('private')]);
/** A namespace's own fields (its contents aside). */
const NamespaceFields = {
  namespace: NamespaceName,
  display_name: Opt(Text(80)),
  description: Opt(Text(500)),
  visibility: Opt(Visibility),
  protected: Opt(Type.Boolean()),
  owner: Opt(Name(255)),
};
export const NamespaceCreateSchema = Strict({
  ...NamespaceFields,
  properties: Opt(PropertyMap),
  objects: Opt(Type.Array(ObjectCreateSchema, { maxItems: 256 })),
  tags: Opt(Type.Array(TagCreateSchema, { maxItems: 1000 })),
  resource_type_associations: Opt(Type.Array(AssociationCreateSchema, { maxItems: 64 })),
});
/** Glance's update is a full PUT of the namespace's own fields (its contents are left alone). */
export const NamespaceUpdateSchema = Strict({
  ...NamespaceFields,
  // Read-only fields a client echoes back from a GET: accepted and ignored, as Glance does.
  created_at: Opt(Text(64)), updated_at: Opt(Text(64)), schema: Opt(Text(255)), self: Opt(Text(1024)),
});

type Stamped = { created_at: string; updated_at: string };
export type MetadefObject = Static<typeof ObjectCreateSchema> & Stamped;
export type MetadefTag = { name: string } & Stamped;
export type MetadefAssociation = Static<typeof AssociationCreateSchema> & Stamped;

/** One namespace as stored (the image role keeps it as one JSON document). */
export interface MetadefNamespace extends Stamped {
  namespace: string;
  display_name?: string;
  description?: string;
  visibility: 'public' | 'private';
  protected: boolean;
  owner: string;
  properties: Record<string, PropertyDef>;
  objects: Record<string, MetadefObject>;
  tags: Record<string, MetadefTag>;
  resource_type_associations: Record<string, MetadefAssociation>;
}

/** The resource types Glance knows from the start; associating a namespace with a new name adds it. */
export const BUILTIN_RESOURCE_TYPES = ['OS::Glance::Image', 'OS::Cinder::Volume', 'OS::Nova::Flavor', 'OS::Nova::Aggregate', 'OS::Nova::Server'] as const;

/** The kinds of content inside a namespace, and the document key each lives under. */
export const METADEF_KINDS = { object: 'objects', property: 'properties', tag: 'tags', association: 'resource_type_associations' } as const;
export type MetadefKind = keyof typeof METADEF_KINDS;

/** A change to one namespace (or its creation): what the API asks the image role to apply. */
export type MetadefChange =
  | { action: 'create-namespace'; value: unknown }
  | { action: 'update-namespace'; value: unknown }
  | { action: 'delete-namespace' }
  | { action: 'create'; kind: MetadefKind; value: unknown }
  | { action: 'update'; kind: 'object' | 'property' | 'tag'; name: string; value: unknown }
  | { action: 'delete'; kind: MetadefKind; name: string }
  /** Every object, property or tag of the namespace (`DELETE …/objects` etc.). */
  | { action: 'delete-all'; kind: 'object' | 'property' | 'tag' }
  /** `POST …/tags`: replaces every tag with the given ones (`append` keeps the old ones). */
  | { action: 'replace-tags'; value: unknown; append?: boolean };

/** A namespace document a namespace JSON body this large would not fit a NATS message. */
export const MAX_NAMESPACE_BYTES = 512 * 1024;

export function checked<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  const first = Value.Errors(schema, value).First();
  const where = first?.path ? ` (at ${first.path})` : '';
  throw new BadRequestError(`Provided object does not match schema '${what}': ${first?.message ?? 'invalid'}${where}`);
}

const KEY_OF = (v: unknown) => (v as { name: string }).name;

function addAll<T extends { name: string }>(into: Record<string, T & Stamped>, items: T[], now: string, what: string): void {
  for (const item of items) {
    if (Object.hasOwn(into, item.name)) throw new ConflictError(`A metadata definition ${what} with name=${item.name} already exists.`);
    into[item.name] = { ...item, created_at: now, updated_at: now };
  }
}

/** A new namespace from Glance's create body (`owner` defaults to the caller's project). */
export function newNamespace(value: unknown, owner: string, now: string): MetadefNamespace {
  const b = checked(NamespaceCreateSchema, value, 'namespace');
  const ns: MetadefNamespace = {
    namespace: b.namespace,
    ...(b.display_name !== undefined ? { display_name: b.display_name } : {}),
    ...(b.description !== undefined ? { description: b.description } : {}),
    visibility: b.visibility ?? 'private',
    protected: b.protected ?? false,
    owner: b.owner ?? owner,
    properties: { ...(b.properties ?? {}) },
    objects: {}, tags: {}, resource_type_associations: {},
    created_at: now, updated_at: now,
  };
  addAll(ns.objects, (b.objects ?? []).map((o) => ({ ...o, required: o.required ?? [], properties: o.properties ?? {} })), now, 'object');
  addAll(ns.tags, b.tags ?? [], now, 'tag');
  addAll(ns.resource_type_associations, b.resource_type_associations ?? [], now, 'resource type association');
  return ns;
}

const noItem = (kind: MetadefKind, name: string, ns: string) =>
  new NotFoundError(`Metadata definition ${kind === 'association' ? 'resource type association' : kind} not found for namespace=${ns} and name=${name}`);

/**
 * Applies `c` to `ns` (a copy is changed and answered): the new document, or undefined when the
 * namespace is deleted, and the item the change produced (what the REST reply shows).
 */
export function applyMetadefChange(ns: MetadefNamespace, c: MetadefChange, now: string): { doc: MetadefNamespace | undefined; item?: unknown } {
  const doc: MetadefNamespace = structuredClone(ns);
  const guard = () => {
    if (doc.protected) throw new ForbiddenError(`Namespace ${doc.namespace} is protected and cannot be deleted.`);
  };
  switch (c.action) {
    case 'create-namespace':
      throw new ConflictError(`Namespace ${ns.namespace} already exists`);
    case 'delete-namespace':
      guard();
      return { doc: undefined };
    case 'update-namespace': {
      const b = checked(NamespaceUpdateSchema, c.value, 'namespace');
      doc.namespace = b.namespace;
      for (const k of ['display_name', 'description'] as const) {
        if (b[k] === undefined) delete doc[k];
        else doc[k] = b[k];
      }
      doc.visibility = b.visibility ?? doc.visibility;
      doc.protected = b.protected ?? doc.protected;
      doc.owner = b.owner ?? doc.owner;
      doc.updated_at = now;
      return { doc, item: doc };
    }
    case 'create': {
      const schema = { object: ObjectCreateSchema, property: PropertyCreateSchema, tag: TagCreateSchema, association: AssociationCreateSchema }[c.kind];
      const v = checked(schema, c.value, c.kind) as { name: string };
      const into = doc[METADEF_KINDS[c.kind]] as Record<string, unknown>;
      if (Object.hasOwn(into, v.name)) throw new ConflictError(`A metadata definition ${c.kind} with name=${v.name} already exists in namespace=${doc.namespace}.`);
      if (c.kind === 'property') {
        const { name: _n, ...def } = v as Static<typeof PropertyCreateSchema>;
        into[v.name] = def;
        return { doc: touch(doc, now), item: { name: v.name, ...def } };
      }
      const withDefaults = c.kind === 'object' ? { required: [], properties: {}, ...v } : v;
      const item = { ...withDefaults, created_at: now, updated_at: now };
      into[v.name] = item;
      return { doc: touch(doc, now), item };
    }
    case 'update': {
      const into = doc[METADEF_KINDS[c.kind]] as Record<string, Record<string, unknown>>;
      const old = Object.hasOwn(into, c.name) ? into[c.name] : undefined;
      if (!old) throw noItem(c.kind, c.name, doc.namespace);
      const schema = { object: ObjectCreateSchema, property: PropertyCreateSchema, tag: TagCreateSchema }[c.kind];
      const v = checked(schema, c.value, c.kind) as { name: string };
      if (v.name !== c.name && Object.hasOwn(into, v.name)) throw new ConflictError(`A metadata definition ${c.kind} with name=${v.name} already exists in namespace=${doc.namespace}.`);
      delete into[c.name];
      if (c.kind === 'property') {
        const { name: _n, ...def } = v as Static<typeof PropertyCreateSchema>;
        into[v.name] = def;
        return { doc: touch(doc, now), item: { name: v.name, ...def } };
      }
      const item = { ...(c.kind === 'object' ? { required: [], properties: {} } : {}), ...v, created_at: old.created_at as string, updated_at: now };
      into[v.name] = item;
      return { doc: touch(doc, now), item };
    }
    case 'delete': {
      guard();
      const into = doc[METADEF_KINDS[c.kind]] as Record<string, unknown>;
      if (!Object.hasOwn(into, c.name)) throw noItem(c.kind, c.name, doc.namespace);
      delete into[c.name];
      return { doc: touch(doc, now) };
    }
    case 'delete-all':
      guard();
      doc[METADEF_KINDS[c.kind]] = {};
      return { doc: touch(doc, now) };
    case 'replace-tags': {
      const b = checked(TagsCreateSchema, c.value, 'tags');
      const names = b.tags.map(KEY_OF);
      if (new Set(names).size !== names.length) throw new ConflictError('A metadata definition tag appears twice in the request.');
      if (!c.append) doc.tags = {};
      addAll(doc.tags, b.tags, now, 'tag');
      return { doc: touch(doc, now), item: { tags: b.tags.map((t) => ({ name: t.name })) } };
    }
  }
}

function touch(doc: MetadefNamespace, now: string): MetadefNamespace {
  doc.updated_at = now;
  return doc;
}

/** Who may see a namespace: public ones everyone, private ones their owner's project (and admins). */
export function canSeeNamespace(viewer: { projectId?: string | null; isAdmin?: boolean | null }, ns: { visibility: string; owner: string }): boolean {
  return viewer.isAdmin === true || ns.visibility === 'public' || ns.owner === viewer.projectId;
}
