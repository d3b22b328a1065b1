/**
 * Glance's interoperable image import, as pure rules: the import request body, which import method
 * an image may take in which status, and the `web-download` URL filter. novact fetches nothing a
 * tenant names unless an operator's allow-list says so: only http(s), no credentials in the URL,
 * and the host (or `host:port`) must be on the list, checked again at every redirect. No I/O.
 */
import { Type, type Static } from '@sinclair/typebox';
import { BadRequestError, ConflictError } from './errors.js';
import { checked } from './image-metadefs.js';
import type { ImageStatus } from './resources.js';

export const IMPORT_METHODS = ['glance-direct', 'web-download', 'copy-image'] as const;
export type ImportMethod = (typeof IMPORT_METHODS)[number];

const StoreId = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_-]+$' });
export const ImportBodySchema = Type.Object({
  method: Type.Object({
    name: Type.Union(IMPORT_METHODS.map((m) => Type.Literal(m))),
    uri: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  }, { additionalProperties: false }),
  stores: Type.Optional(Type.Array(StoreId, { minItems: 1, maxItems: 16 })),
  all_stores: Type.Optional(Type.Boolean()),
  all_stores_must_succeed: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type ImportBody = Static<typeof ImportBodySchema>;

/** What the image actor's `import` verb is asked (stores resolved against the configured ones). */
export interface ImportJob {
  method: ImportMethod;
  uri?: string;
  stores: string[];
  /** `all_stores`: the stores that already have the data are skipped (copy-image), not an error. */
  allStores: boolean;
  allStoresMustSucceed: boolean;
}

/** Checks Glance's body and resolves its stores: `all_stores`, the given ones, or the default. */
export function importJob(raw: unknown, known: readonly string[], defaultStore: string): ImportJob {
  const b = checked(ImportBodySchema, raw, 'import');
  const method = b.method.name;
  if (method === 'web-download' && b.method.uri === undefined) throw new BadRequestError("The 'web-download' method needs a 'uri'.");
  if (method !== 'web-download' && b.method.uri !== undefined) throw new BadRequestError(`URI is only supported with method 'web-download'.`);
  if (b.all_stores && b.stores) throw new BadRequestError('all_stores and stores are mutually exclusive.');
  const stores = b.all_stores ? [...known] : b.stores ?? [defaultStore];
  for (const s of stores) if (!known.includes(s)) throw new ConflictError(`Unknown scheme '${s}' found in store`);
  return { method, ...(b.method.uri !== undefined ? { uri: b.method.uri } : {}), stores: [...new Set(stores)], allStores: b.all_stores ?? false, allStoresMustSucceed: b.all_stores_must_succeed ?? true };
}

/** The status each method starts from (Glance's import_image checks). */
export function checkImportStatus(method: ImportMethod, status: ImageStatus, staged: boolean): void {
  if (method === 'copy-image') {
    if (status !== 'active') throw new ConflictError('Only images with status active can be targeted for copying');
    return;
  }
  if (status === 'active') throw new ConflictError('Image with status active cannot be target for import');
  if (method === 'web-download' && status !== 'queued') throw new ConflictError("Image needs to be in 'queued' state to use 'web-download' method");
  if (method === 'glance-direct' && (status !== 'uploading' || !staged)) throw new ConflictError("Image needs to be staged before 'glance-direct' method can be used");
}

/**
 * True when `uri` may be fetched: http or https, no user or password, and its host (lower case) or
 * `host:port` on `allow`. An empty list allows nothing.
 */
export function webDownloadAllowed(uri: string, allow: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  if (u.username !== '' || u.password !== '') return false;
  const host = u.hostname.toLowerCase();
  return allow.some((a) => {
    const entry = a.toLowerCase();
    return entry === host || entry === u.host.toLowerCase();
  });
}

export const refusedUri = (uri: string) => new BadRequestError(`URI for web-download does not pass filtering: ${uri.slice(0, 256)}`);
