/** Schema building blocks shared by the catalog: bounded names, ids, maps, resources. No I/O. */
import { Type, type TSchema } from '@sinclair/typebox';

/** No C0/C1 control characters (NUL, CR, LF …): they break headers, logs and PostgreSQL. */
const NO_CONTROL = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$';

export const Name = (maxLength = 255) => Type.String({ maxLength, pattern: NO_CONTROL });
export const NonEmptyName = (maxLength = 255) => Type.String({ minLength: 1, maxLength, pattern: NO_CONTROL });
/** A token usable in a subject (a host name, an id). */
export const SubjectToken = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^.*>\\s\\u0000-\\u001f\\u007f-\\u009f]+$' });
export const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
export const ProjectId = NonEmptyName(64);
export const Int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });
/** Epoch milliseconds (a sender's clock: informative only, never trusted for liveness). */
export const EpochMs = Type.Number({ minimum: 0, maximum: 8.64e15 });
export const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/**
 * A map of strings. The key bound is a pattern: TypeBox turns a Record's key schema into
 * `patternProperties` and drops a key's `maxLength`, so only a pattern (with unknown keys refused)
 * bounds keys at all.
 */
export const StringMap = (maxProperties = 128, keyMax = 255, valueMax = 65_535) =>
  Type.Record(Type.String({ pattern: `^[\\s\\S]{0,${keyMax}}$` }), Type.String({ maxLength: valueMax }), { maxProperties, additionalProperties: false });

/**
 * Nova's metadata shapes, shared by the REST schemas (Fastify validates TypeBox's JSON Schema) and
 * the catalog: server metadata and flavor extra specs (Nova's `metadata` parameter type) ...
 */
export const METADATA_KEY_PATTERN = '^[a-zA-Z0-9-_:. ]{1,255}$';
export const MetadataMap = (bounds: { minProperties?: number; maxProperties?: number } = {}) =>
  Type.Record(Type.String({ pattern: METADATA_KEY_PATTERN }), Type.String({ maxLength: 255 }), { ...bounds, additionalProperties: false });
/** ... and aggregate metadata, whose keys may hold `/` and whose `null` values unset a key. */
export const AGGREGATE_METADATA_KEY_PATTERN = '^[a-zA-Z0-9-_:. /]{1,255}$';
export const AggregateMetadataMap = (bounds: { maxProperties?: number } = {}) =>
  Type.Record(Type.String({ pattern: AGGREGATE_METADATA_KEY_PATTERN }), Type.Union([Name(255), Type.Null()]), { ...bounds, additionalProperties: false });

/** Capacity bounds (C4): a report beyond them is a lie or a bug, dropped either way. */
export const MAX_VCPUS = 4096;
export const MAX_MEMORY_MB = 64 * 1024 * 1024; // 64 TiB
export const MAX_DISK_GB = 1_000_000; // 1 PB
export const MAX_RUNNING_VMS = 100_000;

export const Resources = Type.Object(
  { VCPU: Int(0, MAX_VCPUS), MEMORY_MB: Int(0, MAX_MEMORY_MB), DISK_GB: Int(0, MAX_DISK_GB) },
  { additionalProperties: false },
);

/** A server tag (protocols/server-fields.ts): 1–60 characters, no `/` or `,`. */
export const Tag = Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/\\u0000-\\u001f\\u007f-\\u009f]*$' });
export const Tags = Type.Array(Tag, { maxItems: 50 });

/** A closed object: unknown fields are refused, as the hand-written parsers did. */
export const Closed = <T extends Record<string, TSchema>>(props: T) => Type.Object(props, { additionalProperties: false });
/** An empty body (reads that take no arguments); extra fields are ignored. */
export const Empty = Type.Object({});
/** A reply whose shape this catalog does not pin down (yet): any JSON object. */
export const AnyObject = Type.Object({}, { additionalProperties: true });

/** An optional field that may also be sent as `null` (the hand-written parsers treated both as absent). */
export const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
