/** JSON-schema pieces the identity routes share, and Keystone's boolean query filters. */
import { badRequest } from '../faults.js';

export const NAME = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\x00-\\x1f\\x7f]+$' } as const;
export const LONG_NAME = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]+$' } as const;
export const TEXT = { type: ['string', 'null'], maxLength: 65535, pattern: '^[^\\x00]*$' } as const;
export const ID_REF = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\x00-\\x1f\\x7f/]+$' } as const;

/** `?enabled=`: Keystone reads false, 0, no (any case) as false, anything else as true. */
export function enabledFilter(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v.length > 16) throw badRequest('Invalid enabled filter.');
  return !['false', '0', 'no', 'off'].includes(v.toLowerCase());
}
