/**
 * Small validators for request bodies: each returns the typed value or throws BadRequestError naming
 * the field. Bodies are validated at the edge, before any actor or database sees them.
 */
import { BadRequestError } from './errors.js';

type Obj = Record<string, unknown>;

export function fieldsOf(body: unknown, allowed: readonly string[], what: string): Obj {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError(`${what} must be an object`);
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new BadRequestError(`${what}: unknown field(s) ${extra.join(', ')}`);
  return body as Obj;
}

export function str(o: Obj, key: string, opts: { min?: number; max?: number; pattern?: RegExp } = {}): string {
  const v = o[key];
  if (typeof v !== 'string') throw new BadRequestError(`'${key}' must be a string`);
  const min = opts.min ?? 1;
  const max = opts.max ?? 255;
  if (v.length < min || v.length > max) throw new BadRequestError(`'${key}' must be ${min}-${max} characters`);
  if (opts.pattern && !opts.pattern.test(v)) throw new BadRequestError(`'${key}' has an invalid format`);
  return v;
}

export function optStr(o: Obj, key: string, opts: { min?: number; max?: number; pattern?: RegExp } = {}): string | undefined {
  return o[key] === undefined || o[key] === null ? undefined : str(o, key, opts);
}

export function int(o: Obj, key: string, opts: { min?: number; max?: number } = {}): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new BadRequestError(`'${key}' must be an integer`);
  const min = opts.min ?? 0;
  const max = opts.max ?? 2 ** 31 - 1;
  if (v < min || v > max) throw new BadRequestError(`'${key}' must be between ${min} and ${max}`);
  return v;
}

export function optInt(o: Obj, key: string, opts: { min?: number; max?: number } = {}): number | undefined {
  return o[key] === undefined || o[key] === null ? undefined : int(o, key, opts);
}

export function optBool(o: Obj, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new BadRequestError(`'${key}' must be a boolean`);
  return v;
}

export function stringMap(o: Obj, key: string, maxItems = 128): Record<string, string> {
  const v = o[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadRequestError(`'${key}' must be an object of strings`);
  const entries = Object.entries(v as Obj);
  if (entries.length > maxItems) throw new BadRequestError(`'${key}' has more than ${maxItems} items`);
  for (const [k, val] of entries) {
    if (k.length < 1 || k.length > 255 || typeof val !== 'string' || val.length > 255) {
      throw new BadRequestError(`'${key}' keys and values must be strings of at most 255 characters`);
    }
  }
  return v as Record<string, string>;
}

export function oneOf<T extends string>(o: Obj, key: string, values: readonly T[], fallback?: T): T {
  const v = o[key] ?? fallback;
  if (typeof v !== 'string' || !values.includes(v as T)) throw new BadRequestError(`'${key}' must be one of ${values.join(', ')}`);
  return v as T;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}
