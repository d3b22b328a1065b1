/**
 * JSON-schema pieces for the server fields users set, shared by create and update, and Nova's
 * microversion gate for them: a field the requested microversion does not know yet is a 400, as
 * Nova's per-version schemas answer it.
 */
import { HOSTNAME_MAX, HOSTNAME_MIN, HOSTNAME_PATTERN, MAX_TAG_LENGTH, MAX_TAGS, TAG_PATTERN } from '../../../protocols/server-fields.js';
import { badRequest } from '../faults.js';
import { atLeast, type Microversion } from '../microversion.js';

/** Nova's `description` (2.19): printable text, or null to clear it. */
export const DESCRIPTION = { type: ['string', 'null'], maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*$' } as const;
/** Nova 2.90's `hostname` (protocols/server-fields.ts). */
export const HOSTNAME = { type: 'string', minLength: HOSTNAME_MIN, maxLength: HOSTNAME_MAX, pattern: HOSTNAME_PATTERN } as const;
/** Fields a microversion must reach before a body may carry them (Nova adds them to the schema there). */
export const FIELD_VERSIONS: Record<string, number> = { description: 19, hostname: 90 };

/** Nova's schema error for a field its microversion does not know yet. */
export function refuseNewerFields(mv: Microversion, where: string, body: Record<string, unknown>, versions: Record<string, number>): void {
  const early = Object.keys(body).find((k) => versions[k] !== undefined && !atLeast(mv, versions[k]!));
  if (early) throw badRequest(`Invalid input for field/attribute ${where}. Additional properties are not allowed ('${early}' was unexpected)`);
}

/** One tag (`parameter_types.tag`) and a server's list of them. */
export const TAG = { type: 'string', minLength: 1, maxLength: MAX_TAG_LENGTH, pattern: TAG_PATTERN } as const;
export const TAGS = { type: 'array', maxItems: MAX_TAGS, items: TAG } as const;
/** Create's fields by the microversion that added them. */
export const CREATE_FIELD_VERSIONS: Record<string, number> = { description: 19, tags: 52, hostname: 90 };
